"""What the agent publishes and answers for one device. A simulator or a real integration subclasses `Device`:
it fills `handlers`, says where it is, gives its telemetry, and sets `changed` when its state changed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mediaplane.services.gosd.agent.handlers import Handlers

TICK = 0.05  # seconds of wall time between two simulation steps


class Device:
    kind = "device"  # the status's `type`: drone, depot, …

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("the simulation speed must be above 0")
        self.speed = speed  # simulated seconds per wall second
        self.handlers = Handlers()
        self.changed = asyncio.Event()
        self._notices: list[dict[str, Any]] = []

    def location(self) -> tuple[float, float, float]:
        """(lat, lng, alt) for the node's status."""
        return (0.0, 0.0, 0.0)

    def periodic(self) -> dict[str, Any]:
        """Telemetry published every interval (osd-style), by `msg/{key}`."""
        return {}

    def state(self) -> dict[str, Any]:
        """Telemetry published when it changes, by `msg/{key}`."""
        return {}

    async def run(self) -> None:
        """Background work for as long as the agent runs (a simulator's clock); nothing by default."""
        return None

    def notify(self, msg: str, level: int = 6) -> None:
        """A `msg/notification` (level 0-7 as RFC 5424: 0 emergency … 6 info, 7 debug)."""
        self._notices.append({"time": int(time.time()), "level": level, "msg": msg})
        self.changed.set()

    def take_notices(self) -> list[dict[str, Any]]:
        notices, self._notices = self._notices, []
        return notices

    async def sim_sleep(self, seconds: float) -> None:
        """Sleeps `seconds` of simulated time."""
        await asyncio.sleep(seconds / self.speed)


class PlainDevice(Device):
    """A device with no methods and no telemetry: presence and network only (`--sim none`)."""

    def __init__(self, kind: str = "device", speed: float = 1.0) -> None:
        super().__init__(speed)
        self.kind = kind
