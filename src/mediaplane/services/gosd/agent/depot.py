"""A simulated depot (a drone dock): a door that takes a while to move, a drone holder, a charger, and a weather
station. Methods answer when the state they ask for is reached; state changes are published at once."""

from __future__ import annotations

import asyncio
import math
import random
from typing import Any

from mediaplane.services.gosd.agent.device import TICK, Device
from mediaplane.services.gosd.agent.drone import HOME
from mediaplane.services.gosd.agent.handlers import Params

DOOR_SECONDS = 8.0  # simulated seconds for the door to open or close
CHARGE_RATE = 0.1  # % per simulated second (about 15 minutes from empty)


class SimDepot(Device):
    kind = "depot"

    def __init__(self, home: tuple[float, float] = HOME, speed: float = 1.0) -> None:
        super().__init__(speed)
        self.lat, self.lng = home
        self.door = "closed"  # closed | opening | open | closing
        self.drone_fixed = True  # a drone sits in the depot, held
        self.charging = False
        self.charge = 60.0  # the held drone's battery, %
        self.wind_speed = 2.0
        self.temperature = 24.0
        self.humidity = 60.0
        self._door = asyncio.Lock()
        self._random = random.Random(f"{home}")
        for name in ("dooropen", "doorclose", "fixdrone", "freedrone", "power_chargedrone_on", "power_chargedrone_off"):
            self.handlers.add(name, getattr(self, name))

    def location(self) -> tuple[float, float, float]:
        return (self.lat, self.lng, 0.0)

    def periodic(self) -> dict[str, Any]:
        full = self.charge >= 100
        return {
            "weather": {
                "wind_speed": round(self.wind_speed, 1),
                "temperature": round(self.temperature, 1),
                "humidity": round(self.humidity, 1),
            },
            "charger": {
                "charging": self.charging,
                "percent": round(self.charge, 1),
                "voltage": round(19.8 + 5.4 * self.charge / 100, 2) if self.drone_fixed else 0.0,
                "current": 6.0 if self.charging and not full else 0.0,
            },
        }

    def state(self) -> dict[str, Any]:
        return {"depot_status": {"door": self.door, "drone_fixed": self.drone_fixed, "charging": self.charging}}

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(TICK * 4)
            now = loop.time()
            dt, last = (now - last) * self.speed, now
            if self.charging and self.charge < 100:
                self.charge = min(100.0, self.charge + CHARGE_RATE * dt)
                if self.charge >= 100:
                    self.notify("drone charged", 5)
            step = self._random.gauss(0, 0.05) * math.sqrt(dt)
            self.wind_speed = min(25.0, max(0.0, self.wind_speed + step * 4))
            self.temperature = min(45.0, max(-20.0, self.temperature + step))
            self.humidity = min(100.0, max(5.0, self.humidity + step * 2))

    async def _move_door(self, moving: str, end: str) -> dict[str, Any]:
        async with self._door:
            if self.door != end:
                self.door = moving
                self.changed.set()
                await self.sim_sleep(DOOR_SECONDS)
                self.door = end
                self.changed.set()
        return self.state()["depot_status"]

    async def dooropen(self, params: Params) -> Any:
        return await self._move_door("opening", "open")

    async def doorclose(self, params: Params) -> Any:
        return await self._move_door("closing", "closed")

    async def fixdrone(self, params: Params) -> Any:
        self.drone_fixed = True
        self.changed.set()
        return self.state()["depot_status"]

    async def freedrone(self, params: Params) -> Any:
        if self.charging:
            raise RuntimeError("charging: turn the charger off first")
        self.drone_fixed = False
        self.changed.set()
        return self.state()["depot_status"]

    async def power_chargedrone_on(self, params: Params) -> Any:
        if not self.drone_fixed:
            raise RuntimeError("no drone held in the depot (fixdrone first)")
        self.charging = True
        self.changed.set()
        return self.state()["depot_status"]

    async def power_chargedrone_off(self, params: Params) -> Any:
        self.charging = False
        self.changed.set()
        return self.state()["depot_status"]
