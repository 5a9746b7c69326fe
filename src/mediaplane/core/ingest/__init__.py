"""The platform's live RTMP ingest: services admit publishes and name outputs; the platform relays them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mediaplane.core.ingest.control import IngestControl
from mediaplane.core.ingest.nginx import IngestLayout, ingest_root
from mediaplane.core.ingest.preview import preview_playlist, preview_segment, renamed_segments, want_preview
from mediaplane.core.ingest.spec import (
    Admission,
    IngestHandler,
    Output,
    OutputState,
    OutputStatus,
    Publish,
    Refused,
    SessionEnd,
    node_name,
)

if TYPE_CHECKING:
    from mediaplane.config import Settings
    from mediaplane.core.runtime import Runtime

__all__ = [
    "Admission",
    "IngestControl",
    "IngestHandler",
    "IngestLayout",
    "Output",
    "OutputState",
    "OutputStatus",
    "Publish",
    "Refused",
    "SessionEnd",
    "ingest_control",
    "ingest_layout",
    "node_name",
    "preview_playlist",
    "preview_segment",
    "renamed_segments",
    "want_preview",
]


def ingest_control(runtime: Runtime) -> IngestControl:
    control = runtime.extras.get("ingest.control")
    if not isinstance(control, IngestControl):
        control = IngestControl(runtime.events)
        runtime.extras["ingest.control"] = control
    return control


def ingest_layout(settings: Settings) -> IngestLayout:
    """Where this node's ingest keeps its files (HLS previews are read from here)."""
    return IngestLayout(ingest_root(settings.data_dir))
