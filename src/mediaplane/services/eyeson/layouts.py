"""POST /rooms/:access_key/layout: the layout a request asks for (auto or custom, a named layout, a pixel map,
the podium users with empty spots, names shown or not), checked, and the spots of named layouts."""

from __future__ import annotations

import json
from typing import Any

from mediaplane.kit.railsparams import ParamsError, as_bool
from mediaplane.services.eyeson.errors import bad_request

Rect = tuple[int, int, int, int]
NAMES = (
    "one",
    "two",
    "four",
    "six",
    "nine",
    "present-lower-3",
    "present-upper-6",
    "present-two-upper-6",
    "present-upper-right-9",
    "present-vertical-9",
)
GRID = {"one": 1, "two": 2, "four": 4, "six": 6, "nine": 9}
MAX_SPOTS = 10
FITS = ("auto", "contain", "cover")


def parse_layout(params: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The new layout state from the request over the current one."""
    layout = dict(current)
    mode = params.get("layout")
    if mode not in (None, ""):
        if mode not in ("auto", "custom"):
            raise bad_request("layout must be auto or custom")
        layout["layout"] = mode
    users = _users(params)
    if users is not None:
        if len(users) > MAX_SPOTS * 2:
            raise bad_request("users lists at most 20 spots")
        layout["users"] = users
        if mode in (None, ""):
            layout["layout"] = "custom"
    spots = _map(params.get("map"))
    name = params.get("name")
    # An empty name or map given clears it (back to the grid).
    if name == "" or params.get("map") == "":
        layout["name"], layout["map"] = None, None
    if spots is not None:
        layout["map"] = spots
        layout["name"] = str(name) if name not in (None, "") else "custom-map"
    elif name not in (None, ""):
        if name not in NAMES:
            raise bad_request(f"name must be one of {', '.join(NAMES)}, or come with a map")
        layout["name"], layout["map"] = str(name), None
    try:
        for flag in ("show_names", "voice_activation"):
            if params.get(flag) not in (None, ""):
                layout[flag] = as_bool(params.get(flag), True)
    except ParamsError as exc:
        raise bad_request(str(exc)) from None
    return layout


def _users(params: dict[str, Any]) -> list[str] | None:
    value = params.get("users")
    if value is None:
        return None
    if isinstance(value, str):
        # A bare string is one spot ("" clears the podium, as eyeson's clients send it).
        return [value] if value else []
    if isinstance(value, dict):
        value = [value[k] for k in sorted(value, key=lambda k: int(k) if str(k).isdigit() else 0)]
    if not isinstance(value, list):
        raise bad_request("users must be a list of user ids")
    out = []
    for item in value:
        if item is None:
            item = ""
        if not isinstance(item, str) or len(item) > 128:
            raise bad_request("users must be a list of user ids")
        out.append(item)
    return out


def _map(value: Any) -> list[list[Any]] | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise bad_request("map must be JSON: [[x, y, width, height, fit], ...]") from None
    if not isinstance(value, list) or not value or len(value) > MAX_SPOTS:
        raise bad_request(f"map must list 1 to {MAX_SPOTS} spots")
    spots = []
    for spot in value:
        if not isinstance(spot, list) or len(spot) not in (4, 5):
            raise bad_request("each map spot is [x, y, width, height, fit]")
        try:
            x, y, w, h = (int(float(v)) for v in spot[:4])
        except (TypeError, ValueError):
            raise bad_request("map spots need numbers for x, y, width and height") from None
        fit = str(spot[4]) if len(spot) == 5 else "auto"
        if w <= 0 or h <= 0 or x < 0 or y < 0 or fit not in FITS:
            raise bad_request("map spots need x, y ≥ 0, width and height > 0 and fit auto, contain or cover")
        spots.append([x, y, w, h, fit])
    return spots


def named_rects(name: str, width: int, height: int) -> list[Rect] | None:
    """The spots of a named presentation layout (the first spot is the presenter); None for the grids, which
    the composer tiles itself."""
    w, h = width, height
    if name in GRID or name not in NAMES:
        return None
    if name == "present-lower-3":
        return [(w // 6, 0, 2 * w // 3, 2 * h // 3)] + [(i * w // 3, 2 * h // 3, w // 3, h // 3) for i in range(3)]
    strip = [(i * w // 6, 0, w // 6, h // 6) for i in range(6)]
    if name == "present-upper-6":
        return [(0, h // 6, w, h - h // 6), *strip]
    if name == "present-two-upper-6":
        return [(0, h // 6, w // 2, h - h // 6), (w // 2, h // 6, w - w // 2, h - h // 6), *strip]
    if name == "present-upper-right-9":
        side = [(3 * w // 4 + (i % 3) * w // 12, (i // 3) * h // 9, w // 12, h // 9) for i in range(9)]
        return [(0, 0, w, h), *side]
    # present-vertical-9: the presenter on the left, nine small spots in a 3x3 grid on the right.
    return [(0, 0, 2 * w // 3, h)] + [
        (2 * w // 3 + (i % 3) * w // 9, (i // 3) * h // 3, w // 9, h // 3) for i in range(9)
    ]


def grid_size(name: str | None) -> int | None:
    return GRID.get(name or "")
