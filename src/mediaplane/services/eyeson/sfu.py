"""eyeson's SFU mode (`options[sfu_mode]`) on the MCU's forwarding (kit/mcu/switchboard.py): `ptp` (the default)
forwards two participants' video to each other, `screencast` a lone screen share to everyone, `disabled` never
forwards. Whatever needs the picture (a layer, a playback, a recording, a broadcast, a custom or named layout)
switches the room to the composer while it lasts, rather than being refused as upstream does.

While the room forwards, `podium_update` carries `"sfu": true` and a full-canvas spot for each participant
whose video is forwarded (each receiver sees that video full screen); with the composer, `"sfu": false` and the
composite's spots."""

from __future__ import annotations

from typing import Any

from mediaplane.kit.mcu import Forwarding, McuRoom

__all__ = ["forwarding", "sfu_podium"]

MODES: dict[str, Forwarding] = {"ptp": "pairs", "screencast": "screen", "disabled": "off"}


def forwarding(options: dict[str, Any]) -> Forwarding:
    """The room's forwarding for a meeting's options (eyeson's default `ptp`)."""
    return MODES.get(str(options.get("sfu_mode") or "ptp"), "pairs")


def sfu_podium(room: McuRoom) -> list[dict[str, Any]] | None:
    """The podium while the room forwards (each forwarded participant full screen); None while it composes."""
    plan = room.forwarding()
    if not plan:
        return None
    c = room.config
    spot = {"play_id": None, "width": c.width, "height": c.height, "left": 0, "top": 0, "z-index": 0}
    return [{"user_id": source, **spot} for source in dict.fromkeys(plan.values())]
