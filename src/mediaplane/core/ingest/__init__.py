"""The platform's live RTMP ingest: services admit publishes and name outputs; the platform relays them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mediaplane.core.ingest.control import IngestControl
from mediaplane.core.ingest.spec import (
    Admission,
    IngestHandler,
    Output,
    OutputState,
    OutputStatus,
    Publish,
    Refused,
    SessionEnd,
)

if TYPE_CHECKING:
    from mediaplane.core.runtime import Runtime

__all__ = [
    "Admission",
    "IngestControl",
    "IngestHandler",
    "Output",
    "OutputState",
    "OutputStatus",
    "Publish",
    "Refused",
    "SessionEnd",
    "ingest_control",
]


def ingest_control(runtime: Runtime) -> IngestControl:
    control = runtime.extras.get("ingest.control")
    if not isinstance(control, IngestControl):
        control = IngestControl(runtime.events)
        runtime.extras["ingest.control"] = control
    return control
