"""The dashboard's pages and forms, under /console/rig/<instance>/. Every form posts and redirects (or shows
itself again with rig's messages); the live parts (state, relay, preview) come from events.py, a rig account's
password from accounts.py."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, RedirectResponse, Response

from mediaplane.console import ConsoleContext, CurrentConsole
from mediaplane.console.deps import read_form, text
from mediaplane.console.errors import PageError
from mediaplane.kit.errors import NotFound
from mediaplane.services.rig.accounts import AccountService
from mediaplane.services.rig.console import accounts, events
from mediaplane.services.rig.console.data import StreamRow, accounts_of, live_state, stream_id_of, stream_rows
from mediaplane.services.rig.console.forms import FormState, refused
from mediaplane.services.rig.errors import Code, RigError
from mediaplane.services.rig.schemas import INGEST_APP
from mediaplane.services.rig.service import StreamService
from mediaplane.services.rig.targets import SERVICES

router = APIRouter()
router.include_router(events.router)
router.include_router(accounts.router)
STATIC = {"rig.js": "text/javascript", "rig.css": "text/css"}
STATIC_DIR = Path(__file__).parent / "static"
NOTICES = {
    "account": "The rig account is created. Its user can sign in to the rig API with it.",
    "created": "The stream is created. Point OBS at the ingest below to go live.",
    "added": "The destination is added.",
    "removed": "The destination is removed.",
    "rotated": "The stream has a new key; the old one no longer works. Update OBS with the key below.",
    "deleted": "The stream is deleted.",
    "enabled": "The stream is enabled: publishing to its key is accepted.",
    "disabled": "The stream is disabled: publishing to its key is refused until it is enabled again.",
    "destination-on": "The destination is enabled: the stream is relayed there whenever it is live.",
    "destination-off": "The destination is disabled: nothing is relayed there until it is enabled again.",
    "password": "The rig account has a new password.",
}
ACCOUNT_FIELDS = ("username", "email", "password")
DESTINATION_FIELDS = ("service", "rtmpUrl", "streamKey")


def _notice(ctx: ConsoleContext) -> str | None:
    return NOTICES.get(ctx.request.query_params.get("done", ""))


async def _row(ctx: ConsoleContext, stream_id: str) -> StreamRow:
    rows = await stream_rows(ctx.session, ctx.runtime, ctx.instance.id, stream_id_of(stream_id))
    if not rows:
        raise NotFound("There is no such stream in this instance.")
    return rows[0]


def _service(ctx: ConsoleContext, row: StreamRow) -> StreamService:
    """The stream changed as its own account changes it through the rig API."""
    return StreamService(ctx.session, ctx.runtime, ctx.instance, row.account)


def _back(ctx: ConsoleContext, path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{ctx.url}{path}?done={done}", status_code=303)


# -- the list of streams ------------------------------------------------------------------------------------


async def _streams_page(
    ctx: ConsoleContext, *, account_form: FormState | None = None, stream_error: str | None = None, status: int = 200
) -> Response:
    rows = await stream_rows(ctx.session, ctx.runtime, ctx.instance.id)
    return ctx.render(
        "rig/streams.html",
        status_code=status,
        rows=rows,
        accounts=await accounts_of(ctx.session, ctx.instance.id),
        streams_of=Counter(row.account.id for row in rows),
        account_form=account_form or FormState(),
        stream_error=stream_error,
        notice=_notice(ctx),
        state=live_state(rows),
    )


@router.get("/")
async def streams(ctx: CurrentConsole) -> Response:
    return await _streams_page(ctx)


@router.post("/accounts")
async def create_account(ctx: CurrentConsole) -> Response:
    form = await read_form(ctx.request)
    values = {name: text(form, name) for name in ACCOUNT_FIELDS}
    try:
        await AccountService(ctx.session, ctx.runtime, ctx.instance).create(dict(values))
    except RigError as exc:
        shown = {**values, "password": ""}
        state = refused(exc, shown, ACCOUNT_FIELDS, "username")
        raise PageError(await _streams_page(ctx, account_form=state, status=400)) from None
    return _back(ctx, "/", "account")


@router.post("/streams")
async def create_stream(ctx: CurrentConsole) -> Response:
    account_id = text(await read_form(ctx.request), "account")
    account = next((a for a in await accounts_of(ctx.session, ctx.instance.id) if a.id == account_id), None)
    if account is None:
        raise PageError(
            await _streams_page(ctx, stream_error="Choose the rig account the stream belongs to.", status=400)
        )
    stream = await StreamService(ctx.session, ctx.runtime, ctx.instance, account).create()
    return _back(ctx, f"/streams/{stream.id}", "created")


# -- one stream ---------------------------------------------------------------------------------------------


async def _stream_page(
    ctx: ConsoleContext, row: StreamRow, form: FormState | None = None, status: int = 200
) -> Response:
    settings = ctx.runtime.settings
    server = f"{settings.rtmp_base_url}/{INGEST_APP}"
    return ctx.render(
        "rig/stream.html",
        status_code=status,
        title=f"Stream {row.stream.id[:8]}: {ctx.instance.name}",
        row=row,
        server=server,
        ingest_url=f"{server}/{row.stream.stream_key}",
        rtmp_enabled=settings.rtmp_enabled,
        services=SERVICES,
        form=form or FormState(values={"service": "YouTube"}),
        notice=_notice(ctx),
        state=live_state([row]),
    )


@router.get("/streams/{stream_id}")
async def stream(stream_id: str, ctx: CurrentConsole) -> Response:
    return await _stream_page(ctx, await _row(ctx, stream_id))


@router.post("/streams/{stream_id}/destinations")
async def add_destination(stream_id: str, ctx: CurrentConsole) -> Response:
    row = await _row(ctx, stream_id)
    form = await read_form(ctx.request)
    values = {name: text(form, name) for name in DESTINATION_FIELDS}
    body = {k: v for k, v in values.items() if v or k == "service"}
    try:
        await _service(ctx, row).add_destination(row.stream.id, body)
    except RigError as exc:
        state = refused(exc, values, DESTINATION_FIELDS, "service")
        raise PageError(await _stream_page(ctx, row, state, status=400)) from None
    return _back(ctx, f"/streams/{row.stream.id}", "added")


@contextmanager
def _no_such_destination() -> Iterator[None]:
    """rig answers an unknown destination FETCH_FAILED (its own code for it); the page's 404. Other errors pass."""
    try:
        yield
    except RigError as exc:
        if exc.error_code != Code.FETCH_FAILED:
            raise
        raise NotFound("There is no such destination on this stream.") from None


