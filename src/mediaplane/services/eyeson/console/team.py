"""What the dashboard does for the team as a whole: join links (as `mediaplane eyeson join-link`) and a new API
key (as `mediaplane eyeson rotate-key`)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from mediaplane.console import ConsoleContext, CurrentConsole
from mediaplane.console.deps import read_form, text
from mediaplane.console.errors import PageError
from mediaplane.core.instance.service import instance_service
from mediaplane.services.eyeson.deps import links_for
from mediaplane.services.eyeson.errors import EyesonError
from mediaplane.services.eyeson.options import new_key
from mediaplane.services.eyeson.rooms import RoomService
from mediaplane.services.eyeson.routes.rooms import start_media

router = APIRouter()
FIELDS = {"user[name]": "name", "id": "room"}  # eyeson's parameter in a message → the form's field


def _join_page(
    ctx: ConsoleContext, values: dict[str, str], *, error: str | None = None, status: int = 200, **made: object
) -> Response:
    field = FIELDS.get((error or "").split(" ", 1)[0], "")
    return ctx.render(
        "eyeson/join_link.html",
        status_code=status,
        title=f"Join links: {ctx.instance.name}",
        values=values,
        errors={field: error} if error else {},
        **made,
    )


@router.get("/join-link")
async def join_link_form(ctx: CurrentConsole) -> Response:
    room = ctx.request.query_params.get("room", "")[:128]
    return _join_page(ctx, {"name": "", "room": room})


@router.post("/join-link")
async def join_link(ctx: CurrentConsole) -> Response:
    """As POST /rooms with the API key: the room's running meeting is joined (one starts when none runs) by a new
    user, whose GUI link is shown with the room's guest link."""
    form = await read_form(ctx.request)
    values = {"name": text(form, "name"), "room": text(form, "room")}
    rooms = RoomService(ctx.session, ctx.runtime, ctx.instance)
    try:
        meeting, user = await rooms.create_or_join({"id": values["room"] or None, "user": {"name": values["name"]}})
        await start_media(rooms, meeting)
    except EyesonError as exc:
        raise PageError(_join_page(ctx, values, error=exc.message, status=exc.status_code)) from None
    links = links_for(ctx.request, ctx.runtime, ctx.instance)
    guests = meeting.options.get("guest_token_available", True)
    return _join_page(
        ctx,
        {"name": "", "room": meeting.room_id},
        meeting=meeting,
        user=user,
        gui_link=links.gui(user.access_key),
        guest_link=links.guest_join(meeting.guest_token) if guests else None,
    )


@router.get("/api-key/rotate")
async def rotate_key_confirm(ctx: CurrentConsole) -> Response:
    return ctx.render("eyeson/confirm.html", action="rotate-key", title="Rotate the API key")


@router.post("/api-key/rotate")
async def rotate_key(ctx: CurrentConsole) -> Response:
    """The instance's `apiKey` option changed through the platform's instance update (as PATCH
    /eyesoninstance/<name>); the answer is a page of its own, not a redirect, so the key is in no URL."""
    key = new_key()
    await instance_service.update(ctx.session, ctx.runtime, ctx.spec, ctx.instance, {"apiKey": key})
    return ctx.render("eyeson/key_rotated.html", key=key, title="New API key")
