"""The HTTP client of `mediaplane gosd`: one gosd instance, found through the platform, called with a gosd
OAuth token.

The platform's PAT only finds the instance (its URL and clientId); gosd's API takes `Authorization: Bearer`
with a token of the instance's own user (`mediaplane gosd login`), saved in `gosd-tokens.json` (mode 0600)
until it expires. With MEDIAPLANE_GOSD_USERNAME, MEDIAPLANE_GOSD_PASSWORD and MEDIAPLANE_GOSD_CLIENT_SECRET set,
a missing, expired or refused token is replaced by logging in on the spot.

Imported on every CLI start: typer, httpx and the CLI's own helpers only, never the server side.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mediaplane.cli.client import InstanceApi, ServiceClient, error_message
from mediaplane.cli.errors import CliError
from mediaplane.cli.profile import config_path, read_saved_json, write_private_json
from mediaplane.cli.state import CliState

SERVICE_ID = "gosd"
JSON = dict[str, Any]
TOKENS_NAME = "gosd-tokens.json"
USERNAME_ENV = "MEDIAPLANE_GOSD_USERNAME"
PASSWORD_ENV = "MEDIAPLANE_GOSD_PASSWORD"
CLIENT_ID_ENV = "MEDIAPLANE_GOSD_CLIENT_ID"
CLIENT_SECRET_ENV = "MEDIAPLANE_GOSD_CLIENT_SECRET"
EXPIRY_MARGIN = 30  # seconds: a token this close to its end is not used


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class SavedToken:
    username: str
    token: str
    expires_at: int


def tokens_path() -> Path:
    return config_path().with_name(TOKENS_NAME)


def instance_key(url: str) -> str:
    return url.rstrip("/") + "/"


def load_tokens(path: Path | None = None) -> dict[str, SavedToken]:
    data = read_saved_json(path or tokens_path())
    saved = {}
    for url, entry in (data if isinstance(data, dict) else {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("token"), str) and isinstance(entry.get("expiresAt"), int):
            saved[url] = SavedToken(str(entry.get("username") or ""), entry["token"], entry["expiresAt"])
    return saved


def save_token(url: str, token: SavedToken | None, path: Path | None = None) -> None:
    path = path or tokens_path()
    saved = load_tokens(path)
    if token is None:
        saved.pop(instance_key(url), None)
    else:
        saved[instance_key(url)] = token
    data = {k: {"username": v.username, "token": v.token, "expiresAt": v.expires_at} for k, v in sorted(saved.items())}
    write_private_json(path, data)


def saved_token(url: str) -> SavedToken | None:
    token = load_tokens().get(instance_key(url))
    if token is None or token.expires_at - EXPIRY_MARGIN <= time.time():
        return None
    return token


def env_credentials(client_id: str, env: Mapping[str, str] | None = None) -> Credentials | None:
    env = os.environ if env is None else env
    username, password, secret = env.get(USERNAME_ENV), env.get(PASSWORD_ENV), env.get(CLIENT_SECRET_ENV)
    if not (username and password and secret):
        return None
    return Credentials(username, password, env.get(CLIENT_ID_ENV) or client_id, secret)


class GosdApi(ServiceClient):
    """One gosd instance at `url` (the instance URL; the API is under its `gosd/`)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        credentials: Credentials | None = None,
        login_hint: str = "log in first",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(instance_key(url) + "gosd/", transport=transport)
        self.instance_url = instance_key(url)
        self.token = token
        self._credentials = credentials
        self._login_hint = login_hint

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, self.url(path), **kwargs)
        except httpx.ConnectError as exc:
            raise CliError(f"Cannot reach the gosd instance at {self.instance_url} ({exc})") from exc
        except httpx.TimeoutException as exc:
            raise CliError(f"{method} {self.url(path)} timed out") from exc
        except httpx.HTTPError as exc:
            raise CliError(f"{method} {self.url(path)} failed: {exc}") from exc

    def login(self, credentials: Credentials) -> JSON:
        """Trades the credentials for a token (the spec's multipart form), kept for the next calls and saved."""
        form = {
            "grant_type": (None, "password"),
            "username": (None, credentials.username),
            "password": (None, credentials.password),
            "client_id": (None, credentials.client_id),
            "client_secret": (None, credentials.client_secret),
        }
        response = self._send("POST", "oauth/token", files=form)
        if response.is_error:
            raise CliError(f"Login refused: {error_message(response)}", status=response.status_code)
        answer: JSON = response.json()
        self.token = str(answer["access_token"])
        expires_at = int(answer.get("created_at") or time.time()) + int(answer.get("expires_in") or 0)
        save_token(self.instance_url, SavedToken(credentials.username, self.token, expires_at))
        return answer

    def _auth(self) -> dict[str, str]:
        if self.token is None:
            if self._credentials is None:
                raise CliError(f"Not logged in to the gosd instance at {self.instance_url}: {self._login_hint}")
            self.login(self._credentials)
        return {"authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, body: Any = None, *, files: Any = None, text: bool = False) -> Any:
        """The JSON answer (the text with `text`); `files` sends a multipart form instead of JSON."""
        fresh = self.token is None
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        if files is not None:
            kwargs = {"files": files}
        response = self._send(method, path, headers=self._auth(), **kwargs)
        if response.status_code == 401:
            if self._credentials is None:
                save_token(self.instance_url, None)
                raise CliError(f"The saved gosd token was refused: {self._login_hint}", status=401)
            if not fresh:
                self.login(self._credentials)
                response = self._send(method, path, headers=self._auth(), **kwargs)
        if response.is_error:
            raise CliError(error_message(response), status=response.status_code)
        return response.text if text else response.json()

    def nodes(self) -> Any:
        return self.call("GET", "api/v1/nodes/")

    def create_node(self, body: JSON) -> Any:
        return self.call("POST", "api/v1/nodes/", body)

    def node(self, node_id: int) -> Any:
        return self.call("GET", f"api/v1/nodes/{node_id}")

    def delete_node(self, node_id: int) -> Any:
        return self.call("DELETE", f"api/v1/nodes/{node_id}")

    def rotate_secret(self, node_id: int) -> Any:
        return self.call("POST", f"api/v1/nodes/{node_id}/secret")

    def plans(self) -> Any:
        return self.call("GET", "api/v2/plans/")

    def upload(self, field: str, path: Path) -> str:
        """Uploads one file as a blob; its id."""
        with path.open("rb") as file:
            answer = self.call("POST", "api/v2/blobs/", files={field: (path.name, file)})
        return str(answer[field])

    def create_plan(self, body: JSON) -> Any:
        return self.call("POST", "api/v2/plans/", body)

    def jobs(self, plan_id: int) -> Any:
        return self.call("GET", f"api/v2/plans/{plan_id}/jobs/")

    def run(self, plan_id: int, extra: dict[str, str]) -> Any:
        return self.call("POST", f"api/v2/plans/{plan_id}/jobs/", {"extra": extra})

    def job(self, plan_id: int, job_id: int) -> Any:
        return self.call("GET", f"api/v2/plans/{plan_id}/jobs/{job_id}")

    def cancel(self, plan_id: int, job_id: int | None) -> Any:
        if job_id is None:
            return self.call("POST", f"api/v2/plans/{plan_id}/jobs/cancel")
        return self.call("POST", f"api/v2/plans/{plan_id}/jobs/{job_id}/cancel")

    def job_log(self, plan_id: int, job_id: int) -> str:
        return str(self.call("GET", f"api/v2/plans/{plan_id}/jobs/{job_id}/log", text=True))


@dataclass(frozen=True)
class Found:
    url: str
    client_id: str


def find_instance(state: CliState, name: str) -> Found:
    """The gosd instance `name` of the caller's tenant, found with the PAT (and a SAT)."""
    with state.client() as client:
        api_url = client.service(SERVICE_ID).get("apiUrl") or f"{client.base_url}/{SERVICE_ID}instance"
        sat = str(client.service_token(SERVICE_ID)["token"])
        instance = InstanceApi(client, SERVICE_ID, str(api_url).rstrip("/"), sat).get(name)
    url = instance.get("url")
    if not isinstance(url, str) or not url:
        raise CliError(f"The gosd instance {name} has no url")
    return Found(instance_key(url), str(instance.get("clientId") or ""))


@contextmanager
def gosd_api(state: CliState, name: str) -> Iterator[GosdApi]:
    """The instance `name` with its saved token; the MEDIAPLANE_GOSD_* variables log in when there is none."""
    found = find_instance(state, name)
    saved = saved_token(found.url)
    hint = (
        f"run `mediaplane gosd login {name} --username USER` or set {USERNAME_ENV}, {PASSWORD_ENV} "
        f"and {CLIENT_SECRET_ENV}"
    )
    with GosdApi(
        found.url,
        token=saved.token if saved else None,
        credentials=env_credentials(found.client_id),
        login_hint=hint,
    ) as api:
        yield api
