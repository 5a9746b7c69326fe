"""The one error type commands raise: a message for the user, never a traceback."""

from __future__ import annotations


class CliError(Exception):
    """A failure to report as `Error: <message>` (or `{"error": ...}` with --json) and exit non-zero.

    `status` is the HTTP status when the platform answered with an error.
    """

    def __init__(self, message: str, *, status: int | None = None, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message if self.status is None else f"{self.message} (HTTP {self.status})"