@router.post("/streams/{stream_id}/destinations/{destination_id}/remove")
async def remove_destination(stream_id: str, destination_id: str, ctx: CurrentConsole) -> Response:
    row = await _row(ctx, stream_id)
    with _no_such_destination():
        await _service(ctx, row).remove_destination(row.stream.id, destination_id)
    return _back(ctx, f"/streams/{row.stream.id}", "removed")


async def _set_destination_active(ctx: ConsoleContext, stream_id: str, destination_id: str, active: bool) -> Response:
    """As `mediaplane rig destinations enable|disable` (rig's PATCH with isActive)."""
    row = await _row(ctx, stream_id)
    with _no_such_destination():
        await _service(ctx, row).update_destination(row.stream.id, destination_id, {"isActive": active})
    return _back(ctx, f"/streams/{row.stream.id}", "destination-on" if active else "destination-off")


@router.post("/streams/{stream_id}/destinations/{destination_id}/enable")
async def enable_destination(stream_id: str, destination_id: str, ctx: CurrentConsole) -> Response:
    return await _set_destination_active(ctx, stream_id, destination_id, True)


@router.post("/streams/{stream_id}/destinations/{destination_id}/disable")
async def disable_destination(stream_id: str, destination_id: str, ctx: CurrentConsole) -> Response:
    return await _set_destination_active(ctx, stream_id, destination_id, False)


@router.post("/streams/{stream_id}/enable")
async def enable_stream(stream_id: str, ctx: CurrentConsole) -> Response:
    row = await _row(ctx, stream_id)
    await _service(ctx, row).update(row.stream.id, {"isActive": True})
    return _back(ctx, f"/streams/{row.stream.id}", "enabled")


@router.get("/streams/{stream_id}/disable")
async def disable_confirm(stream_id: str, ctx: CurrentConsole) -> Response:
    row = await _row(ctx, stream_id)
    return ctx.render("rig/confirm.html", row=row, action="disable", title="Disable the stream")


@router.post("/streams/{stream_id}/disable")
async def disable_stream(stream_id: str, ctx: CurrentConsole) -> Response:
    row = await _row(ctx, stream_id)
    await _service(ctx, row).update(row.stream.id, {"isActive": False})
    return _back(ctx, f"/streams/{row.stream.id}", "disabled")


@router.get("/streams/{stream_id}/rotate-key")
async def rotate_key_confirm(stream_id: str, ctx: CurrentConsole) -> Response:
    row = await _row(ctx, stream_id)
    return ctx.render("rig/confirm.html", row=row, action="rotate-key", title="Rotate the stream key")


@router.post("/streams/{stream_id}/rotate-key")
async def rotate_key(stream_id: str, ctx: CurrentConsole) -> Response:
    row = await _row(ctx, stream_id)
    await _service(ctx, row).change_key(row.stream.id)
    return _back(ctx, f"/streams/{row.stream.id}", "rotated")


@router.get("/streams/{stream_id}/delete")
async def delete_confirm(stream_id: str, ctx: CurrentConsole) -> Response:
    row = await _row(ctx, stream_id)
    return ctx.render("rig/confirm.html", row=row, action="delete", title="Delete the stream")


@router.post("/streams/{stream_id}/delete")
async def delete_stream(stream_id: str, ctx: CurrentConsole) -> Response:
    row = await _row(ctx, stream_id)
    await _service(ctx, row).delete(row.stream.id)
    return _back(ctx, "/", "deleted")


@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound("No such file.")
    return FileResponse(STATIC_DIR / name, media_type=STATIC[name], headers={"Cache-Control": "no-cache"})
