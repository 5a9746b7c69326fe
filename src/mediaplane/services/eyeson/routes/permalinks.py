"""Permalinks: create (with its first host), list, show, update, delete; add and remove hosts; a host's token
starts the meeting or joins the running one (POST, or GET as eyeson's browser library also sends it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from mediaplane.services.eyeson.deps import ApiKeyInstance, EyesonInstance, Params, Rooms, key_matches, links_for
from mediaplane.services.eyeson.models import EyesonPermalink
from mediaplane.services.eyeson.permalinks import PermalinkService, host_params, permalink_body
from mediaplane.services.eyeson.routes.rooms import answer, start_media

router = APIRouter()


def service(rooms: Rooms) -> PermalinkService:
    return PermalinkService(rooms.session, rooms.runtime, rooms.instance)


async def body_of(request: Request, links: PermalinkService, permalink: EyesonPermalink, **kw: Any) -> dict[str, Any]:
    meeting = await links.repo.running_meeting(permalink.id)
    return permalink_body(
        permalink, meeting, links.options.team_name, links_for(request, links.runtime, links.instance), **kw
    )


@router.post("/permalink", status_code=201, summary="Define a room ahead of its meetings, with its first host")
async def create(request: Request, instance: ApiKeyInstance, rooms: Rooms, params: Params) -> dict[str, Any]:
    links = service(rooms)
    permalink, host = await links.create(params)
    return await body_of(request, links, permalink, host=host)


@router.get("/permalink", summary="The permalinks, a page at a time")
async def listing(request: Request, instance: ApiKeyInstance, rooms: Rooms, params: Params) -> dict[str, Any]:
    links = service(rooms)
    page = await links.page(params)
    page["items"] = [await body_of(request, links, permalink) for permalink in page["items"]]
    return page


@router.get("/permalink/{identifier}", summary="A permalink (with the API key), or a host's token starting it")
async def show_or_start(request: Request, identifier: str, instance: EyesonInstance, rooms: Rooms) -> Any:
    links = service(rooms)
    if key_matches(instance, request.headers.get("authorization")):
        permalink = await links.get(identifier)
        body = await body_of(request, links, permalink)
        body["users"] = [
            {"id": h.user_id, "name": h.name, "user_token": h.user_token} for h in await links.hosts(permalink.id)
        ]
        return body
    return await start(request, identifier, rooms)


@router.post("/permalink/{user_token}", status_code=201, summary="Start the permalink's meeting, or join it")
async def start(request: Request, user_token: str, rooms: Rooms) -> dict[str, Any]:
    links = service(rooms)
    permalink, host = await links.host_by_token(user_token)
    meeting, user = await links.start(permalink, host)
    await start_media(rooms, meeting)
    return await answer(request, rooms, meeting, user)


@router.put("/permalink/{permalink_id}", summary="Change a permalink's name, expiry or options")
async def update(request: Request, permalink_id: str, instance: ApiKeyInstance, rooms: Rooms, params: Params) -> Any:
    links = service(rooms)
    permalink = await links.get(permalink_id)
    await links.update(permalink, params)
    return await body_of(request, links, permalink)


@router.delete("/permalink/{permalink_id}", status_code=204, summary="Delete a permalink (its links stop working)")
async def delete(permalink_id: str, instance: ApiKeyInstance, rooms: Rooms) -> Response:
    links = service(rooms)
    await rooms.session.delete(await links.get(permalink_id))
    return Response(status_code=204)


@router.post("/permalink/{permalink_id}/users", status_code=201, summary="Add a host")
async def add_host(
    request: Request, permalink_id: str, instance: ApiKeyInstance, rooms: Rooms, params: Params
) -> dict[str, Any]:
    links = service(rooms)
    permalink = await links.get(permalink_id)
    host = await links.add_host(permalink, *host_params(params))
    return await body_of(request, links, permalink, host=host)


@router.delete("/permalink/{permalink_id}/users/{user_token}", status_code=204, summary="Remove a host")
async def remove_host(permalink_id: str, user_token: str, instance: ApiKeyInstance, rooms: Rooms) -> Response:
    links = service(rooms)
    await links.remove_host(await links.get(permalink_id), user_token)
    return Response(status_code=204)
