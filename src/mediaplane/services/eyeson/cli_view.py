"""How `mediaplane eyeson` shows things: running meetings, a room's users, a join link's details, the webhook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.text import Text

from mediaplane.cli.output import Output, cell, short_time
from mediaplane.services.eyeson.cli_api import JSON


def as_dict(data: Any) -> JSON:
    return data if isinstance(data, dict) else {}


def as_list(data: Any) -> list[JSON]:
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def show_rooms(rooms: list[JSON], out: Output) -> None:
    rows = (
        [
            room.get("id"),
            room.get("name"),
            room.get("ready"),
            short_time(room.get("started_at")),
            room.get("shutdown"),
            room.get("guest_token"),
        ]
        for room in rooms
    )
    columns = ["ID", "Name", "Ready", "Started", "Shut down", "Guest token"]
    out.table(columns, rows, empty="No meetings running.", no_wrap=["ID", "Guest token"])


def show_users(users: list[JSON], out: Output) -> None:
    rows = (
        [user.get("id"), user.get("name"), user.get("guest"), user.get("online"), user.get("avatar")] for user in users
    )
    out.table(["ID", "Name", "Guest", "Online", "Avatar"], rows, empty="No users.", no_wrap=["ID"])


def join_fields(answer: JSON) -> dict[str, Any]:
    """What a person needs of POST /rooms' answer: where to click, the access key, whether it is ready."""
    room, user, links = as_dict(answer.get("room")), as_dict(answer.get("user")), as_dict(answer.get("links"))
    return {
        "room": room.get("id"),
        "room name": room.get("name"),
        "user": user.get("name"),
        "user id": user.get("id"),
        "ready": answer.get("ready"),
        "access key": answer.get("access_key"),
        "GUI link": links.get("gui"),
        "guest link": links.get("guest_join"),
    }


def fields_table(data: Mapping[str, Any], *, title: str | None = None) -> Table:
    """Output.fields' two-column table, to print on either console."""
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in data.items():
        table.add_row(Text(key), cell(value))
    return table


def show_webhook(hook: JSON, out: Output) -> None:
    out.fields(
        {
            "id": hook.get("id"),
            "url": hook.get("url"),
            "types": hook.get("types"),
            "last request sent": short_time(hook.get("last_request_sent_at")),
            "last response code": hook.get("last_response_code"),
        }
    )
