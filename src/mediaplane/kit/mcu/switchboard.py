"""Who receives what video: the composite, or (the SFU shortcut) another participant's video forwarded as it
came, without decoding or encoding it. Decided every tick of the room's video loop and switched without
renegotiating: each receiver's track changes its source on the new source's next keyframe (tracks.py).

Going to the composer, the receivers keep their forwarded video until the decoders, paused while forwarding,
have a fresh picture of everyone (at most WARM_UP seconds), so nobody sees placeholders for a moment."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mediaplane.kit.mcu.config import McuConfig
from mediaplane.kit.mcu.participant import Participant
from mediaplane.kit.mcu.tracks import COMPOSITE

__all__ = ["Switchboard", "choose"]

WARM_UP = 1.0
"""Seconds receivers wait, on a switch to the composer, for the decoders' first pictures."""

Plan = dict[str, str]
"""Receiver id → the participant id whose video it gets forwarded; empty: everyone gets the composite."""


def choose(config: McuConfig, members: Mapping[str, Participant]) -> Plan:
    """Who would get whose video forwarded, were nothing else in need of the composer."""
    suffix = config.screen_suffix
    if config.forwarding == "pairs":
        if len(members) != 2:
            return {}
        a, b = members.values()
        if any(p.id.endswith(suffix) or not p.forwardable for p in (a, b)):
            return {}
        return {r.id: s.id for r, s in ((a, b), (b, a)) if r.video_out is not None}
    if config.forwarding == "screen":
        screens = [p for p in members.values() if p.id.endswith(suffix) and p.sends_video]
        if len(screens) != 1 or not screens[0].forwardable:
            return {}
        shown = screens[0]
        return {pid: shown.id for pid, p in members.items() if p is not shown and p.video_out is not None}
    return {}


class Switchboard:
    """Steers a room's receivers between the composite and forwarded video; `on_change` when the plan changes."""

    def __init__(self, config: McuConfig, on_change: Callable[[], None]) -> None:
        self.config = config
        self._on_change = on_change
        self.plan: Plan = {}
        self.composing = True
        self._warm_until = 0.0

    def steer(self, members: Mapping[str, Participant], needs_composer: bool, holds: bool, now: float) -> bool:
        """One tick: the plan, the decoders and each receiver's source; whether the room composes this tick.

        `needs_composer`: something shown needs it (a tap, a layer, a playback, a custom layout); `holds`:
        someone wants a fresh picture without anyone switching (a snapshot)."""
        for member in members.values():
            member.tick(now, self.config.stall_seconds)
        plan = self.plan_for(members, needs_composer)
        if plan != self.plan:
            self.plan = plan
            self._on_change()
        composing = not plan or holds or _reads_composite(members)
        if composing and not self.composing:
            self._warm_until = now + WARM_UP
        for member in members.values():
            member.set_decoding(composing, now)
        warm = now >= self._warm_until or self.ready(members)
        for pid, member in members.items():
            track = member.video_out
            if track is None:
                continue
            want = plan.get(pid, COMPOSITE)
            if want == track.target:
                continue
            if want == COMPOSITE and not warm and track.started and track.source in members:
                continue  # the receiver keeps what it gets until the composer has everyone's picture
            track.switch(want)
        self.composing = composing or _reads_composite(members)
        return self.composing

    def plan_for(self, members: Mapping[str, Participant], needs_composer: bool) -> Plan:
        """The plan for the room as it is now (`steer` follows it from its next tick on)."""
        return {} if needs_composer or self.config.forwarding == "off" else choose(self.config, members)

    @staticmethod
    def ready(members: Mapping[str, Participant]) -> bool:
        """Whether the decoders have a picture of everyone who sends video and has not stalled (the composite
        shows them all). Someone whose video has not come yet counts as not ready: the waits are short."""
        senders = (p for p in members.values() if p.gate is not None and p.sends_video and not p.stalled)
        return all(p.latest is not None for p in senders)


def _reads_composite(members: Mapping[str, Participant]) -> bool:
    return any(p.video_out is not None and p.video_out.reads_composite for p in members.values())
