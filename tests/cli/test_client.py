"""The HTTP client against httpx.MockTransport: headers sent, error bodies turned into CliError."""

from __future__ import annotations

import json

import httpx
import pytest

from mediaplane.cli.client import PlatformClient, error_message
from mediaplane.cli.errors import CliError


def response(status: int, body: object) -> httpx.Response:
    if isinstance(body, str):
        return httpx.Response(status, text=body)
    return httpx.Response(status, json=body)


class TestErrorMessage:
    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"reason": "Unknown service: x"}, "Unknown service: x"),
            ({"message": "bad profile"}, "bad profile"),
            ({"error": {"status": 404, "message": "no note"}}, "no note"),
            ("plain failure\n", "plain failure"),
            ("", "Bad Gateway"),
        ],
    )
    def test_bodies(self, body: object, message: str) -> None:
        assert error_message(response(502 if body == "" else 400, body)) == message


def platform(handler: httpx.MockTransport) -> PlatformClient:
    return PlatformClient("http://mp.test/", "the-pat", transport=handler)


class TestPlatformClient:
    def test_service_token_sends_the_pat_as_osc_does(self) -> None:
        seen: list[httpx.Request] = []

        def handle(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200, json={"serviceId": "notes", "token": "sat", "expiry": 1})

        with platform(httpx.MockTransport(handle)) as client:
            assert client.service_token("notes")["token"] == "sat"
        assert str(seen[0].url) == "http://mp.test/servicetoken"
        assert seen[0].headers["x-pat-jwt"] == "Bearer the-pat"
        assert json.loads(seen[0].content) == {"serviceId": "notes"}

    def test_instance_calls_use_the_catalog_api_url_and_the_sat(self) -> None:
        seen: list[httpx.Request] = []

        def handle(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            if request.url.path == "/catalog/notes":
                return httpx.Response(200, json={"serviceId": "notes", "apiUrl": "http://api.test/notesinstance"})
            if request.url.path == "/servicetoken":
                return httpx.Response(200, json={"serviceId": "notes", "token": "sat", "expiry": 1})
            return httpx.Response(200, json={"status": "running"})

        with platform(httpx.MockTransport(handle)) as client:
            assert client.instances("notes").health("a b") == {"status": "running"}
        last = seen[-1]
        assert last.url.raw_path == b"/notesinstance/a%20b/health"
        assert last.url.host == "api.test"
        assert last.headers["x-jwt"] == "Bearer sat"

    def test_error_answers_carry_the_status(self) -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(403, json={"reason": "admins only"}))
        with platform(transport) as client, pytest.raises(CliError) as caught:
            client.list_tenants()
        assert (caught.value.message, caught.value.status) == ("admins only", 403)
        assert str(caught.value) == "admins only (HTTP 403)"

    def test_transport_failures_are_cli_errors(self) -> None:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

        with platform(httpx.MockTransport(refuse)) as client, pytest.raises(CliError, match="Cannot reach"):
            client.catalog()

    def test_no_token_fails_before_any_request(self) -> None:
        def never(request: httpx.Request) -> httpx.Response:
            raise AssertionError("no request expected")

        with (
            PlatformClient("http://mp.test", None, transport=httpx.MockTransport(never)) as client,
            pytest.raises(CliError, match="No access token"),
        ):
            client.me()
