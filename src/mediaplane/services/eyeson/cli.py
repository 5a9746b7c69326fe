"""`mediaplane eyeson ...`: the running meetings of an eyeson instance, join links, users, chat messages,
stopping a meeting, the team's webhook, and a new API key.

The CLI imports this module whenever it looks for service commands, so it and its `cli_api` and `cli_view`
import only typer, rich, httpx and the CLI's own helpers, never the server side of the service.
"""

from __future__ import annotations

from enum import StrEnum

import typer

from mediaplane.cli.errors import CliError
from mediaplane.cli.state import CliState
from mediaplane.services.eyeson.cli_api import (
    API_KEY_ENV,
    SERVICE_ID,
    eyeson_api,
    new_api_key,
    set_instance_key,
)
from mediaplane.services.eyeson.cli_view import (
    as_dict,
    as_list,
    fields_table,
    join_fields,
    show_rooms,
    show_users,
    show_webhook,
)

WEBHOOK_TYPES = ("room_update", "recording_update")


class MessageType(StrEnum):
    CHAT = "chat"
    CUSTOM = "custom"


NAME = typer.Argument(..., metavar="NAME", help="Name of the eyeson instance")
ROOM_ID = typer.Argument(..., metavar="ROOM_ID", help="The room's id (as `mediaplane eyeson rooms` lists it)")
API_KEY = typer.Option(
    None,
    "--api-key",
    envvar=API_KEY_ENV,
    help="The team's API key (default: the instance's apiKey, as `mediaplane describe eyeson NAME` shows it)",
)


def read_options(pairs: list[str]) -> dict[str, str]:
    """`KEY=VALUE` pairs as eyeson's form fields `options[KEY]=VALUE` (`custom_fields[locale]=de` nests)."""
    form = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(f"--option {pair!r}: give KEY=VALUE (e.g. show_names=false or custom_fields[locale]=de)")
        head, bracket, rest = key.partition("[")
        form[f"options[{head}]{bracket}{rest}"] = value
    return form


def rooms(ctx: typer.Context, name: str = NAME, api_key: str | None = API_KEY) -> None:
    """List the meetings running now (GET /rooms)."""
    state = CliState.of(ctx)
    with eyeson_api(state, name, api_key) as api:
        running = api.rooms()
    state.out.result(running, lambda: show_rooms(as_list(running), state.out))


def join_link(
    ctx: typer.Context,
    name: str = NAME,
    user: str = typer.Option(..., "--user", "-u", help="The display name of the user who joins"),
    room: str | None = typer.Option(
        None, "--room", "-r", help="The room's id: its running meeting is joined, else one starts (default: a new id)"
    ),
    user_id: str | None = typer.Option(None, "--user-id", help="Your id for the user (default: a new id)"),
    room_name: str | None = typer.Option(None, "--room-name", help="A readable name for a new room"),
    options: list[str] = typer.Option(
        [], "--option", "-o", help="A room option KEY=VALUE, sent as options[KEY]; repeat for more"
    ),
    guest_link: bool = typer.Option(False, "--guest-link", "-g", help="Print the guest link after the GUI link"),
    api_key: str | None = API_KEY,
) -> None:
    """Start a meeting or join the running one (POST /rooms): prints the link to open in a browser.

    The link (and the guest link with --guest-link) goes to stdout, one per line; the room, the access key and
    whether the meeting is ready go to stderr. --json prints the whole answer.
    """
    state = CliState.of(ctx)
    form = {"user[name]": user}
    if room:
        form["id"] = room
    if user_id:
        form["user[id]"] = user_id
    if room_name:
        form["name"] = room_name
    form.update(read_options(options))
    with eyeson_api(state, name, api_key) as api:
        answer = as_dict(api.join(form))
    if state.json_mode:
        state.out.json(answer)
        return
    fields = join_fields(answer)
    state.out.message(f"Open this link in a browser to join room {fields['room']} as {fields['user']}:")
    state.out.line(str(fields["GUI link"]))
    if guest_link:
        if not fields["guest link"]:
            raise CliError(f"Room {fields['room']} has no guest link (options[guest_token_available] is false)")
        state.out.line(str(fields["guest link"]))
    state.out.stderr.print(fields_table(fields))


def users(
    ctx: typer.Context,
    name: str = NAME,
    room_id: str = ROOM_ID,
    online: bool | None = typer.Option(
        None, "--online/--offline", help="Only the users connected now, or only the others (default: all)"
    ),
    api_key: str | None = API_KEY,
) -> None:
    """List the users of a room's running (or last) meeting (GET /rooms/ROOM_ID/users)."""
    state = CliState.of(ctx)
    with eyeson_api(state, name, api_key) as api:
        found = api.users(room_id, online)
    state.out.result(found, lambda: show_users(as_list(found), state.out))


