"""`mediaplane rig ...`: log in to a rig instance, manage its streams and their destinations, watch them live.

The CLI imports this module whenever it looks for service commands, so it and its `cli_api`, `cli_view` and
`cli_tokens` import only typer, rich, httpx and the CLI's own helpers, never the server side of the service.
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from typing import Any

import typer

from mediaplane.cli.errors import CliError
from mediaplane.cli.state import CliState
from mediaplane.services.rig.cli_api import (
    CREATE_FAILED,
    INVALID_CREDENTIALS,
    JSON,
    PASSWORD_ENV,
    SERVICE_ID,
    USERNAME_ENV,
    RigApi,
    RigApiError,
    find_instance,
    remember_login,
    rig_api,
)
from mediaplane.services.rig.cli_tokens import save_login, saved_login, tokens_path
from mediaplane.services.rig.cli_view import (
    show_destinations,
    show_obs,
    show_stream,
    show_streams,
    status_table,
    watch_status,
)

WATCH_SECONDS = 1.0


class Service(StrEnum):
    YOUTUBE = "YouTube"
    TWITCH = "Twitch"
    CUSTOM = "Custom"


NAME = typer.Argument(..., metavar="NAME", help="Name of the rig instance")
STREAM_ID = typer.Argument(..., metavar="STREAM_ID", help="Id of the stream")
DESTINATION_ID = typer.Argument(..., metavar="DESTINATION_ID", help="Id of the destination")
SHOW_KEYS = typer.Option(False, "--show-keys", help="Show stream keys in full (tables mask them)")
YES = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation")


def read_password(given: str | None, *, confirm: bool, label: str = "Password", option: str = "--password") -> str:
    """The option's value, else a hidden prompt on a terminal, else one line piped on stdin."""
    if given:
        return given
    if sys.stdin.isatty():
        return str(typer.prompt(label, hide_input=True, confirmation_prompt=confirm, err=True))
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise CliError(f"No {label.lower()}: pass {option} or pipe it on stdin")
    return line


def confirm(question: str, refused: str) -> None:
    if not sys.stdin.isatty():
        raise CliError(f"{refused} without confirmation (stdin is not a terminal): pass -y/--yes")
    answer = typer.prompt(f"{question} (yes/no)", default="", show_default=False, prompt_suffix=" ", err=True)
    if str(answer).strip().lower() not in ("yes", "y"):
        raise CliError(refused)


def payload_dict(payload: Any) -> JSON:
    return payload if isinstance(payload, dict) else {}


def payload_list(payload: Any) -> list[JSON]:
    return [item for item in payload if isinstance(item, dict)] if isinstance(payload, list) else []


# -- accounts --------------------------------------------------------------------------------------

USERNAME = typer.Option(..., "--username", "-u", envvar=USERNAME_ENV, help="rig account name")
PASSWORD = typer.Option(None, "--password", envvar=PASSWORD_ENV, help="Asked for (hidden) when not given")


def signup(
    ctx: typer.Context,
    name: str = NAME,
    username: str = USERNAME,
    email: str = typer.Option(..., "--email", "-e", help="The account's email address"),
    password: str | None = PASSWORD,
) -> None:
    """Create an account on the instance, then log in with it (its token is saved)."""
    state = CliState.of(ctx)
    secret = read_password(password, confirm=True)
    found = find_instance(state, name)
    with RigApi(found.url, on_login=remember_login(found.url)) as api:
        try:
            created = api.signup(username, email, secret, headers=found.owner_headers)
        except RigApiError as exc:
            if exc.error_code != CREATE_FAILED:
                raise
            message = f"{exc.message} (is the username {username} or the email {email} taken already?)"
            raise CliError(message, status=exc.status) from None
        api.login(username, secret)
    state.out.message(f"Created rig account {username} on {name} and logged in (token saved in {tokens_path()})")
    state.out.result(created.payload, lambda: state.out.fields(payload_dict(created.payload)))


