from __future__ import annotations

import pytest

from mediaplane.kit.rtmp import RtmpUrlError, parse_rtmp_url


class TestParse:
    def test_youtube(self) -> None:
        url = parse_rtmp_url("rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl")
        assert (url.scheme, url.host, url.port, url.app, url.name) == (
            "rtmp",
            "a.rtmp.youtube.com",
            1935,
            "live2",
            "abcd-efgh-ijkl",
        )
        assert url.tc_url == "rtmp://a.rtmp.youtube.com/live2"
        assert not url.tls

    def test_rtmps_defaults_to_port_443(self) -> None:
        url = parse_rtmp_url("rtmps://live-api-s.facebook.com/rtmp/FB-123-0-Ab")
        assert url.tls and url.port == 443
        assert url.tc_url == "rtmps://live-api-s.facebook.com/rtmp"

    def test_explicit_port_stays_in_tc_url(self) -> None:
        url = parse_rtmp_url("rtmp://127.0.0.1:19350/live/key")
        assert url.port == 19350 and url.tc_url == "rtmp://127.0.0.1:19350/live"
        assert str(url) == "rtmp://127.0.0.1:19350/live/key"

    def test_the_rest_of_the_path_and_the_query_are_the_stream_name(self) -> None:
        url = parse_rtmp_url("rtmp://live.twitch.tv/app/live_123_abc/extra?bandwidthtest=true")
        assert url.app == "app"
        assert url.name == "live_123_abc/extra?bandwidthtest=true"

    def test_explicit_application(self) -> None:
        url = parse_rtmp_url("rtmp://host/app/instance/key", app="app/instance")
        assert (url.app, url.name) == ("app/instance", "key")
        assert url.tc_url == "rtmp://host/app/instance"

    def test_ipv6_host(self) -> None:
        url = parse_rtmp_url("rtmp://[::1]:1936/live/key")
        assert url.host == "::1" and url.port == 1936
        assert url.tc_url == "rtmp://[::1]:1936/live"

    def test_redacted_hides_the_key(self) -> None:
        assert "secret" not in parse_rtmp_url("rtmp://h/live/secret").redacted()

    @pytest.mark.parametrize(
        "text",
        [
            "http://host/live/key",
            "rtmp:///live/key",
            "rtmp://host",
            "rtmp://host/live",
            "rtmp://host/live/",
            "rtmp://host:99999/live/key",
            "key",
        ],
    )
    def test_invalid(self, text: str) -> None:
        with pytest.raises(RtmpUrlError) as caught:
            parse_rtmp_url(text)
        assert caught.value.status_code == 400

    def test_explicit_application_must_match(self) -> None:
        with pytest.raises(RtmpUrlError):
            parse_rtmp_url("rtmp://host/other/key", app="app")
