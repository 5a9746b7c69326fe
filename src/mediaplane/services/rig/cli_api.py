"""The HTTP client of `mediaplane rig`: one rig instance, found through the platform, called with a rig token.

The platform's PAT only finds the instance's URL; the rig API itself takes `Authorization: Bearer <JWT>` from
one of the instance's own accounts (`mediaplane rig login`). With MEDIAPLANE_RIG_USERNAME and
MEDIAPLANE_RIG_PASSWORD set, a missing or refused token is replaced by logging in on the spot.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from mediaplane.cli.client import InstanceApi, ServiceClient, error_message
from mediaplane.cli.errors import CliError
from mediaplane.cli.state import CliState
from mediaplane.services.rig.cli_tokens import SavedLogin, instance_key, save_login, saved_login

SERVICE_ID = "rig"
JSON = dict[str, Any]
USERNAME_ENV = "MEDIAPLANE_RIG_USERNAME"
PASSWORD_ENV = "MEDIAPLANE_RIG_PASSWORD"
INVALID_CREDENTIALS = 1003
INVALID_INPUT = 1005
CREATE_FAILED = 1006
FETCH_FAILED = 1008
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RigApiError(CliError):
    """An error answer in rig's envelope; `error_code` is rig's 1000-1009 code when the body had one."""

    def __init__(self, message: str, *, status: int, error_code: int | None, details: Any = None) -> None:
        super().__init__(message, status=status)
        self.error_code = error_code
        self.details = details


@dataclass(frozen=True)
class Reply:
    """rig's success envelope."""

    message: str
    payload: Any


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


def env_credentials(env: Mapping[str, str] | None = None) -> Credentials | None:
    env = os.environ if env is None else env
    username, password = env.get(USERNAME_ENV), env.get(PASSWORD_ENV)
    return Credentials(username, password) if username and password else None


def format_details(details: Any) -> str:
    """rig's per-field details (`{"password": ["less than min"]}`) as `password: less than min`."""
    if isinstance(details, dict):
        parts = []
        for key, value in details.items():
            text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
            parts.append(f"{key}: {text}")
        return "; ".join(parts)
    return json.dumps(details, separators=(",", ":"), default=str)


