"""Permalinks: rooms defined ahead of their meetings. The permalink's id is the room id; its hosts' user
tokens start the meeting (or join the running one); its guest token lets guests in while a meeting runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from mediaplane.kit.railsparams import ParamsError, as_bool, as_int
from mediaplane.services.eyeson.errors import EyesonError, bad_request, gone, not_found
from mediaplane.services.eyeson.keys import access_key, guest_token, object_id
from mediaplane.services.eyeson.models import EyesonMeeting, EyesonPermalink, EyesonPermalinkUser, EyesonUser
from mediaplane.services.eyeson.roomopts import public_options, room_options
from mediaplane.services.eyeson.rooms import MAX_ID, MAX_NAME, RoomService, text_param
from mediaplane.services.eyeson.views import Links, iso

MAX_PAGE_SIZE = 100
DEFAULT_NAME = "Permalink Room"


def parse_expiry(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise bad_request("expires_at must be an ISO 8601 time, e.g. 2030-05-15T10:00:00.000Z") from None
    if moment.tzinfo is None:
        raise bad_request("expires_at needs a time zone, e.g. 2030-05-15T10:00:00Z")
    return moment


def host_params(params: dict[str, Any]) -> tuple[str, str | None, str | None]:
    user = params.get("user")
    if not isinstance(user, dict):
        raise bad_request("user[name] is required")
    name = text_param(user.get("name"), "user[name]", MAX_NAME, required=True)
    assert name is not None
    return name, text_param(user.get("id"), "user[id]", MAX_ID), text_param(user.get("avatar"), "user[avatar]", 2048)


class PermalinkService(RoomService):
    async def create(self, params: dict[str, Any]) -> tuple[EyesonPermalink, EyesonPermalinkUser]:
        name, user_id, avatar = host_params(params)
        permalink = EyesonPermalink(
            id=object_id(),
            instance_id=self.instance.id,
            name=text_param(params.get("name"), "name", MAX_NAME) or DEFAULT_NAME,
            options=room_options(params.get("options")),
            guest_token=guest_token(),
            expires_at=parse_expiry(params.get("expires_at")),
            created_at=self.now(),
        )
        self.session.add(permalink)
        await self.session.flush()
        return permalink, await self.add_host(permalink, name, user_id, avatar)

    async def add_host(
        self, permalink: EyesonPermalink, name: str, user_id: str | None, avatar: str | None
    ) -> EyesonPermalinkUser:
        if user_id is not None and await self._host(permalink.id, user_id) is not None:
            raise EyesonError(409, f"user {user_id} is a host of this permalink already")
        host = EyesonPermalinkUser(
            instance_id=self.instance.id,
            permalink_id=permalink.id,
            user_token=access_key(),
            user_id=user_id or object_id(),
            name=name,
            avatar=avatar,
            created_at=self.now(),
        )
        self.session.add(host)
        await self.session.flush()
        return host

    async def _host(self, permalink_id: str, user_id: str) -> EyesonPermalinkUser | None:
        query = select(EyesonPermalinkUser).where(
            EyesonPermalinkUser.permalink_id == permalink_id, EyesonPermalinkUser.user_id == user_id
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get(self, permalink_id: str) -> EyesonPermalink:
        permalink = await self.session.get(EyesonPermalink, permalink_id) if len(permalink_id) <= 36 else None
        if permalink is None or permalink.instance_id != self.instance.id:
            raise not_found("unknown permalink")
        return permalink

    async def hosts(self, permalink_id: str) -> list[EyesonPermalinkUser]:
        query = (
            select(EyesonPermalinkUser)
            .where(EyesonPermalinkUser.permalink_id == permalink_id)
            .order_by(EyesonPermalinkUser.created_at, EyesonPermalinkUser.id)
        )
        return list((await self.session.execute(query)).scalars().all())

    async def host_by_token(self, token: str) -> tuple[EyesonPermalink, EyesonPermalinkUser]:
        query = select(EyesonPermalinkUser).where(
            EyesonPermalinkUser.instance_id == self.instance.id, EyesonPermalinkUser.user_token == token
        )
        host = (await self.session.execute(query)).scalar_one_or_none() if len(token) <= 64 else None
        if host is None:
            raise not_found("unknown user token")
        return await self.get(host.permalink_id), host

    async def update(self, permalink: EyesonPermalink, params: dict[str, Any]) -> None:
        if params.get("name") not in (None, ""):
            permalink.name = text_param(params.get("name"), "name", MAX_NAME) or permalink.name
        if "expires_at" in params:
            permalink.expires_at = parse_expiry(params.get("expires_at"))
        given = params.get("options")
        if isinstance(given, dict):
            merged = {**permalink.options, **given}
            merged["custom_fields"] = {
                **permalink.options.get("custom_fields", {}),
                **(given.get("custom_fields") or {}),
            }
            permalink.options = room_options(merged)
        await self.session.flush()

    async def remove_host(self, permalink: EyesonPermalink, token: str) -> None:
        hosts = await self.hosts(permalink.id)
        host = next((h for h in hosts if h.user_token == token), None)
        if host is None:
            raise not_found("unknown user token")
        await self.session.delete(host)

    async def page(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            page = as_int(params.get("page"), 1)
            limit = as_int(params.get("limit"), 25)
            expired = as_bool(params.get("expired"), None)
        except ParamsError as exc:
            raise bad_request(str(exc)) from None
        if page < 1 or not 1 <= limit <= MAX_PAGE_SIZE:
            raise bad_request(f"page starts at 1; limit is 1 to {MAX_PAGE_SIZE}")
        query = select(EyesonPermalink).where(EyesonPermalink.instance_id == self.instance.id)
        now = self.now()
        if expired is True:
            query = query.where(EyesonPermalink.expires_at.is_not(None), EyesonPermalink.expires_at <= now)
        elif expired is False:
            query = query.where((EyesonPermalink.expires_at.is_(None)) | (EyesonPermalink.expires_at > now))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.execute(
            query.order_by(EyesonPermalink.created_at, EyesonPermalink.id).offset((page - 1) * limit).limit(limit)
        )
        return {"page": page, "limit": limit, "total": int(total or 0), "items": list(rows.scalars().all())}

    # -- meetings of a permalink

    def check_open(self, permalink: EyesonPermalink) -> None:
        if permalink.expires_at is not None and permalink.expires_at <= self.now():
            raise gone("this permalink has expired")

    async def start(self, permalink: EyesonPermalink, host: EyesonPermalinkUser) -> tuple[EyesonMeeting, EyesonUser]:
        """A host's token: the permalink's running meeting, or a new one, with the host in it."""
        self.check_open(permalink)
        meeting = await self.repo.running_meeting(permalink.id)
        if meeting is None:
            meeting = await self._start(permalink.id, permalink.name, dict(permalink.options))
        return meeting, await self._enter(meeting, host.user_id, host.name, host.avatar, guest=False)

    async def guest_meeting(self, token: str) -> EyesonMeeting | None:
        """The running meeting a permalink guest token lets into; None when the token is no permalink's."""
        query = select(EyesonPermalink).where(
            EyesonPermalink.instance_id == self.instance.id, EyesonPermalink.guest_token == token
        )
        permalink = (await self.session.execute(query)).scalar_one_or_none()
        if permalink is None:
            return None
        self.check_open(permalink)
        meeting = await self.repo.running_meeting(permalink.id)
        if meeting is None:
            raise EyesonError(423, "the meeting has not started yet: a host starts it")
        return meeting


def permalink_body(
    permalink: EyesonPermalink,
    meeting: EyesonMeeting | None,
    team_name: str,
    links: Links,
    host: EyesonPermalinkUser | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "permalink": {
            "id": permalink.id,
            "created_at": iso(permalink.created_at),
            "guest_token": permalink.guest_token,
            "expires_at": iso(permalink.expires_at),
        },
        "room": {
            "id": permalink.id,
            "name": permalink.name,
            "started_at": iso(meeting.started_at) if meeting is not None else None,
        },
        "team": {"name": team_name},
        "options": public_options(permalink.options, meeting.layout if meeting is not None else {}),
        "links": {
            "self": f"{links.base}permalink/{permalink.id}",
            "guest_join": links.guest_join(permalink.guest_token),
        },
    }
    if host is not None:
        body["permalink"]["user_token"] = host.user_token
        body["user"] = {
            "id": host.user_id,
            "name": host.name,
            "avatar": host.avatar,
            "guest": False,
            "joined_at": iso(host.created_at),
        }
        body["links"]["gui"] = f"{links.base}gui/?permalink={host.user_token}"
    return body
