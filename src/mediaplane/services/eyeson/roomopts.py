"""A room's `options[...]`: eyeson's defaults, the values a client sends coerced leniently, unknown keys dropped."""

from __future__ import annotations

from typing import Any

from mediaplane.kit.railsparams import ParamsError, as_bool
from mediaplane.services.eyeson.errors import bad_request

BOOLEANS: dict[str, bool] = {
    "show_names": True,
    "show_label": True,
    "recording_available": True,
    "broadcast_available": True,
    "reaction_available": True,
    "layout_available": True,
    "guest_token_available": True,
    "lock_available": False,
    "kick_available": True,
    "widescreen": False,
}
STRINGS: dict[str, str | None] = {
    "exit_url": None,
    "sfu_mode": "ptp",
    "background_color": "#121212",
    "audio_insert": "audio_only",
}
CHOICES = {"sfu_mode": {"ptp", "screencast", "disabled"}, "audio_insert": {"enabled", "disabled", "audio_only"}}
CUSTOM_BOOLEANS = {
    "hide_chat",
    "virtual_background",
    "virtual_background_allow_guest",
    "virtual_background_allow_local_image",
}
CUSTOM_STRINGS = {"locale", "logo", "virtual_background_image", "iframe_postmessage_origin"}
COLOR = "#0123456789abcdefABCDEF"


def room_options(raw: Any) -> dict[str, Any]:
    """The options of a new meeting from the request's `options` (a dict, or anything else: ignored)."""
    given = raw if isinstance(raw, dict) else {}
    options: dict[str, Any] = {}
    try:
        for name, default in BOOLEANS.items():
            options[name] = as_bool(given.get(name), default)
    except ParamsError as exc:
        raise bad_request(f"options: {exc}") from None
    for name, default_str in STRINGS.items():
        value = given.get(name)
        value = default_str if value in (None, "") else str(value)
        if name in CHOICES and value not in CHOICES[name]:
            raise bad_request(f"options[{name}] must be one of {', '.join(sorted(CHOICES[name]))}")
        options[name] = value
    color = options["background_color"]
    if not (len(color) == 7 and color[0] == "#" and all(c in COLOR for c in color[1:])):
        raise bad_request("options[background_color] must be a colour like #121212")
    custom = given.get("custom_fields")
    fields: dict[str, Any] = {}
    if isinstance(custom, dict):
        for key in CUSTOM_BOOLEANS & custom.keys():
            fields[key] = as_bool(custom[key], False) if _boolish(custom[key]) else False
        for key in CUSTOM_STRINGS & custom.keys():
            if custom[key] not in (None, ""):
                fields[key] = str(custom[key])[:2048]
    options["custom_fields"] = fields
    return options


def _boolish(value: Any) -> bool:
    try:
        as_bool(value, False)
    except ParamsError:
        return False
    return True


def public_options(options: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
    """The options as a room response shows them, with the layout state eyeson adds."""
    return {
        **options,
        "layout": layout.get("layout", "auto"),
        "layout_name": layout.get("name"),
        "layout_users": list(layout.get("users") or []),
        "layout_map": layout.get("map"),
        "show_names": bool(layout.get("show_names", options.get("show_names", True))),
        "voice_activation": bool(layout.get("voice_activation", False)),
        "suggest_guest_names": True,
    }