def login(ctx: typer.Context, name: str = NAME, username: str = USERNAME, password: str | None = PASSWORD) -> None:
    """Log in to the instance with a rig account; the token is saved for the next commands."""
    state = CliState.of(ctx)
    secret = read_password(password, confirm=False)
    url = find_instance(state, name).url
    with RigApi(url, on_login=remember_login(url)) as api:
        try:
            reply = api.login(username, secret)
        except RigApiError as exc:
            if exc.error_code != INVALID_CREDENTIALS:
                raise
            raise CliError(f"Invalid credentials: wrong username or password for {name}", status=exc.status) from None
    state.out.message(f"Logged in to rig instance {name} as {username} (token saved in {tokens_path()})")
    if state.json_mode:
        state.out.json(reply.payload)


def password(
    ctx: typer.Context,
    name: str = NAME,
    old: str | None = typer.Option(None, "--old-password", help="Asked for (hidden) when not given"),
    new: str | None = typer.Option(None, "--new-password", help="Asked for (hidden) when not given"),
) -> None:
    """Change the password of the account you are logged in with (the saved token stays valid)."""
    state = CliState.of(ctx)
    current = read_password(old, confirm=False, label="Current password", option="--old-password")
    chosen = read_password(new, confirm=True, label="New password", option="--new-password")
    with rig_api(state, name) as api:
        reply = api.change_password(current, chosen)
    state.out.message(f"Changed the password of {payload_dict(reply.payload).get('username')} on {name}")
    if state.json_mode:
        state.out.json(reply.payload)


def logout(ctx: typer.Context, name: str = NAME) -> None:
    """Forget the saved token of the instance."""
    state = CliState.of(ctx)
    url = find_instance(state, name).url
    saved = saved_login(url)
    save_login(url, None)
    if saved is None:
        state.out.message(f"Not logged in to rig instance {name}")
    else:
        state.out.message(f"Logged out of rig instance {name} ({saved.username})")
    if state.json_mode:
        state.out.json({"name": name, "loggedOut": saved is not None})


# -- streams ---------------------------------------------------------------------------------------


def streams_list(ctx: typer.Context, name: str = NAME, show_keys: bool = SHOW_KEYS) -> None:
    """List the account's streams."""
    state = CliState.of(ctx)
    with rig_api(state, name) as api:
        reply = api.streams()
    state.out.result(reply.payload, lambda: show_streams(payload_list(reply.payload), state.out, show_keys))


def streams_create(ctx: typer.Context, name: str = NAME) -> None:
    """Create a stream: its ingest URL and stream key go into OBS (Settings → Stream → Custom)."""
    state = CliState.of(ctx)
    with rig_api(state, name) as api:
        created = api.create_stream()
        stream_id = str(payload_dict(created.payload).get("id"))
        detail = api.stream(stream_id).payload
    state.out.message(
        f"Created stream {stream_id}; relay it with: "
        f"mediaplane rig destinations add {name} {stream_id} --service YouTube --key KEY"
    )
    state.out.result(created.payload, lambda: show_stream(payload_dict(detail), state.out, False))


def streams_show(ctx: typer.Context, name: str = NAME, stream_id: str = STREAM_ID, show_keys: bool = SHOW_KEYS) -> None:
    """Show a stream: live state, ingest URL and key for OBS, destinations."""
    state = CliState.of(ctx)
    with rig_api(state, name) as api:
        reply = api.stream(stream_id)
    state.out.result(reply.payload, lambda: show_stream(payload_dict(reply.payload), state.out, show_keys))


def streams_rotate_key(ctx: typer.Context, name: str = NAME, stream_id: str = STREAM_ID) -> None:
    """Give the stream a new key; the old one stops working and a live session on it ends now."""
    state = CliState.of(ctx)
    with rig_api(state, name) as api:
        was_live = bool(payload_dict(api.stream(stream_id).payload).get("isStreaming"))
        reply = api.change_key(stream_id)
        detail = payload_dict(api.stream(stream_id).payload)
    if was_live:
        state.out.message(
            f"Warning: stream {stream_id} was live; changing its key ended that session. "
            "Publish again with the new key."
        )
    else:
        state.out.message(f"Stream {stream_id} has a new key; the old key no longer works.")
    state.out.result(reply.payload, lambda: show_obs(detail, state.out))


