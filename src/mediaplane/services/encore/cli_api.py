"""The HTTP client of `mediaplane encore`: one encore instance, found through the platform, called with a SAT."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit

import httpx

from mediaplane.cli.client import InstanceApi, ServiceClient, error_message
from mediaplane.cli.errors import CliError
from mediaplane.cli.state import CliState

SERVICE_ID = "encore"
JSON = dict[str, Any]
CHUNK = 1 << 20
TRANSFER_TIMEOUT = httpx.Timeout(300.0, connect=5.0)


class EncoreApi(ServiceClient):
    """One encore instance at its `url`, called with `x-jwt: Bearer <SAT>`; error answers become a CliError.

    A SAT lasts an hour and `--wait` may follow a job for longer: on a 401, `renew` (if given) makes a new SAT
    and the request is sent once more.
    """

    def __init__(
        self,
        url: str,
        sat: str,
        *,
        renew: Callable[[], str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"x-jwt": f"Bearer {sat}", "accept": "application/hal+json, application/json"}
        super().__init__(url.rstrip("/") + "/", headers=headers, transport=transport)
        self._renew = renew

    @contextmanager
    def _calling(self, method: str, path: str) -> Iterator[None]:
        try:
            yield
        except httpx.ConnectError as exc:
            raise CliError(f"Cannot reach the encore instance at {self.base_url} ({exc})") from exc
        except httpx.TimeoutException as exc:
            raise CliError(f"{method} {self.url(path)} timed out") from exc
        except httpx.HTTPError as exc:
            raise CliError(f"{method} {self.url(path)} failed: {exc}") from exc

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with self._calling(method, path):
            response = self._http.request(method, self.url(path), **kwargs)
            # A streamed body is spent: only requests without one are sent again.
            if response.status_code == 401 and self._renew is not None and "content" not in kwargs:
                self._http.headers["x-jwt"] = f"Bearer {self._renew()}"
                response = self._http.request(method, self.url(path), **kwargs)
        if response.is_error:
            raise CliError(error_message(response), status=response.status_code)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise CliError(f"{method} {self.url(path)} answered with a body that is not JSON") from exc

    def enqueue(self, body: JSON) -> JSON:
        job: JSON = self.json("POST", "encoreJobs", json=body)
        return job

    def job(self, job_id: str) -> JSON:
        job: JSON = self.json("GET", f"encoreJobs/{quote(job_id, safe='')}")
        return job

    def jobs(self, status: str | None = None, *, page: int = 0, size: int = 20) -> JSON:
        params: dict[str, Any] = {"page": page, "size": size, "sort": "createdDate,desc"}
        if status is None:
            found: JSON = self.json("GET", "encoreJobs", params=params)
        else:
            found = self.json("GET", "encoreJobs/search/findByStatus", params={"status": status, **params})
        return found

    def cancel(self, job_id: str) -> None:
        self.request("POST", f"encoreJobs/{quote(job_id, safe='')}/cancel")

    def profiles(self) -> list[JSON]:
        listed: list[JSON] = self.json("GET", "profiles")
        return listed

    def files(self, folder: str) -> JSON:
        listed: JSON = self.json("GET", storage_path(folder).rstrip("/") + "/")
        return listed

    def upload(self, path: Path, target: str, on_chunk: Callable[[int], None] | None = None) -> JSON:
        """Streams a local file to `target` (a `/usercontent/...` path); returns `{uri, size}`."""

        def chunks(file: BinaryIO) -> Iterator[bytes]:
            while chunk := file.read(CHUNK):
                if on_chunk is not None:
                    on_chunk(len(chunk))
                yield chunk

        size = path.stat().st_size
        with path.open("rb") as file:
            headers = {"content-length": str(size), "content-type": "application/octet-stream"}
            stored: JSON = self.json(
                "PUT", storage_path(target), content=chunks(file), headers=headers, timeout=TRANSFER_TIMEOUT
            )
        return stored

    @contextmanager
    def download(self, remote: str) -> Iterator[httpx.Response]:
        """The open streaming answer for a stored file; its body is read by the caller."""
        path = storage_path(remote)
        with (
            self._calling("GET", path),
            self._http.stream("GET", self.url(path), timeout=TRANSFER_TIMEOUT) as response,
        ):
            if response.is_error:
                response.read()
                raise CliError(error_message(response), status=response.status_code)
            yield response


def storage_path(path: str) -> str:
    """`/usercontent/a/b.mp4`, `usercontent/a/b.mp4`, `a/b.mp4` or `file:///usercontent/a/b.mp4` → the API path."""
    if path.startswith("file:"):
        path = urlsplit(path).path
    parts = [quote(part) for part in path.strip().split("/") if part and part != "."]
    if not parts or parts[0] != "usercontent":
        parts.insert(0, "usercontent")
    return "/".join(parts) + ("/" if path.endswith("/") else "")


@contextmanager
def encore_api(state: CliState, name: str) -> Iterator[EncoreApi]:
    """The instance `name` of the caller's tenant: its `url` from the platform, and a SAT for encore."""
    with state.client() as client:

        def new_sat() -> str:
            return str(client.service_token(SERVICE_ID)["token"])

        api_url = client.service(SERVICE_ID).get("apiUrl") or f"{client.base_url}/{SERVICE_ID}instance"
        sat = new_sat()
        instance = InstanceApi(client, SERVICE_ID, str(api_url).rstrip("/"), sat).get(name)
        url = instance.get("url")
        if not isinstance(url, str) or not url:
            raise CliError(f"The encore instance {name} has no url")
        with EncoreApi(url, sat, renew=new_sat) as api:
            yield api
