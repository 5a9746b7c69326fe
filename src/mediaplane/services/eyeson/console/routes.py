"""The dashboard's pages and forms, under /console/eyeson/<instance>/. Every form posts and redirects (or shows
its page again with eyeson's message); the live parts come from events.py, join links and the API key from
team.py, recordings, snapshots and the static files from files.py."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import RedirectResponse, Response

from mediaplane.console import ConsoleContext, CurrentConsole
from mediaplane.console.deps import read_form, text
from mediaplane.console.errors import PageError
from mediaplane.kit.errors import NotFound
from mediaplane.services.eyeson.broadcast.service import BroadcastService
from mediaplane.services.eyeson.console import events, files, team
from mediaplane.services.eyeson.console.data import (
    RoomRow,
    live_state,
    recordings_of,
    room_rows,
    snapshots_of,
)
from mediaplane.services.eyeson.deps import links_for
from mediaplane.services.eyeson.errors import EyesonError
from mediaplane.services.eyeson.keys import object_id
from mediaplane.services.eyeson.models import EyesonUser, EyesonWebhook
from mediaplane.services.eyeson.recordings import RecordingService
from mediaplane.services.eyeson.repository import EyesonRepository
from mediaplane.services.eyeson.rooms import MESSAGE_TYPES, RoomService
from mediaplane.services.eyeson.routes.rooms import start_media
from mediaplane.services.eyeson.snapshots import SnapshotService
from mediaplane.services.eyeson.webhooks import TYPES

router = APIRouter()
router.include_router(events.router)
router.include_router(team.router)
router.include_router(files.router)
NOTICES = {
    "created": "The room is running. Join it from here, or share its guest link.",
    "recording": "Recording started.",
    "stopped": "Recording stopped: the file is ready below in a moment.",
    "broadcast": "The broadcast is starting.",
    "unbroadcast": "The broadcast is stopped.",
    "snapshot": "A snapshot of the room is taken.",
    "webhook": "The webhook is set.",
    "cleared": "The webhook is removed.",
    "ended": "The meeting has ended for everyone: its access keys and guest link no longer work.",
    "said": "The message is sent to everyone in the meeting.",
}


def _notice(ctx: ConsoleContext) -> str | None:
    return NOTICES.get(ctx.request.query_params.get("done", ""))


def _rooms(ctx: ConsoleContext) -> RoomService:
    return RoomService(ctx.session, ctx.runtime, ctx.instance)


def _owner(ctx: ConsoleContext) -> dict[str, str]:
    """The console user as a user of eyeson's rooms (who started a recording, the owner's join link)."""
    return {"id": f"console-{ctx.user.username}"[:128], "name": ctx.user.username}


def _as_owner(ctx: ConsoleContext) -> EyesonUser:
    # Never added to the session: only its user_id is read (who started a recording or a broadcast).
    return EyesonUser(user_id=_owner(ctx)["id"], name=_owner(ctx)["name"])


def _base(ctx: ConsoleContext) -> str:
    return links_for(ctx.request, ctx.runtime, ctx.instance).base


def _back(ctx: ConsoleContext, path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{ctx.url}{path}?done={done}", status_code=303)


async def _row(ctx: ConsoleContext, meeting_id: str) -> RoomRow:
    rows = await room_rows(ctx.session, ctx.instance.id, meeting_id)
    if not rows:
        raise NotFound("There is no such room in this instance.")
    return rows[0]


async def _running(ctx: ConsoleContext, meeting_id: str) -> RoomRow:
    row = await _row(ctx, meeting_id)
    if row.meeting.shutdown_at is not None:
        raise PageError(await _room_page(ctx, row, error="This meeting has ended.", status=410))
    return row


# -- the rooms and the webhook ------------------------------------------------------------------------------


async def _rooms_page(
    ctx: ConsoleContext, *, room_error: str | None = None, hook_error: str | None = None, status: int = 200
) -> Response:
    rows = await room_rows(ctx.session, ctx.instance.id)
    form = await read_form(ctx.request) if ctx.request.method == "POST" else None
    return ctx.render(
        "eyeson/rooms.html",
        status_code=status,
        rows=rows,
        hook=await EyesonRepository(ctx.session, ctx.instance.id).webhook(),
        types=TYPES,
        room_error=room_error,
        hook_error=hook_error,
        values={k: text(form, k) for k in ("name", "url")} if form is not None else {},
        notice=_notice(ctx),
        state=live_state(rows),
    )


@router.get("/")
async def rooms(ctx: CurrentConsole) -> Response:
    return await _rooms_page(ctx)


@router.post("/rooms")
async def start_room(ctx: CurrentConsole) -> Response:
    name = text(await read_form(ctx.request), "name")
    try:
        rooms = _rooms(ctx)
        meeting, _user = await rooms.create_or_join({"name": name or None, "user": _owner(ctx)})
        await start_media(rooms, meeting)
    except EyesonError as exc:
        raise PageError(await _rooms_page(ctx, room_error=exc.message, status=400)) from None
    return _back(ctx, f"/rooms/{meeting.id}", "created")


@router.post("/webhook")
async def set_webhook(ctx: CurrentConsole) -> Response:
    form = await read_form(ctx.request)
    url = text(form, "url").strip()
    types = [t for t in form.getlist("types") if isinstance(t, str) and t in TYPES]
    if not url.startswith(("http://", "https://")) or len(url) > 2048 or " " in url:
        raise PageError(await _rooms_page(ctx, hook_error="An http:// or https:// URL, please.", status=400))
    if not types:
        raise PageError(await _rooms_page(ctx, hook_error="Choose at least one kind of event.", status=400))
    repo = EyesonRepository(ctx.session, ctx.instance.id)
    old = await repo.webhook()
    if old is not None:  # as eyeson: a new webhook replaces the one there was
        await ctx.session.delete(old)
        await ctx.session.flush()
    ctx.session.add(EyesonWebhook(id=object_id(), instance_id=ctx.instance.id, url=url, types=types))
    return _back(ctx, "/", "webhook")


@router.post("/webhook/clear")
async def clear_webhook(ctx: CurrentConsole) -> Response:
    hook = await EyesonRepository(ctx.session, ctx.instance.id).webhook()
    if hook is not None:
        await ctx.session.delete(hook)
    return _back(ctx, "/", "cleared")


# -- one room -----------------------------------------------------------------------------------------------


async def _room_page(
    ctx: ConsoleContext, row: RoomRow, *, error: str | None = None, say_error: str | None = None, status: int = 200
) -> Response:
    recordings = await recordings_of(ctx.session, ctx.instance.id, row.meeting.room_id)
    form = await read_form(ctx.request) if ctx.request.method == "POST" else None
    return ctx.render(
        "eyeson/room.html",
        status_code=status,
        title=f"Room {row.meeting.name}: {ctx.instance.name}",
        row=row,
        recordings=recordings,
        snapshots=await snapshots_of(ctx.session, ctx.instance.id, row.meeting.room_id),
        guest_link=links_for(ctx.request, ctx.runtime, ctx.instance).guest_join(row.meeting.guest_token),
        error=error,
        stream_url=text(form, "stream_url") if form is not None else "",
        said={k: text(form, k) for k in ("user", "type", "content")} if form is not None else {},
        say_error=say_error,
        message_types=MESSAGE_TYPES,
        notice=_notice(ctx),
        state=live_state([row], recordings),
    )


@router.get("/rooms/{meeting_id}")
async def room(meeting_id: str, ctx: CurrentConsole) -> Response:
    return await _room_page(ctx, await _row(ctx, meeting_id))


@router.post("/rooms/{meeting_id}/join")
async def join(meeting_id: str, ctx: CurrentConsole) -> Response:
    """The owner into the room's GUI, as a user of their own (a link with their access key)."""
    row = await _running(ctx, meeting_id)
    try:
        rooms = _rooms(ctx)
        meeting, user = await rooms.create_or_join({"id": row.meeting.room_id, "user": _owner(ctx)})
        await start_media(rooms, meeting)
    except EyesonError as exc:
        raise PageError(await _room_page(ctx, row, error=exc.message, status=exc.status_code)) from None
    return RedirectResponse(links_for(ctx.request, ctx.runtime, ctx.instance).gui(user.access_key), status_code=303)


