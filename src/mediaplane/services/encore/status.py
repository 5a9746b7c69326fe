"""Encore's job statuses, in a module of their own so the CLI can use them without loading the schemas."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "NEW"
    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCESSFUL = "SUCCESSFUL"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def completed(self) -> bool:
        return self in (Status.SUCCESSFUL, Status.FAILED, Status.CANCELLED)