def set_stream_active(ctx: typer.Context, name: str, stream_id: str, active: bool) -> None:
    state = CliState.of(ctx)
    with rig_api(state, name) as api:
        was_live = bool(payload_dict(api.stream(stream_id).payload).get("isStreaming"))
        reply = api.set_stream_active(stream_id, active)
    if active:
        state.out.message(f"Stream {stream_id} enabled: publishing to its key is accepted")
    else:
        ended = "; its live session ended" if was_live else ""
        state.out.message(f"Stream {stream_id} disabled: publishing to its key is refused{ended}")
    if state.json_mode:
        state.out.json(reply.payload)


def streams_enable(ctx: typer.Context, name: str = NAME, stream_id: str = STREAM_ID) -> None:
    """Accept publishing to the stream's key again."""
    set_stream_active(ctx, name, stream_id, True)


def streams_disable(ctx: typer.Context, name: str = NAME, stream_id: str = STREAM_ID) -> None:
    """Refuse publishing to the stream's key (a live session ends); its settings are kept."""
    set_stream_active(ctx, name, stream_id, False)


def streams_delete(ctx: typer.Context, name: str = NAME, stream_id: str = STREAM_ID, yes: bool = YES) -> None:
    """Delete a stream and its destinations (a live session ends)."""
    state = CliState.of(ctx)
    if not yes:
        confirm(f"Delete stream {stream_id} and its destinations?", f"Not deleting stream {stream_id}")
    with rig_api(state, name) as api:
        reply = api.delete_stream(stream_id)
    state.out.message(f"Deleted stream {stream_id}")
    if state.json_mode:
        state.out.json(reply.payload)


# -- destinations ----------------------------------------------------------------------------------


def destination_body(service: Service, key: str | None, url: str | None) -> JSON:
    """The body of POST /streams/{id}/destination: a named service takes a key; Custom an RTMP(S) URL too."""
    if service is Service.CUSTOM:
        if not url:
            raise CliError("--service Custom needs --rtmp-url rtmp://HOST[:PORT]/APP (or rtmps://)")
        return {"service": service.value, "rtmpUrl": url, "streamKey": key or ""}
    if url:
        raise CliError(f"--rtmp-url is only for --service Custom; {service.value} has its own ingest URL")
    if not key:
        raise CliError(f"--service {service.value} needs --key (the stream key {service.value} gave you)")
    return {"service": service.value, "streamKey": key}


def destinations_list(
    ctx: typer.Context, name: str = NAME, stream_id: str = STREAM_ID, show_keys: bool = SHOW_KEYS
) -> None:
    """List a stream's destinations with their live state (keys masked unless --show-keys)."""
    state = CliState.of(ctx)
    with rig_api(state, name) as api:
        reply = api.destinations(stream_id)
    state.out.result(reply.payload, lambda: show_destinations(payload_list(reply.payload), state.out, show_keys))


def destinations_add(
    ctx: typer.Context,
    name: str = NAME,
    stream_id: str = STREAM_ID,
    service: Service = typer.Option(..., "--service", "-s", case_sensitive=False, help="Where to relay the stream"),
    key: str | None = typer.Option(None, "--key", "-k", help="The stream key the service gave you"),
    # Not --url: that is the global option naming the mediaplane server.
    rtmp_url: str | None = typer.Option(
        None, "--rtmp-url", help="Custom only: rtmp(s)://HOST[:PORT]/APP (the key, if any, is appended)"
    ),
    show_keys: bool = SHOW_KEYS,
) -> None:
    """Relay the stream to YouTube, Twitch or any RTMP(S) server as well."""
    state = CliState.of(ctx)
    body = destination_body(service, key, rtmp_url)
    with rig_api(state, name) as api:
        reply = api.add_destination(stream_id, body)
    added = payload_dict(reply.payload)
    state.out.message(f"Added {added.get('service')} destination {added.get('id')} to stream {stream_id}")
    state.out.result(reply.payload, lambda: show_destinations([added], state.out, show_keys))


def set_destination_active(ctx: typer.Context, name: str, stream_id: str, destination_id: int, active: bool) -> None:
    state = CliState.of(ctx)
    with rig_api(state, name) as api:
        reply = api.update_destination(stream_id, destination_id, {"isActive": active})
    state.out.message(f"Destination {destination_id} {'enabled' if active else 'disabled'}")
    if state.json_mode:
        state.out.json(reply.payload)