async def _act(ctx: ConsoleContext, row: RoomRow, action: str, done: str) -> Response:
    rooms = _rooms(ctx)
    meeting = row.meeting
    try:
        if action == "record":
            await RecordingService(rooms).start(meeting, _as_owner(ctx), _base(ctx))
        elif action == "unrecord":
            await RecordingService(rooms).stop(meeting, _base(ctx))
        elif action == "broadcast":
            form = await read_form(ctx.request)
            params = {"stream_url": text(form, "stream_url"), "platform": text(form, "platform") or None}
            await BroadcastService(rooms).start(meeting, _as_owner(ctx), params)
        elif action == "unbroadcast":
            await BroadcastService(rooms).stop(meeting, text(await read_form(ctx.request), "platform") or None)
        else:
            await SnapshotService(rooms).take(meeting, _as_owner(ctx), _base(ctx))
    except EyesonError as exc:
        raise PageError(await _room_page(ctx, row, error=exc.message, status=400)) from None
    return _back(ctx, f"/rooms/{meeting.id}", done)


@router.post("/rooms/{meeting_id}/recording/start")
async def start_recording(meeting_id: str, ctx: CurrentConsole) -> Response:
    return await _act(ctx, await _running(ctx, meeting_id), "record", "recording")


@router.post("/rooms/{meeting_id}/recording/stop")
async def stop_recording(meeting_id: str, ctx: CurrentConsole) -> Response:
    return await _act(ctx, await _row(ctx, meeting_id), "unrecord", "stopped")


