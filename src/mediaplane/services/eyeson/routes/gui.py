"""The browser GUI of a room: `gui/?<access_key>` (a user's link) and `gui/?guest=<guest_token>` (the quick-join
link) open one static page (`services/eyeson/gui/`) that talks to this instance's API with relative URLs, so it
works under any instance prefix and with host-based instance URLs. No build step, nothing loaded from elsewhere."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mediaplane.services.eyeson.errors import not_found

router = APIRouter(tags=["gui"])
GUI_DIR = Path(__file__).resolve().parent.parent / "gui"
STATIC = {"gui.js": "text/javascript; charset=utf-8", "gui.css": "text/css; charset=utf-8"}
# The access key rides in the page's URL: no referrer leaves the page, nothing runs from anywhere but here.
HEADERS = {
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
PAGE_HEADERS = {
    **HEADERS,
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'"
    ),
}
BASE_TAG = '<meta charset="utf-8">\n  <base href="gui/">'


def _page(request: Request) -> str:
    html = (GUI_DIR / "index.html").read_text(encoding="utf-8")
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    if not bytes(raw_path).endswith(b"/"):
        # Opened as `.../gui?<key>`: the page's relative URLs must still resolve under `.../gui/`.
        html = html.replace('<meta charset="utf-8">', BASE_TAG, 1)
    return html


@router.get(
    "/gui", summary="The room's browser GUI (?<access_key>, or ?guest=<guest_token>)", response_class=HTMLResponse
)
async def gui_page(request: Request) -> HTMLResponse:
    return HTMLResponse(_page(request), headers=PAGE_HEADERS)


@router.get("/gui/static/{name}", summary="The GUI's script and style sheet", include_in_schema=False)
async def gui_static(name: str) -> Response:
    media_type = STATIC.get(name)
    if media_type is None:
        raise not_found("no such file")
    return Response((GUI_DIR / name).read_bytes(), media_type=media_type, headers=HEADERS)
