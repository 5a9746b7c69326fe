"""options[...] of a new room: defaults, coercion of what clients send, and refusals."""

from __future__ import annotations

import pytest

from mediaplane.services.eyeson.errors import EyesonError
from mediaplane.services.eyeson.roomopts import BOOLEANS, room_options


def test_defaults_are_eyesons() -> None:
    options = room_options(None)
    assert {k: options[k] for k in BOOLEANS} == BOOLEANS
    assert options["sfu_mode"] == "ptp" and options["exit_url"] is None
    assert options["background_color"] == "#121212" and options["custom_fields"] == {}


def test_strings_from_forms_are_coerced_and_unknown_keys_dropped() -> None:
    options = room_options(
        {
            "show_names": "false",
            "lock_available": "1",
            "sfu_mode": "disabled",
            "exit_url": "https://example.com/bye",
            "custom_fields": {"locale": "de", "hide_chat": "true", "unknown": "x"},
            "whatever": "ignored",
        }
    )
    assert options["show_names"] is False and options["lock_available"] is True
    assert options["sfu_mode"] == "disabled" and options["exit_url"] == "https://example.com/bye"
    assert options["custom_fields"] == {"locale": "de", "hide_chat": True}
    assert "whatever" not in options


@pytest.mark.parametrize("given", [{"sfu_mode": "mesh"}, {"show_names": "perhaps"}, {"background_color": "red; drop"}])
def test_bad_values_are_400(given: dict[str, object]) -> None:
    with pytest.raises(EyesonError) as caught:
        room_options(given)
    assert caught.value.status_code == 400
