"""The point types of gosd's web client (SDWC): what a node offers, each with a fixed id.

`livestream_flv` is 2 as in the spec's example; the other ids are mediaplane's own (gosd v2 kept them in a
static file). A point's `type` is its type's name, as later SDWC reads it; `point_type_name` is the same.
"""

from __future__ import annotations

POINT_TYPES: dict[int, str] = {
    1: "livestream_img",
    2: "livestream_flv",
    3: "livestream_hls",
    4: "livestream_webrtc",
    5: "livestream_webrtc2",
    6: "livestream_webrtc3",
    7: "livestream_webrtc4",
    8: "livestream_webrtc_srs",
    9: "monitor",
    10: "iframe",
    11: "drone_status",
    12: "depot_status",
    13: "map",
    14: "battery",
    15: "weather",
    16: "gimbal",
    17: "console",
    18: "debug",
    19: "custom",
    20: "settings",
    21: "speaker",
}
BY_NAME = {name: type_id for type_id, name in POINT_TYPES.items()}


def type_name(type_id: int) -> str:
    return POINT_TYPES.get(type_id, "unknown")