@router.post("/rooms/{meeting_id}/broadcast/start")
async def start_broadcast(meeting_id: str, ctx: CurrentConsole) -> Response:
    return await _act(ctx, await _running(ctx, meeting_id), "broadcast", "broadcast")


@router.post("/rooms/{meeting_id}/broadcast/stop")
async def stop_broadcast(meeting_id: str, ctx: CurrentConsole) -> Response:
    return await _act(ctx, await _row(ctx, meeting_id), "unbroadcast", "unbroadcast")


@router.post("/rooms/{meeting_id}/snapshot")
async def take_snapshot(meeting_id: str, ctx: CurrentConsole) -> Response:
    return await _act(ctx, await _running(ctx, meeting_id), "snapshot", "snapshot")


@router.get("/rooms/{meeting_id}/stop")
async def stop_confirm(meeting_id: str, ctx: CurrentConsole) -> Response:
    row = await _running(ctx, meeting_id)
    return ctx.render("eyeson/confirm.html", action="stop", row=row, title=f"End the meeting {row.meeting.name}")


@router.post("/rooms/{meeting_id}/stop")
async def stop(meeting_id: str, ctx: CurrentConsole) -> Response:
    """As DELETE /rooms/ROOM_ID with the API key: everyone leaves, the media stops, observers and webhooks are
    told. A meeting that had ended already stays so."""
    row = await _row(ctx, meeting_id)
    await _rooms(ctx).shutdown(row.meeting)
    return _back(ctx, f"/rooms/{row.meeting.id}", "ended")


@router.post("/rooms/{meeting_id}/messages")
async def say(meeting_id: str, ctx: CurrentConsole) -> Response:
    """As POST /rooms/ACCESS_KEY/messages, with the access key of the chosen sender: one of the users made with
    the API key, or the console user (who becomes a user of the meeting, as when joining)."""
    row = await _running(ctx, meeting_id)
    form = await read_form(ctx.request)
    rooms = _rooms(ctx)
    try:
        chosen = text(form, "user")
        if chosen:
            sender = next((u for u in row.senders if u.user_id == chosen), None)
            if sender is None:
                raise EyesonError(400, "user: choose someone who is in the meeting")
        else:
            _meeting, sender = await rooms.create_or_join({"id": row.meeting.room_id, "user": _owner(ctx)})
        meeting, user = await rooms.by_access_key(sender.access_key)
        await rooms.message(meeting, user, {"type": text(form, "type"), "content": text(form, "content")})
    except EyesonError as exc:
        raise PageError(await _room_page(ctx, row, say_error=exc.message, status=exc.status_code)) from None
    return _back(ctx, f"/rooms/{row.meeting.id}", "said")