def destinations_enable(
    ctx: typer.Context, name: str = NAME, stream_id: str = STREAM_ID, destination_id: int = DESTINATION_ID
) -> None:
    """Relay to the destination again (at once when the stream is live)."""
    set_destination_active(ctx, name, stream_id, destination_id, True)


def destinations_disable(
    ctx: typer.Context, name: str = NAME, stream_id: str = STREAM_ID, destination_id: int = DESTINATION_ID
) -> None:
    """Stop relaying to the destination, keeping it for later."""
    set_destination_active(ctx, name, stream_id, destination_id, False)


def destinations_remove(
    ctx: typer.Context, name: str = NAME, stream_id: str = STREAM_ID, destination_id: int = DESTINATION_ID
) -> None:
    """Remove a destination from the stream."""
    state = CliState.of(ctx)
    with rig_api(state, name) as api:
        reply = api.remove_destination(stream_id, destination_id)
    state.out.message(f"Removed destination {destination_id} from stream {stream_id}")
    if state.json_mode:
        state.out.json(reply.payload)


# -- status ----------------------------------------------------------------------------------------


def read_status(api: RigApi, stream_id: str | None) -> list[JSON]:
    """Each stream in full (the list leaves destinations out), or the one asked for."""
    if stream_id is not None:
        return [payload_dict(api.stream(stream_id).payload)]
    ids = [str(item.get("id")) for item in payload_list(api.streams().payload)]
    return [payload_dict(api.stream(one).payload) for one in ids]


def status(
    ctx: typer.Context,
    name: str = NAME,
    stream_id: str | None = typer.Argument(None, metavar="[STREAM_ID]", help="Only this stream"),
    watch: bool = typer.Option(False, "--watch", "-w", help="Refresh every second until Ctrl-C"),
) -> None:
    """Live or not, since when, and every destination's status, bitrate, reconnects and last error."""
    state = CliState.of(ctx)
    out = state.out
    with rig_api(state, name) as api:
        streams = read_status(api, stream_id)

        def payload(found: list[JSON]) -> Any:
            return found[0] if stream_id is not None else found

        if not watch:
            out.result(payload(streams), lambda: out.console.print(status_table(streams)))
            return
        if not out.json_mode:
            watch_status(lambda: read_status(api, stream_id), out, streams, WATCH_SECONDS)
            return
        try:  # one JSON document a line, a line a second
            while True:
                sys.stdout.write(json.dumps(payload(streams), separators=(",", ":"), default=str) + "\n")
                sys.stdout.flush()
                time.sleep(WATCH_SECONDS)
                streams = read_status(api, stream_id)
        except KeyboardInterrupt:
            return


def rig_cli() -> typer.Typer:
    """The `mediaplane rig` command group."""
    app = typer.Typer(
        name=SERVICE_ID,
        help="Multistreaming on a rig instance: accounts, streams (ingest URL and key for OBS), destinations, "
        "live status.",
        no_args_is_help=True,
        add_completion=False,
    )
    app.command()(signup)
    app.command()(login)
    app.command()(logout)
    app.command()(password)
    app.command()(status)

    streams = typer.Typer(help="Streams: each one RTMP ingest key, relayed to its destinations.", no_args_is_help=True)
    streams.command("list")(streams_list)
    streams.command("create")(streams_create)
    streams.command("show")(streams_show)
    streams.command("rotate-key")(streams_rotate_key)
    streams.command("enable")(streams_enable)
    streams.command("disable")(streams_disable)
    streams.command("delete")(streams_delete)
    app.add_typer(streams, name="streams")

    destinations = typer.Typer(help="Where a stream is relayed: YouTube, Twitch, any RTMP(S).", no_args_is_help=True)
    destinations.command("list")(destinations_list)
    destinations.command("add")(destinations_add)
    destinations.command("enable")(destinations_enable)
    destinations.command("disable")(destinations_disable)
    destinations.command("remove")(destinations_remove)
    app.add_typer(destinations, name="destinations")
    return app
