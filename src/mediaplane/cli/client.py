"""A small typed client for the platform API and each service's instance API.

Transport failures and error answers (`{"reason": ...}` from the platform, `{"message": ...}` or a
service's own body) all become a `CliError` carrying the HTTP status, so commands stay thin.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from mediaplane import __version__
from mediaplane.cli.errors import CliError
from mediaplane.cli.state import NO_TOKEN

JSON = dict[str, Any]
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def error_message(response: httpx.Response) -> str:
    """The message in an error body: OSC's `reason`, a `message`, a service's nested error, or the text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("reason", "message", "error", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])
    text = response.text.strip()
    if text:
        return text[:300]
    return response.reason_phrase or f"HTTP {response.status_code}"


def _segment(value: str) -> str:
    return quote(value, safe="")


class PlatformClient:
    """The platform API: tokens, tenants, catalog. PAT calls send `x-pat-jwt: Bearer <PAT>`."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport,
            headers={"user-agent": f"mediaplane-cli/{__version__}", "accept": "application/json"},
        )

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- transport -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        try:
            response = self._http.request(method, url, headers=headers, json=json, params=params)
        except httpx.ConnectError as exc:
            raise CliError(
                f"Cannot reach mediaplane at {self.base_url} ({exc}). "
                "Is the server running? Point at it with --url or MEDIAPLANE_URL."
            ) from exc
        except httpx.TimeoutException as exc:
            raise CliError(f"{method} {url} timed out") from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise CliError(f"Invalid server URL {self.base_url!r}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise CliError(f"{method} {url} failed: {exc}") from exc
        if response.is_error:
            raise CliError(error_message(response), status=response.status_code)
        return response

    def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.request(method, url, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise CliError(f"{method} {url} answered {response.status_code} with a body that is not JSON") from exc

    def _pat_headers(self) -> dict[str, str]:
        if not self.token:
            raise CliError(NO_TOKEN)
        return {"x-pat-jwt": f"Bearer {self.token}"}

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    # -- platform --------------------------------------------------------------------------------

    def health(self) -> JSON:
        data: JSON = self.request_json("GET", self._url("/health"))
        return data

    def me(self) -> JSON:
        data: JSON = self.request_json("GET", self._url("/me"), headers=self._pat_headers())
        return data

    def service_token(self, service_id: str) -> JSON:
        """`{"serviceId", "token", "expiry"}`: a SAT for one service, traded for the PAT."""
        data: JSON = self.request_json(
            "POST", self._url("/servicetoken"), headers=self._pat_headers(), json={"serviceId": service_id}
        )
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            raise CliError("POST /servicetoken answered without a token")
        return data

    def catalog(self) -> list[JSON]:
        data: list[JSON] = self.request_json("GET", self._url("/catalog"))
        return data

    def service(self, service_id: str) -> JSON:
        data: JSON = self.request_json("GET", self._url(f"/catalog/{_segment(service_id)}"))
        return data

    def list_pats(self) -> list[JSON]:
        data: list[JSON] = self.request_json("GET", self._url("/pats"), headers=self._pat_headers())
        return data

    def create_pat(self, name: str) -> JSON:
        data: JSON = self.request_json("POST", self._url("/pats"), headers=self._pat_headers(), json={"name": name})
        return data

    def revoke_pat(self, pat_id: str) -> JSON:
        data: JSON = self.request_json("DELETE", self._url(f"/pats/{_segment(pat_id)}"), headers=self._pat_headers())
        return data

    def list_tenants(self) -> list[JSON]:
        data: list[JSON] = self.request_json("GET", self._url("/tenants"), headers=self._pat_headers())
        return data

    def create_tenant(self, name: str, *, username: str = "admin", password: str | None = None) -> JSON:
        body: JSON = {"name": name, "username": username}
        if password is not None:
            body["password"] = password
        data: JSON = self.request_json("POST", self._url("/tenants"), headers=self._pat_headers(), json=body)
        return data

    def instances(self, service_id: str) -> InstanceApi:
        """The service's instance API, as OSC clients find it: apiUrl from the catalog, a fresh SAT."""
        api_url = self.service(service_id).get("apiUrl") or self._url(f"/{_segment(service_id)}instance")
        sat = self.service_token(service_id)["token"]
        return InstanceApi(self, service_id, str(api_url).rstrip("/"), sat)


class InstanceApi:
    """`{apiUrl}[/{name}[/health|logs|ports|restart]]` with `x-jwt: Bearer <SAT>`."""

    def __init__(self, client: PlatformClient, service_id: str, api_url: str, sat: str) -> None:
        self.client = client
        self.service_id = service_id
        self.api_url = api_url
        self._headers = {"x-jwt": f"Bearer {sat}"}

    def _url(self, name: str | None = None, action: str | None = None) -> str:
        url = self.api_url if name is None else f"{self.api_url}/{_segment(name)}"
        return url if action is None else f"{url}/{action}"

    def create(self, body: JSON) -> JSON:
        data: JSON = self.client.request_json("POST", self._url(), headers=self._headers, json=body)
        return data

    def list_all(self) -> list[JSON]:
        data: list[JSON] = self.client.request_json("GET", self._url(), headers=self._headers)
        return data

    def get(self, name: str) -> JSON:
        data: JSON = self.client.request_json("GET", self._url(name), headers=self._headers)
        return data

    def remove(self, name: str) -> None:
        self.client.request("DELETE", self._url(name), headers=self._headers)

    def health(self, name: str) -> JSON:
        data: JSON = self.client.request_json("GET", self._url(name, "health"), headers=self._headers)
        return data

    def logs(self, name: str, *, timestamps: bool = False, since_seconds: int | None = None) -> str:
        params: dict[str, Any] = {"timestamps": "true" if timestamps else "false"}
        if since_seconds is not None:
            params["sinceSeconds"] = since_seconds
        return self.client.request("GET", self._url(name, "logs"), headers=self._headers, params=params).text

    def ports(self, name: str) -> list[JSON]:
        data: list[JSON] = self.client.request_json("GET", self._url(name, "ports"), headers=self._headers)
        return data

    def restart(self, name: str) -> None:
        self.client.request("POST", self._url(name, "restart"), headers=self._headers)


SERVICE_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class ServiceClient:
    """The CLI's client of one instance's own API (encore, rig, gosd …): one connection pool with the
    CLI's user agent, paths under `base_url`, closed by its `with` block."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url
        default = {"user-agent": f"mediaplane-cli/{__version__}", "accept": "application/json"}
        self._http = httpx.Client(timeout=SERVICE_TIMEOUT, transport=transport, headers={**default, **(headers or {})})

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._http.close()

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")
