"""The layout a request asks for: modes, podium users, named layouts and pixel maps, and their errors."""

from __future__ import annotations

import pytest

from mediaplane.services.eyeson.errors import EyesonError
from mediaplane.services.eyeson.layouts import NAMES, named_rects, parse_layout

AUTO = {"layout": "auto", "users": [], "show_names": True}


def test_users_make_a_custom_podium_with_empty_spots() -> None:
    layout = parse_layout({"users": ["b", "", "a"]}, AUTO)
    assert layout["layout"] == "custom" and layout["users"] == ["b", "", "a"]
    assert parse_layout({"layout": "auto", "users": ["a"]}, AUTO)["layout"] == "auto"
    assert parse_layout({"users": ""}, layout)["users"] == []


def test_users_given_as_an_indexed_hash_keep_their_order() -> None:
    assert parse_layout({"users": {"1": "b", "0": "a"}}, AUTO)["users"] == ["a", "b"]


def test_show_names_and_voice_activation_are_coerced() -> None:
    layout = parse_layout({"show_names": "false", "voice_activation": "1"}, AUTO)
    assert layout["show_names"] is False and layout["voice_activation"] is True


@pytest.mark.parametrize(
    "params",
    [
        {"layout": "tiled"},
        {"name": "eleven"},
        {"map": "not json"},
        {"map": "[[0, 0, 10]]"},
        {"map": [[0, 0, -5, 10, "auto"]]},
        {"map": [[0, 0, 5, 10, "stretch"]]},
        {"map": [[0, 0, 5, 5]] * 11},
        {"users": [["nested"]]},
        {"show_names": "maybe"},
    ],
)
def test_bad_layouts_are_400(params: dict[str, object]) -> None:
    with pytest.raises(EyesonError) as caught:
        parse_layout(params, AUTO)
    assert caught.value.status_code == 400


def test_a_map_as_json_string_or_list() -> None:
    layout = parse_layout({"map": '[[0, 0, 640, 480, "cover"], [640, 0, 640, 480]]', "name": "two-up"}, AUTO)
    assert layout["map"] == [[0, 0, 640, 480, "cover"], [640, 0, 640, 480, "auto"]]
    assert layout["name"] == "two-up"
    assert parse_layout({"map": [[1, 2, 3, 4, "contain"]]}, AUTO)["name"] == "custom-map"


def test_named_presentation_layouts_stay_on_the_canvas() -> None:
    for name in NAMES:
        rects = named_rects(name, 1280, 960)
        if rects is None:
            continue
        assert len(rects) >= 4
        for x, y, w, h in rects:
            assert x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= 1280 and y + h <= 960
    assert named_rects("four", 1280, 960) is None