def say(
    ctx: typer.Context,
    name: str = NAME,
    access_key: str = typer.Argument(..., metavar="ACCESS_KEY", help="A user's access key (join-link prints it)"),
    message: str = typer.Argument(..., metavar="MESSAGE", help="What to send"),
    kind: MessageType = typer.Option(
        MessageType.CHAT, "--type", "-t", case_sensitive=False, help="chat (shown in the chat) or custom"
    ),
) -> None:
    """Send a message to everyone in the meeting, as the user of ACCESS_KEY (POST /rooms/ACCESS_KEY/messages)."""
    state = CliState.of(ctx)
    with eyeson_api(state, name) as api:
        api.say(access_key, kind.value, message)
    state.out.message(f"Sent a {kind.value} message to the meeting")
    if state.json_mode:
        state.out.json({"sent": True, "type": kind.value, "content": message})


def stop(ctx: typer.Context, name: str = NAME, room_id: str = ROOM_ID, api_key: str | None = API_KEY) -> None:
    """Stop the room's running meeting for everyone (DELETE /rooms/ROOM_ID); its access keys stop working."""
    state = CliState.of(ctx)
    with eyeson_api(state, name, api_key) as api:
        api.stop(room_id)
    state.out.message(f"Stopped the meeting of room {room_id}")
    if state.json_mode:
        state.out.json({"room": room_id, "stopped": True})


def read_types(value: str) -> str:
    types = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in types if t not in WEBHOOK_TYPES]
    if not types or unknown:
        raise CliError(f"--types {value!r}: give one or more of {', '.join(WEBHOOK_TYPES)}, comma separated")
    return ",".join(dict.fromkeys(types))


def webhook(
    ctx: typer.Context,
    name: str = NAME,
    # Not --url: that is the global option naming the mediaplane server.
    webhook_url: str | None = typer.Option(
        None, "--webhook-url", "-w", help="Register this http(s) URL (it replaces the webhook there was)"
    ),
    types: str | None = typer.Option(
        None, "--types", help="With --webhook-url: room_update, recording_update, comma separated (default: both)"
    ),
    clear: bool = typer.Option(False, "--clear", help="Remove the webhook"),
    api_key: str | None = API_KEY,
) -> None:
    """Show the team's webhook and its last delivery; register one with --webhook-url, remove it with --clear.

    Each delivery is signed: X-Eyeson-Signature is the HMAC-SHA256 of the body with the API key.
    """
    state = CliState.of(ctx)
    if clear and (webhook_url or types):
        raise CliError("--clear removes the webhook: give it without --webhook-url and --types")
    if types is not None and not webhook_url:
        raise CliError("--types goes with --webhook-url URL")
    if webhook_url:
        chosen = read_types(types if types is not None else ",".join(WEBHOOK_TYPES))
        with eyeson_api(state, name, api_key) as api:
            hook = as_dict(api.set_webhook(webhook_url, chosen))
        state.out.message(f"Registered webhook {hook.get('id')}: {chosen} to {webhook_url}")
        state.out.result(hook, lambda: show_webhook(hook, state.out))
        return
    with eyeson_api(state, name, api_key) as api:
        current = api.webhook()
        if clear and isinstance(current, dict) and current.get("id"):
            api.remove_webhook(str(current["id"]))
    if clear:
        removed = current.get("id") if isinstance(current, dict) else None
        state.out.message(f"Removed webhook {removed}" if removed else "No webhook to remove")
        if state.json_mode:
            state.out.json({"removed": removed})
        return
    if not isinstance(current, dict):
        state.out.message("No webhook.")
        if state.json_mode:
            state.out.json(None)
        return
    state.out.result(current, lambda: show_webhook(current, state.out))


def rotate_key(ctx: typer.Context, name: str = NAME) -> None:
    """Give the instance a new API key (PATCH of its apiKey option on the platform) and print it; the old key
    stops working at once."""
    state = CliState.of(ctx)
    key = new_api_key()
    set_instance_key(state, name, key)
    state.out.message(
        f"The eyeson instance {name} has a new API key; the old one no longer works, and webhooks are signed "
        "with the new one:"
    )
    if state.json_mode:
        state.out.json({"name": name, "apiKey": key})
    else:
        state.out.line(key)


def eyeson_cli() -> typer.Typer:
    """The `mediaplane eyeson` command group."""
    app = typer.Typer(
        name=SERVICE_ID,
        help="Video rooms on an eyeson instance: running meetings, join links, users, messages, webhook, API key.",
        no_args_is_help=True,
        add_completion=False,
    )
    app.command()(rooms)
    app.command("join-link")(join_link)
    app.command()(users)
    app.command()(say)
    app.command()(stop)
    app.command()(webhook)
    app.command("rotate-key")(rotate_key)
    return app
