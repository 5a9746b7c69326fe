"""The HTTP client of `mediaplane eyeson`: one eyeson instance, found through the platform, called with the
team's API key.

The platform's PAT only finds the instance (its URL and its options); eyeson's own API lives at the instance
URL's root (`{instance}rooms` ...) and takes the raw API key in `Authorization` (no `Bearer`), as eyeson's
clients send it. The key is `--api-key` (or MEDIAPLANE_EYESON_API_KEY) when given, else the instance's `apiKey`
option as the instance object shows it to its owner; `mediaplane eyeson rotate-key` sets a new one (PATCH on
the platform's instance API).

Imported on every CLI start: typer, httpx and the CLI's own helpers only, never the server side.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from mediaplane.cli.client import InstanceApi, ServiceClient, error_message
from mediaplane.cli.errors import CliError
from mediaplane.cli.state import CliState

SERVICE_ID = "eyeson"
JSON = dict[str, Any]
API_KEY_ENV = "MEDIAPLANE_EYESON_API_KEY"
KEY_CHARS = string.ascii_letters + string.digits
KEY_LENGTH = 42  # as the server generates them: alphanumeric, about 250 random bits


def instance_key(url: str) -> str:
    return url.rstrip("/") + "/"


def new_api_key() -> str:
    """A key of the form the instance's `apiKey` option accepts ([A-Za-z0-9]{24,64})."""
    return "".join(secrets.choice(KEY_CHARS) for _ in range(KEY_LENGTH))


def shown_key(value: Any) -> str | None:
    """The instance's `apiKey` as the platform shows it, None when it is masked (`********`) or missing."""
    if not isinstance(value, str) or not value.strip() or set(value) == {"*"}:
        return None
    return value.strip()


def segment(value: str) -> str:
    return quote(value, safe="")


class EyesonApi(ServiceClient):
    """One eyeson instance at `url` (the instance URL: the API is at its root)."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        key_hint: str = "pass --api-key",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(instance_key(url), transport=transport)
        self.instance_url = instance_key(url)
        self.api_key = api_key
        self._key_hint = key_hint

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, self.url(path), **kwargs)
        except httpx.ConnectError as exc:
            raise CliError(f"Cannot reach the eyeson instance at {self.instance_url} ({exc})") from exc
        except httpx.TimeoutException as exc:
            raise CliError(f"{method} {self.url(path)} timed out") from exc
        except httpx.HTTPError as exc:
            raise CliError(f"{method} {self.url(path)} failed: {exc}") from exc

    def _headers(self, keyed: bool) -> dict[str, str]:
        if not keyed:
            return {}
        if not self.api_key:
            raise CliError(f"No API key for the eyeson instance at {self.instance_url}: {self._key_hint}")
        return {"authorization": self.api_key}

    def call(
        self,
        method: str,
        path: str,
        *,
        form: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        keyed: bool = True,
    ) -> Any:
        """The JSON answer (None when there is no body); `keyed` sends the API key; `form` form-encoded, as
        eyeson's curl examples and its Go client send their parameters."""
        kwargs: dict[str, Any] = {"headers": self._headers(keyed)}
        if form is not None:
            kwargs["data"] = dict(form)
        if params is not None:
            kwargs["params"] = dict(params)
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and keyed:
            message = error_message(response)
            raise CliError(f"The API key was refused ({message}): {self._key_hint}", status=401)
        if response.is_error:
            raise CliError(error_message(response), status=response.status_code)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise CliError(f"{method} {self.url(path)} answered with a body that is not JSON") from exc

    def rooms(self) -> Any:
        return self.call("GET", "rooms")

    def join(self, form: Mapping[str, str]) -> Any:
        return self.call("POST", "rooms", form=form)

    def users(self, room_id: str, online: bool | None) -> Any:
        params = None if online is None else {"online": "true" if online else "false"}
        return self.call("GET", f"rooms/{segment(room_id)}/users", params=params)

    def say(self, access_key: str, kind: str, content: str) -> Any:
        form = {"type": kind, "content": content}
        return self.call("POST", f"rooms/{segment(access_key)}/messages", form=form, keyed=False)

    def stop(self, room_id: str) -> Any:
        return self.call("DELETE", f"rooms/{segment(room_id)}")

    def webhook(self) -> Any:
        return self.call("GET", "webhooks")

    def set_webhook(self, url: str, types: str) -> Any:
        return self.call("POST", "webhooks", form={"url": url, "types": types})

    def remove_webhook(self, webhook_id: str) -> Any:
        return self.call("DELETE", f"webhooks/{segment(webhook_id)}")


@dataclass(frozen=True)
class Found:
    """An eyeson instance as the platform gives it: its URL, and its API key when the platform shows it."""

    url: str
    api_key: str | None


@contextmanager
def platform(state: CliState) -> Iterator[tuple[InstanceApi, dict[str, str]]]:
    """The eyeson instance API of the caller's tenant (apiUrl from the catalog, a fresh SAT) and its headers."""
    with state.client() as client:
        api_url = client.service(SERVICE_ID).get("apiUrl") or f"{client.base_url}/{SERVICE_ID}instance"
        sat = str(client.service_token(SERVICE_ID)["token"])
        yield InstanceApi(client, SERVICE_ID, str(api_url).rstrip("/"), sat), {"x-jwt": f"Bearer {sat}"}


def found_in(name: str, instance: Any, api_key: str | None) -> Found:
    url = instance.get("url") if isinstance(instance, dict) else None
    if not isinstance(url, str) or not url:
        raise CliError(f"The eyeson instance {name} has no url")
    return Found(instance_key(url), api_key)


def find_instance(state: CliState, name: str) -> Found:
    """The eyeson instance `name` of the caller's tenant, found with the PAT (and a SAT) as `mediaplane
    describe` finds it."""
    with platform(state) as (instances, _headers):
        instance = instances.get(name)
    return found_in(name, instance, shown_key(instance.get("apiKey")))


def set_instance_key(state: CliState, name: str, key: str) -> Found:
    """Changes the instance's `apiKey` option: PATCH `{apiUrl}/{name}`, the platform's instance update."""
    with platform(state) as (instances, headers):
        url = f"{instances.api_url}/{segment(name)}"
        updated = instances.client.request_json("PATCH", url, headers=headers, json={"apiKey": key})
    return found_in(name, updated, key)


def key_hint(name: str) -> str:
    return (
        f"pass the instance's key with --api-key or {API_KEY_ENV}, or leave both out to use the one "
        f"`mediaplane describe eyeson {name}` shows; `mediaplane eyeson rotate-key {name}` gives it a new one"
    )


@contextmanager
def eyeson_api(state: CliState, name: str, api_key: str | None = None) -> Iterator[EyesonApi]:
    """The instance `name`, called with its API key (see the module's doc for where the key comes from)."""
    found = find_instance(state, name)
    key = (api_key or "").strip() or found.api_key
    with EyesonApi(found.url, api_key=key, key_hint=key_hint(name)) as api:
        yield api
