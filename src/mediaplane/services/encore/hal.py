"""HAL rendering as Spring Data REST does it: `_links`, `_embedded.encoreJobs`, `page`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse

from mediaplane.kit.errors import BadRequest
from mediaplane.services.encore.models import EncoreJobRow
from mediaplane.services.encore.repository import SORTABLE, Page

HAL_JSON = "application/hal+json"
DEFAULT_SIZE = 20
MAX_SIZE = 2000
MAX_PAGE = 1_000_000


def base(request: Request) -> str:
    """The instance's URL as the caller reached it (path- or host-based), with a trailing slash."""
    return str(request.base_url)


def job_entity(row: EncoreJobRow, request: Request) -> dict[str, Any]:
    href = f"{base(request)}encoreJobs/{row.id}"
    return {**row.data, "_links": {"self": {"href": href}, "encoreJob": {"href": href}}}


def hal(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, media_type=HAL_JSON, headers=headers)


def parse_sort(values: list[str]) -> list[tuple[str, bool]]:
    """`sort=createdDate,desc&sort=priority` → [("createdDate", True), ("priority", False)]."""
    order = []
    for value in values:
        name, _, direction = value.partition(",")
        direction = direction.strip().lower() or "asc"
        if name not in SORTABLE or direction not in ("asc", "desc"):
            allowed = ", ".join(SORTABLE)
            raise BadRequest(f"Bad query! Cannot sort by {value!r}; sortable properties: {allowed} (,asc|,desc)")
        order.append((name, direction == "desc"))
    return order


def page_body(page: Page, request: Request, path: str, query: dict[str, str]) -> dict[str, Any]:
    total_pages = (page.total + page.size - 1) // page.size if page.size else 0
    url = f"{base(request)}{path}"

    def link(number: int) -> dict[str, str]:
        return {"href": f"{url}?{urlencode({**query, 'page': number, 'size': page.size})}"}

    links: dict[str, Any] = {}
    if total_pages:
        links["first"] = link(0)
    if page.number > 0:
        links["prev"] = link(page.number - 1)
    links["self"] = {"href": f"{url}?{urlencode({**query, 'page': page.number, 'size': page.size})}"}
    if page.number + 1 < total_pages:
        links["next"] = link(page.number + 1)
    if total_pages:
        links["last"] = link(total_pages - 1)
    links["profile"] = {"href": f"{base(request)}profile/encoreJobs"}
    links["search"] = {"href": f"{base(request)}encoreJobs/search"}
    return {
        "_embedded": {"encoreJobs": [job_entity(row, request) for row in page.rows]},
        "_links": links,
        "page": {"size": page.size, "totalElements": page.total, "totalPages": total_pages, "number": page.number},
    }
