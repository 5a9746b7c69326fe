"""Where output goes: results on stdout (JSON with --json), messages and errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mediaplane.cli.errors import CliError


def short_time(value: Any) -> Any:
    """An ISO timestamp from the API as people read it (`2026-11-23 09:45:12Z`); anything else unchanged."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + ("Z" if moment.tzinfo is not None else "")


def cell(value: Any) -> Text:
    """A table cell that shows the value as it is (no rich markup, no highlighting)."""
    if value is None:
        return Text("-", style="dim")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, dict | list):
        return Text(json.dumps(value, separators=(",", ":")))
    return Text(str(value))


class Output:
    """Formats one command's output for people or, with --json, for programs."""

    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode
        self.console = Console(highlight=False)
        self.stderr = Console(stderr=True, highlight=False)

    def result(self, data: Any, human: Callable[[], None] | None = None) -> None:
        """The command's result: `data` as JSON with --json, else whatever `human` prints."""
        if self.json_mode or human is None:
            self.json(data)
        else:
            human()

    def json(self, data: Any) -> None:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        sys.stdout.flush()

    def line(self, text: str) -> None:
        """One line on stdout exactly as given: tokens must survive copy and paste unwrapped."""
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def message(self, text: str | Text) -> None:
        """A note for the person at the terminal (stderr, so stdout stays clean for pipes)."""
        self.stderr.print(text)

    def error(self, error: CliError) -> None:
        if self.json_mode:
            body: dict[str, Any] = {"error": error.message}
            if error.status is not None:
                body["status"] = error.status
            self.json(body)
        else:
            self.stderr.print(Text.assemble(("Error: ", "bold red"), str(error)))

    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        title: str | None = None,
        empty: str | None = None,
        no_wrap: Sequence[str] = (),
    ) -> None:
        """A table; the `no_wrap` columns (paths, names) are never folded, the others fold to fit."""
        materialised = [list(row) for row in rows]
        if not materialised and empty is not None:
            self.message(Text(empty, style="dim"))
            return
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold", no_wrap=column in no_wrap)
        for row in materialised:
            table.add_row(*(cell(value) for value in row))
        self.console.print(table)

    def fields(self, data: Mapping[str, Any], *, title: str | None = None) -> None:
        """A two-column table of one object's fields."""
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for key, value in data.items():
            table.add_row(Text(key), cell(value))
        self.console.print(table)