def rig_error(response: httpx.Response) -> RigApiError:
    """The envelope's message, its details after a colon; any other body as the platform's client reads it."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str) and "errorCode" in body:
        message = body["message"]
        details = body.get("details")
        if details not in (None, {}, []):
            message = f"{message}: {format_details(details)}"
        code = body["errorCode"] if isinstance(body["errorCode"], int) else None
        return RigApiError(message, status=response.status_code, error_code=code, details=details)
    return RigApiError(error_message(response), status=response.status_code, error_code=None)


class RigApi(ServiceClient):
    """One rig instance at `url`. Calls that need an account send its token; without one (or when it is refused
    with 1003) the `credentials`, if any, log in again once and `on_login` is told the new token."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        credentials: Credentials | None = None,
        on_login: Callable[[str, str], None] | None = None,
        login_hint: str = "log in first",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(instance_key(url), transport=transport)
        self.token = token
        self._credentials = credentials
        self._on_login = on_login
        self._login_hint = login_hint

    # -- transport -------------------------------------------------------------------------------

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
        if method in BODY_METHODS:
            # rig wants application/json on every call that may carry a body, even an empty one.
            headers = {**headers, "content-type": "application/json"}
            content = b"" if body is None else json.dumps(body).encode()
        else:
            content = None
        try:
            return self._http.request(method, self.url(path), content=content, headers=headers)
        except httpx.ConnectError as exc:
            raise CliError(f"Cannot reach the rig instance at {self.base_url} ({exc})") from exc
        except httpx.TimeoutException as exc:
            raise CliError(f"{method} {self.url(path)} timed out") from exc
        except httpx.HTTPError as exc:
            raise CliError(f"{method} {self.url(path)} failed: {exc}") from exc

    def _auth_headers(self) -> dict[str, str]:
        if self.token is None:
            if self._credentials is None:
                raise CliError(f"Not logged in to the rig instance at {self.base_url}: {self._login_hint}")
            self.login(self._credentials.username, self._credentials.password)
        return {"authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, body: Any = None, *, auth: bool = True, headers: Any = None) -> Reply:
        extra: dict[str, str] = dict(headers or {})
        fresh = auth and self.token is None  # a token logged in for this very call is not tried twice
        response = self._send(method, path, body, {**extra, **self._auth_headers()} if auth else extra)
        if auth and self._refused(response):
            if self._credentials is None:
                raise RigApiError(
                    f"Invalid credentials: the saved rig token was refused; {self._login_hint}",
                    status=response.status_code,
                    error_code=INVALID_CREDENTIALS,
                )
            if not fresh:
                self.login(self._credentials.username, self._credentials.password)
                response = self._send(method, path, body, {**extra, **self._auth_headers()})
        if response.is_error:
            raise rig_error(response)
        try:
            data = response.json()
        except ValueError as exc:
            raise CliError(f"{method} {self.url(path)} answered with a body that is not JSON") from exc
        if not isinstance(data, dict) or "payload" not in data:
            raise CliError(f"{method} {self.url(path)} answered without rig's {{message, payload}} envelope")
        return Reply(str(data.get("message") or ""), data["payload"])

    @staticmethod
    def _refused(response: httpx.Response) -> bool:
        if response.status_code != 401:
            return False
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("errorCode") == INVALID_CREDENTIALS

    # -- accounts --------------------------------------------------------------------------------

    def signup(self, username: str, email: str, password: str, *, headers: Mapping[str, str] | None = None) -> Reply:
        body = {"username": username, "password": password, "email": email}
        return self.call("POST", "accounts/", body, auth=False, headers=headers)

    def login(self, username: str, password: str) -> Reply:
        """Trades a username and password for a token, kept for the next calls and told to `on_login`."""
        reply = self.call("POST", "accounts/auth/local", {"username": username, "password": password}, auth=False)
        token = reply.payload.get("token") if isinstance(reply.payload, dict) else None
        if not isinstance(token, str) or not token:
            raise CliError(f"POST {self.url('accounts/auth/local')} answered without a token")
        self.token = token
        if self._on_login is not None:
            self._on_login(username, token)
        return reply

    def change_password(self, old: str, new: str) -> Reply:
        return self.call("POST", "accounts/password", {"oldPassword": old, "newPassword": new})

    # -- streams ----------------------------------------------------------------------------------

    def streams(self) -> Reply:
        return self.call("GET", "streams/")

    def create_stream(self) -> Reply:
        return self.call("POST", "streams/")

    def on_stream(
        self, method: str, stream_id: str, rest: str = "", body: Any = None, *, destination_id: int | None = None
    ) -> Reply:
        """A call about one stream (or one of its destinations); rig's bare "not found" gets said which."""
        path = f"streams/{segment(stream_id)}" + rest
        try:
            return self.call(method, path, body)
        except RigApiError as exc:
            raise explained(exc, stream_id, destination_id) from None

    def stream(self, stream_id: str) -> Reply:
        return self.on_stream("GET", stream_id)

    def change_key(self, stream_id: str) -> Reply:
        return self.on_stream("POST", stream_id, "/changeKey")

    def set_stream_active(self, stream_id: str, active: bool) -> Reply:
        return self.on_stream("PATCH", stream_id, body={"isActive": active})

    def delete_stream(self, stream_id: str) -> Reply:
        return self.on_stream("DELETE", stream_id)

    # -- destinations ----------------------------------------------------------------------------

    def destinations(self, stream_id: str) -> Reply:
        return self.on_stream("GET", stream_id, "/destination")

    def add_destination(self, stream_id: str, body: JSON) -> Reply:
        return self.on_stream("POST", stream_id, "/destination", body)

    def update_destination(self, stream_id: str, destination_id: int, body: JSON) -> Reply:
        return self.on_stream("PATCH", stream_id, f"/destination/{destination_id}", body, destination_id=destination_id)

    def remove_destination(self, stream_id: str, destination_id: int) -> Reply:
        return self.on_stream("DELETE", stream_id, f"/destination/{destination_id}", destination_id=destination_id)


def explained(error: RigApiError, stream_id: str, destination_id: int | None) -> RigApiError:
    """rig answers an unknown stream or destination with 1008 and another account's stream with a bare 1005."""
    if error.error_code == FETCH_FAILED:
        what = (
            f"stream {stream_id}" if destination_id is None else f"stream {stream_id} or destination {destination_id}"
        )
        hint = f"No {what} in this account"
    elif error.error_code == INVALID_INPUT and error.details is None:
        hint = f"Stream {stream_id} belongs to another account"
    else:
        return error
    message = f"{hint} ({error.message})"
    return RigApiError(message, status=error.status or 400, error_code=error.error_code, details=error.details)


def segment(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class Found:
    """A rig instance as the platform gives it: its URL, and the SAT it was found with."""

    url: str
    sat: str

    @property
    def owner_headers(self) -> dict[str, str]:
        """What the instance owner sends to sign people up when the instance's sign-up is closed."""
        return {"x-jwt": f"Bearer {self.sat}"}


def find_instance(state: CliState, name: str) -> Found:
    """The rig instance `name` of the caller's tenant, found with the PAT (and a SAT) as `mediaplane describe`."""
    with state.client() as client:
        api_url = client.service(SERVICE_ID).get("apiUrl") or f"{client.base_url}/{SERVICE_ID}instance"
        sat = str(client.service_token(SERVICE_ID)["token"])
        instance = InstanceApi(client, SERVICE_ID, str(api_url).rstrip("/"), sat).get(name)
    url = instance.get("url")
    if not isinstance(url, str) or not url:
        raise CliError(f"The rig instance {name} has no url")
    return Found(instance_key(url), sat)


def remember_login(url: str) -> Callable[[str, str], None]:
    """Saves each token a login gets, for the instance at `url`."""

    def remember(username: str, token: str) -> None:
        save_login(url, SavedLogin(username, token))

    return remember


@contextmanager
def rig_api(state: CliState, name: str) -> Iterator[RigApi]:
    """The instance `name` with its saved login; MEDIAPLANE_RIG_USERNAME/PASSWORD log in when there is none."""
    url = find_instance(state, name).url
    saved = saved_login(url)
    hint = f"run `mediaplane rig login {name} --username USER` or set {USERNAME_ENV} and {PASSWORD_ENV}"
    with RigApi(
        url,
        token=saved.token if saved else None,
        credentials=env_credentials(),
        on_login=remember_login(url),
        login_hint=hint,
    ) as api:
        yield api
