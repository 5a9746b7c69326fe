"""Profile index and profile loading: shipped profiles, file and http indexes, rendering, live reload, errors."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediaplane.services.encore.profiles.loader import (
    MAX_BYTES,
    ProfileError,
    UnknownProfileError,
    check_profile,
    list_profiles,
    load_profile,
    profile_from_text,
)
from mediaplane.services.encore.profiles.model import (
    AudioEncode,
    Profile,
    SimpleAudioEncode,
    ThumbnailEncode,
    ThumbnailMapEncode,
    VideoEncode,
    X264Encode,
    X265Encode,
)
from mediaplane.services.encore.schemas.job import EncoreJob

SHIPPED_NAMES = {"program", "program-x265", "archive", "audio"}

SMALL = """name: small
description: #{profileParams['description'] ?: 'small profile'}
encodes:
  - type: X264Encode
    suffix: #{profileParams['suffix'] ?: '_small'}
    height: #{profileParams['height'] ?: 240}
    params:
      r: #{profileParams['fps'] ?: 25}
      b:v: #{profileParams['fps'] > 30 ? '900k' : '600k'}
      level: 4.10
    x264-params:
      deblock: 1:1
      bframes: 010
"""


def _job(**params: Any) -> dict[str, Any]:
    return {"profile": "small", "baseName": "film", "profileParams": params}


def _outputs(profile: Profile) -> list[str]:
    names = []
    for encode in profile.encodes:
        if isinstance(encode, AudioEncode | SimpleAudioEncode | ThumbnailMapEncode):
            names.append(f"{encode.output_suffix}.{encode.format}")
        elif isinstance(encode, ThumbnailEncode):
            names.append(encode.suffix)
        else:
            names.append(f"{encode.suffix}.{encode.format}")
    return names


# -- shipped profiles


@pytest.mark.parametrize("url", [None, "", "  ", "classpath:profiles.yml", "classpath:/profile/profiles.yml"])
async def test_shipped_index(url: str | None) -> None:
    index = await list_profiles(url)
    assert set(index) == SHIPPED_NAMES | {"none"}
    assert index["none"] is None
    assert index["program"] == "program.yml"


@pytest.mark.parametrize("name", sorted(SHIPPED_NAMES))
async def test_every_shipped_profile_validates(name: str) -> None:
    profile = await load_profile(None, name, {"profileParams": {}})
    assert profile.name == name
    outputs = _outputs(profile)
    assert len(outputs) == len(set(outputs))
    assert await check_profile("classpath:profiles.yml", name) == profile


async def test_shipped_program_ladder() -> None:
    profile = await load_profile(None, "program", _job())
    videos = [e for e in profile.encodes if isinstance(e, X264Encode)]
    assert [(v.suffix, v.height) for v in videos] == [
        ("_x264_3100", 1080),
        ("_x264_2069", 720),
        ("_x264_1312", 540),
        ("_x264_806", 360),
        ("_x264_324", 234),
    ]
    assert all(v.two_pass for v in videos)
    assert [v.audio_encode.bitrate for v in videos if v.audio_encode] == ["128k", "128k", "96k", "96k", "96k"]
    assert videos[0].params["level"] == "4.1"
    assert videos[0].params["profile:v"] == "high"
    assert videos[0].params["force_key_frames"] == "expr:not(mod(n,96))"
    assert videos[3].params["b:v"] == "806121"
    assert videos[4].params["profile:v"] == "baseline"
    assert videos[4].codec_params["cabac"] == "0"
    assert videos[4].codec_params["8x8dct"] == "0"
    assert "bframes" not in videos[4].codec_params
    assert videos[0].codec_params["deblock"] == "0,0"
    kinds = [type(e) for e in profile.encodes[5:]]
    assert kinds == [AudioEncode, ThumbnailMapEncode, ThumbnailEncode]
    assert isinstance(profile.encodes[5], AudioEncode)
    assert profile.encodes[5].output_suffix == "_STEREO"


async def test_shipped_program_injects_keyframes() -> None:
    keyframes = "expr:not(mod(n,96))+eq(n,1500)+eq(n,2250)"
    profile = await load_profile(None, "program", _job(keyframes=keyframes))
    for encode in profile.encodes[:5]:
        assert isinstance(encode, X264Encode)
        assert encode.params["force_key_frames"] == keyframes


async def test_shipped_archive_defaults_and_params() -> None:
    default = (await load_profile(None, "archive", _job())).encodes[0]
    assert isinstance(default, VideoEncode)
    assert (default.codec, default.format, default.height, default.suffix) == ("dnxhd", "mxf", 1080, "_archive")
    assert default.params == {"profile:v": "dnxhr_hq", "pix_fmt": "yuv422p"}
    assert isinstance(default.audio_encode, SimpleAudioEncode)
    assert default.audio_encode.codec == "pcm_s24le"
    custom = (await load_profile(None, "archive", _job(height=720, suffix="_raw"))).encodes[0]
    assert isinstance(custom, VideoEncode)
    assert (custom.height, custom.suffix) == (720, "_raw")


async def test_shipped_x265_and_audio() -> None:
    x265 = await load_profile(None, "program-x265", _job())
    assert [e.height for e in x265.encodes if isinstance(e, X265Encode)] == [1080, 720, 360]
    audio = await load_profile(None, "audio", _job())
    assert _outputs(audio) == ["_aac_stereo.mp4", "_aac.mp4"]


async def test_job_model_as_context() -> None:
    job = EncoreJob.model_validate(
        {
            "profile": "archive",
            "outputFolder": "/out",
            "baseName": "clip",
            "profileParams": {"height": 480},
            "inputs": [{"type": "AudioVideo", "uri": "/in.mp4"}],
        }
    )
    encode = (await load_profile(None, "archive", job)).encodes[0]
    assert isinstance(encode, VideoEncode)
    assert encode.height == 480


# -- file indexes


def _write(path: Path, content: str | bytes) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def _write_index(folder: Path, index: str, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yml").write_text(index)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder / "profiles.yml"


@pytest.fixture
def file_index(tmp_path: Path) -> Path:
    return _write_index(
        tmp_path / "profiles",
        "small: sub/small.yml\nbroken: broken.yml\nnone:\n",
        {"sub/small.yml": SMALL, "broken.yml": "name: broken\nencodes:\n  - type: X264Encode\n    height: 10\n"},
    )


@pytest.mark.parametrize("form", ["path", "file_url", "file_url_localhost"])
async def test_file_index_with_relative_files(file_index: Path, form: str) -> None:
    url = {
        "path": str(file_index),
        "file_url": file_index.as_uri(),
        "file_url_localhost": f"file://localhost{file_index}",
    }
    index = await list_profiles(url[form])
    assert index == {"small": "sub/small.yml", "broken": "broken.yml", "none": None}
    profile = await load_profile(url[form], "small", _job())
    assert profile.name == "small"
    assert profile.description == "small profile"


async def test_profile_params_rendered(file_index: Path) -> None:
    default = (await load_profile(str(file_index), "small", _job())).encodes[0]
    assert isinstance(default, X264Encode)
    assert (default.suffix, default.height, default.params["r"], default.params["b:v"]) == ("_small", 240, "25", "600k")
    custom = (await load_profile(str(file_index), "small", _job(suffix="_hd", height=720, fps=50))).encodes[0]
    assert isinstance(custom, X264Encode)
    assert (custom.suffix, custom.height, custom.params["r"], custom.params["b:v"]) == ("_hd", 720, "50", "900k")


async def test_yaml_scalars_kept_as_written(file_index: Path) -> None:
    encode = (await load_profile(str(file_index), "small", _job())).encodes[0]
    assert isinstance(encode, X264Encode)
    assert encode.params["level"] == "4.10"
    assert encode.codec_params == {"deblock": "1:1", "bframes": "010"}


async def test_live_reload(file_index: Path) -> None:
    first = await load_profile(str(file_index), "small", _job())
    profile_file = file_index.parent / "sub" / "small.yml"
    _write(profile_file, SMALL.replace("height: #{profileParams['height'] ?: 240}", "height: 360"))
    second = await load_profile(str(file_index), "small", _job())
    assert isinstance(first.encodes[0], X264Encode)
    assert isinstance(second.encodes[0], X264Encode)
    assert (first.encodes[0].height, second.encodes[0].height) == (240, 360)
    _write(file_index, "renamed: sub/small.yml\n")
    assert await list_profiles(str(file_index)) == {"renamed": "sub/small.yml"}
    with pytest.raises(UnknownProfileError):
        await load_profile(str(file_index), "small", _job())


async def test_unknown_profile_lists_known(file_index: Path) -> None:
    with pytest.raises(UnknownProfileError, match=r"unknown profile 'nope'; known profiles: broken, none, small"):
        await load_profile(str(file_index), "nope", _job())
    with pytest.raises(ProfileError, match="'none' has no profile file"):
        await load_profile(str(file_index), "none", _job())
    with pytest.raises(ProfileError, match="known profiles: archive, audio, none, program, program-x265"):
        await load_profile(None, "x264-1080p-slow", _job())


async def test_invalid_profile_names_the_field(file_index: Path) -> None:
    with pytest.raises(ProfileError, match=r"encodes\[0\]\.X264Encode\.suffix: Field required") as caught:
        await load_profile(str(file_index), "broken", _job())
    assert "'broken'" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nencodes: [", "invalid YAML"),
        ("- a\n- b\n", "a profile is a mapping"),
        ("", "a profile is a mapping"),
        ("name: x\nencodes: []\n", "encodes: List should have at least 1 item"),
        ("name: x\nencodes:\n  - type: Nope\n", "encodes[0]: Input tag 'Nope'"),
        ("name: x\nencodes:\n  - type: ThumbnailEncode\n    quality: 99\n", "ThumbnailEncode.quality"),
        ("name: #{T(java.lang.Runtime)}\n", "template error: type references are not supported"),
        ("name: #{profileParams['a'] ?: 1 > 'b' }\n", "template error: cannot compare"),
        ("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
         for p, c in zip("abcdefgh", "bcdefghi", strict=True)), "document too large"),
        ("[" * 5000, "nested too deeply"),
        ("name: x\nencodes: !!python/object:os.system {}\n", "invalid YAML"),
    ],
)  # fmt: skip
def test_invalid_profile_text(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        profile_from_text(text, _job())
    assert message in str(caught.value)


def test_json_profile_text() -> None:
    text = '{"name": "j", "encodes": [{"type": "AudioEncode", "bitrate": "#{profileParams[\'b\'] ?: \'96k\'}"}]}'
    profile = profile_from_text(text, _job(), filename="j.json")
    assert isinstance(profile.encodes[0], AudioEncode)
    assert profile.encodes[0].bitrate == "96k"
    with pytest.raises(ProfileError, match="invalid JSON"):
        profile_from_text("{", _job(), filename="j.json")


async def test_json_index(tmp_path: Path) -> None:
    _write(tmp_path / "index.json", '{"audio": "a.json", "none": null}')
    _write(tmp_path / "a.json", '{"name": "audio", "encodes": [{"type": "SimpleAudioEncode"}]}')
    assert await list_profiles(str(tmp_path / "index.json")) == {"audio": "a.json", "none": None}
    profile = await load_profile(str(tmp_path / "index.json"), "audio", _job())
    assert isinstance(profile.encodes[0], SimpleAudioEncode)


@pytest.mark.parametrize("ref", ["../secret.yml", "sub/../../secret.yml", "/etc/passwd", "file:///etc/passwd", ".."])
async def test_traversal_refused(tmp_path: Path, ref: str) -> None:
    _write(tmp_path / "secret.yml", SMALL)
    index = _write_index(tmp_path / "profiles", f"evil: {ref}\n", {})
    with pytest.raises(ProfileError, match="inside the index's folder"):
        await load_profile(str(index), "evil", _job())


async def test_symlink_out_of_folder_refused(tmp_path: Path) -> None:
    _write(tmp_path / "secret.yml", SMALL)
    index = _write_index(tmp_path / "profiles", "evil: link.yml\n", {})
    (tmp_path / "profiles" / "link.yml").symlink_to(tmp_path / "secret.yml")
    with pytest.raises(ProfileError, match="outside the profiles folder"):
        await load_profile(str(index), "evil", _job())


async def test_classpath_stays_in_shipped_folder() -> None:
    with pytest.raises(ProfileError, match=r"could not read classpath:nope\.yml"):
        await list_profiles("classpath:../../nope.yml")


@pytest.mark.parametrize(
    "url",
    ["relative/profiles.yml", "ftp://example.org/p.yml", "s3://bucket/p.yml", "file://host/x.yml", "http://[::1"],
)
async def test_unsupported_locations(url: str) -> None:
    with pytest.raises(ProfileError):
        await list_profiles(url)


async def test_missing_and_oversized_files(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="could not read"):
        await list_profiles(str(tmp_path / "missing.yml"))
    big = tmp_path / "big.yml"
    _write(big, "# " + "x" * MAX_BYTES + "\n")
    with pytest.raises(ProfileError, match="larger than"):
        await list_profiles(str(big))
    _write(tmp_path / "bad.yml", b"a: \xff\n")
    with pytest.raises(ProfileError, match="not UTF-8"):
        await list_profiles(str(tmp_path / "bad.yml"))
    _write(tmp_path / "list.yml", "- a\n")
    with pytest.raises(ProfileError, match="maps profile names"):
        await list_profiles(str(tmp_path / "list.yml"))


# -- http indexes


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/moved/"):
            self.send_response(302)
            self.send_header("Location", "/" + self.path.removeprefix("/moved/"))
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_http_index_relative_files_and_live_reload(http_root: tuple[str, Path]) -> None:
    base, root = http_root
    _write_index(root / "encore", "small: p/small.yml\nother: ../elsewhere/small.yml\nnone:\n", {"p/small.yml": SMALL})
    _write_index(root / "elsewhere", "", {"small.yml": SMALL.replace("name: small", "name: elsewhere")})
    url = f"{base}/encore/profiles.yml"
    assert await list_profiles(url) == {"small": "p/small.yml", "other": "../elsewhere/small.yml", "none": None}
    first = await load_profile(url, "small", _job(height=480))
    assert isinstance(first.encodes[0], X264Encode)
    assert first.encodes[0].height == 480
    # http profile files resolve as URLs do, as Encore's URL resources do
    assert (await load_profile(url, "other", _job())).name == "elsewhere"
    _write(root / "encore" / "p" / "small.yml", SMALL.replace("name: small", "name: changed"))
    assert (await load_profile(url, "small", _job())).name == "changed"


async def test_http_redirect_and_given_client(http_root: tuple[str, Path]) -> None:
    base, root = http_root
    _write_index(root, "small: small.yml\n", {"small.yml": SMALL})
    async with httpx.AsyncClient() as client:
        profile = await load_profile(f"{base}/moved/profiles.yml", "small", _job(), client=client)
    assert profile.name == "small"


async def test_http_errors(http_root: tuple[str, Path]) -> None:
    base, root = http_root
    _write_index(root, "gone: gone.yml\nlocal: file:///etc/passwd\n", {"big.yml": "#" * (MAX_BYTES + 10)})
    with pytest.raises(ProfileError, match="HTTP 404"):
        await list_profiles(f"{base}/missing.yml")
    with pytest.raises(ProfileError, match="HTTP 404"):
        await load_profile(f"{base}/profiles.yml", "gone", _job())
    with pytest.raises(ProfileError, match="only http"):
        await load_profile(f"{base}/profiles.yml", "local", _job())
    with pytest.raises(ProfileError, match="larger than"):
        await list_profiles(f"{base}/big.yml")


async def test_http_unreachable() -> None:
    with pytest.raises(ProfileError, match=r"could not read http://127\.0\.0\.1:9/"):
        await list_profiles("http://127.0.0.1:9/profiles.yml")
