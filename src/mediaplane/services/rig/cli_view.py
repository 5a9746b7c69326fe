"""How `mediaplane rig` shows things: streams with what OBS needs, destinations with their keys masked, and
the live status table (drawn once, or redrawn in place every second)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from mediaplane.cli.errors import CliError
from mediaplane.cli.output import Output, cell, short_time
from mediaplane.services.rig.cli_api import JSON

STATUS_STYLES = {"live": "green", "connecting": "yellow", "error": "red", "idle": "dim"}
SHOWN_KEY_CHARS = 4


def mask_key(key: Any) -> Any:
    """A destination's key as tables show it: its first 4 characters and an ellipsis."""
    if not isinstance(key, str) or not key:
        return key
    return key[:SHOWN_KEY_CHARS] + "…" if len(key) > SHOWN_KEY_CHARS else "…"


def mask_url(url: Any, key: Any) -> Any:
    """An RTMP URL with the key at its end masked; a URL that holds the key itself (Custom) loses its last part."""
    if not isinstance(url, str) or not url:
        return url
    if isinstance(key, str) and key and url.endswith(key):
        return url[: -len(key)] + mask_key(key)
    head, sep, last = url.rpartition("/")
    return f"{head}{sep}{mask_key(last)}" if sep and last and "://" in head else url


def obs_server(ingest_url: Any, key: Any) -> Any:
    """What OBS calls the server: the ingest URL without the key at its end."""
    if isinstance(ingest_url, str) and isinstance(key, str) and key and ingest_url.endswith("/" + key):
        return ingest_url[: -len(key) - 1]
    return ingest_url


def live_text(stream: JSON) -> Text:
    if not stream.get("isActive", True):
        return Text("disabled", style="dim")
    return Text("live", style="bold green") if stream.get("isStreaming") else Text("offline")


def destination_status(destination: JSON) -> Text:
    if not destination.get("isActive", True):
        return Text("disabled", style="dim")
    status = str(destination.get("status") or "idle")
    return Text(status, style=STATUS_STYLES.get(status, ""))


def bitrate(destination: JSON) -> str | None:
    value = destination.get("bitrateKbps")
    return f"{value:.0f} kb/s" if isinstance(value, int | float) else None


def stream_row(stream: JSON, show_keys: bool) -> list[Any]:
    key = stream.get("streamKey")
    return [stream.get("id"), key if show_keys else mask_key(key), stream.get("isActive"), live_text(stream)]


def destination_row(destination: JSON, show_keys: bool) -> list[Any]:
    key, url = destination.get("streamKey"), destination.get("rtmpUrl")
    return [
        destination.get("id"),
        destination.get("service"),
        (key if show_keys else mask_key(key)) or None,
        url if show_keys else mask_url(url, key),
        destination.get("isActive"),
        destination_status(destination),
        bitrate(destination),
        destination.get("reconnects"),
        destination.get("lastError"),
    ]


DESTINATION_COLUMNS = ("ID", "Service", "Key", "RTMP URL", "Active", "Status", "Bitrate", "Reconnects", "Last error")


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None) -> Table:
    """Output.table's table, keeping the style of cells that are already rich Text."""
    shown = Table(title=title, title_justify="left")
    for column in columns:
        shown.add_column(column, overflow="fold", no_wrap=column in ("ID", "Stream"))
    for row in rows:
        shown.add_row(*(value if isinstance(value, Text) else cell(value) for value in row))
    return shown


def show_streams(streams: list[JSON], out: Output, show_keys: bool) -> None:
    if not streams:
        out.message(Text("No streams.", style="dim"))
        return
    out.console.print(table(["ID", "Stream key", "Active", "Live"], (stream_row(s, show_keys) for s in streams)))


def show_destinations(destinations: list[JSON], out: Output, show_keys: bool, *, title: str | None = None) -> None:
    if not destinations:
        out.message(Text("No destinations.", style="dim"))
        return
    out.console.print(table(DESTINATION_COLUMNS, (destination_row(d, show_keys) for d in destinations), title=title))


def show_obs(stream: JSON, out: Output) -> None:
    """The two values OBS asks for (Settings → Stream → Service: Custom), each on a line of its own."""
    key = stream.get("streamKey")
    out.fields({"Server": obs_server(stream.get("ingestUrl"), key), "Stream key": key}, title="OBS")


def show_stream(stream: JSON, out: Output, show_keys: bool) -> None:
    out.fields(
        {
            "id": stream.get("id"),
            "active": stream.get("isActive"),
            "live": stream.get("isStreaming"),
            "liveSince": short_time(stream.get("liveSince")),
            "ingestUrl": stream.get("ingestUrl"),
        }
    )
    show_obs(stream, out)
    show_destinations(stream.get("destinations") or [], out, show_keys, title="Destinations")


# -- status ----------------------------------------------------------------------------------------

STATUS_COLUMNS = ("Stream", "Live", "Live since", "Destination", "Status", "Bitrate", "Reconnects", "Last error")


def status_rows(streams: Iterable[JSON]) -> Iterable[list[Any]]:
    """One row per destination; a stream's own columns only on its first row."""
    for stream in streams:
        head = [stream.get("id"), live_text(stream), short_time(stream.get("liveSince"))]
        destinations = stream.get("destinations") or []
        if not destinations:
            yield [*head, None, None, None, None, None]
        for destination in destinations:
            name = f"#{destination.get('id')} {destination.get('service')}"
            yield [
                *head,
                name,
                destination_status(destination),
                bitrate(destination),
                destination.get("reconnects"),
                destination.get("lastError"),
            ]
            head = [Text(""), Text(""), Text("")]


def status_table(streams: list[JSON], *, caption: str | None = None) -> Table:
    shown = table(STATUS_COLUMNS, status_rows(streams))
    if not streams:
        shown.caption = "No streams."
    if caption:
        shown.caption = f"{shown.caption}  {caption}" if shown.caption else caption
    return shown


def watch_status(fetch: Callable[[], list[JSON]], out: Output, first: list[JSON], interval: float = 1.0) -> None:
    """Redraws the status table in place every `interval` seconds until Ctrl-C; a failed refresh is shown under
    the last table and tried again."""

    def caption() -> str:
        return f"updated {datetime.now().strftime('%H:%M:%S')}; Ctrl-C stops"

    def render(streams: list[JSON], error: str | None = None) -> RenderableType:
        shown = status_table(streams, caption=caption())
        return shown if error is None else Group(shown, Text(f"Error: {error}", style="bold red"))

    last = first
    try:
        with Live(render(first), console=out.console, auto_refresh=False) as live:
            while True:
                time.sleep(interval)
                try:
                    last = fetch()
                    live.update(render(last), refresh=True)
                except CliError as exc:
                    live.update(render(last, str(exc)), refresh=True)
    except KeyboardInterrupt:
        return
