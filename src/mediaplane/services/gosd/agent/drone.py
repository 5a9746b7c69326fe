"""A simulated drone: it takes off, flies (10 m/s), lands and returns home in simulated time, drains its
battery while flying, and answers gosd's drone methods. Moves answer when they end; a brake, an emergency
stop, a `cancel` notification or a newer move ends a move early, and its request answers an error."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from mediaplane.services.gosd.agent.device import TICK, Device
from mediaplane.services.gosd.agent.handlers import InvalidParams, Params, number, params_object

HOME = (22.5431, 113.9508)  # Shenzhen, where SB.IM's docks are from
CRUISE = 10.0  # m/s
CLIMB = 3.0
DESCENT = 2.0
TAKEOFF_ALT = 10.0
RTL_ALT = 20.0
MAX_ALT = 500.0
MIN_TAKEOFF_BATTERY = 20.0  # %
DRAIN = 0.06  # % per second in the air: about 25 minutes of flight
M_PER_DEG = 111_320.0
MAX_WAYPOINTS = 1000


class Interrupted(Exception):
    pass


def offset(lat1: float, lng1: float, lat2: float, lng2: float) -> tuple[float, float]:
    """(north, east) in metres from the first point to the second (flat earth: fine over a few km)."""
    return (lat2 - lat1) * M_PER_DEG, (lng2 - lng1) * M_PER_DEG * math.cos(math.radians(lat1))


class SimDrone(Device):
    kind = "drone"

    def __init__(self, home: tuple[float, float] = HOME, speed: float = 1.0) -> None:
        super().__init__(speed)
        self.home = home
        self.lat, self.lng = home
        self.alt = 0.0
        self.heading = 0.0
        self.ground_speed = 0.0
        self.battery = 100.0
        self.armed = False
        self.flying = False
        self.mode = "landed"
        self.paused = False
        self.recording = False
        self.photos = 0
        self.gimbal = {"yaw": 0.0, "pitch": 0.0}
        self._generation = 0  # bumped by whatever ends the current move
        self._reason = ""
        self._warned = 100.0
        self._register()

    # -- telemetry -------------------------------------------------------------------------------------

    def location(self) -> tuple[float, float, float]:
        return (round(self.lat, 7), round(self.lng, 7), round(self.alt, 2))

    def periodic(self) -> dict[str, Any]:
        lat, lng, alt = self.location()
        return {
            "position": {
                "lat": lat,
                "lng": lng,
                "alt": alt,
                "heading": round(self.heading, 1),
                "speed": round(self.ground_speed, 2),
            },
            "battery": {"percent": round(self.battery, 1), "voltage": round(19.8 + 5.4 * self.battery / 100, 2)},
        }

    def state(self) -> dict[str, Any]:
        return {
            "drone_status": {
                "mode": self.mode,
                "armed": self.armed,
                "flying": self.flying,
                "paused": self.paused,
                "recording": self.recording,
                "photos": self.photos,
            },
            "gimbal": dict(self.gimbal),
        }

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(TICK * 4)
            now = loop.time()
            if self.flying:
                self.battery = max(0.0, self.battery - DRAIN * (now - last) * self.speed)
                for threshold, level in ((20.0, 4), (10.0, 2)):
                    if self.battery <= threshold < self._warned:
                        self._warned = threshold
                        self.notify(f"battery low: {self.battery:.0f}%", level)
            last = now

    # -- moves -----------------------------------------------------------------------------------------

    def _stop(self, reason: str) -> None:
        """Ends the move in progress (if any); the drone hovers where it is."""
        self._generation += 1
        self._reason = reason
        self.paused = False
        self.ground_speed = 0.0
        if self.flying:
            self.mode = "hover"
        self.changed.set()

    def _begin(self, mode: str) -> int:
        self._stop(f"interrupted by {mode}")
        self.mode = mode
        return self._generation

    async def _fly(self, generation: int, lat: float, lng: float, alt: float) -> None:
        """Flies to the point at cruise speed, climbing or descending on the way; Interrupted when stopped."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(TICK)
            if generation != self._generation:
                raise Interrupted(self._reason)
            now = loop.time()
            dt, last = (now - last) * self.speed, now
            if self.paused:
                continue
            if self._step(lat, lng, alt, dt):
                self.ground_speed = 0.0
                return

    def _step(self, lat: float, lng: float, alt: float, dt: float) -> bool:
        north, east = offset(self.lat, self.lng, lat, lng)
        distance = math.hypot(north, east)
        reach = CRUISE * dt
        if distance <= reach:
            self.lat, self.lng = lat, lng
            self.ground_speed = distance / dt if dt else 0.0
        else:
            self.heading = math.degrees(math.atan2(east, north)) % 360
            self.lat += north / distance * reach / M_PER_DEG
            self.lng += east / distance * reach / (M_PER_DEG * math.cos(math.radians(self.lat)))
            self.ground_speed = CRUISE
        rate = CLIMB if alt > self.alt else DESCENT
        self.alt = alt if abs(alt - self.alt) <= rate * dt else self.alt + math.copysign(rate * dt, alt - self.alt)
        return distance <= reach and self.alt == alt

    def _landed(self) -> None:
        self.alt = 0.0
        self.flying = False
        self.armed = False
        self.mode = "landed"
        self.changed.set()

    def _check_battery(self) -> None:
        if self.battery < MIN_TAKEOFF_BATTERY:
            raise RuntimeError(f"battery too low: {self.battery:.0f}% (takeoff needs {MIN_TAKEOFF_BATTERY:.0f}%)")

    def _need_flying(self) -> None:
        if not self.flying:
            raise RuntimeError("not flying")

    async def _move(self, generation: int, points: list[tuple[float, float, float]], land: bool) -> None:
        try:
            for lat, lng, alt in points:
                await self._fly(generation, lat, lng, alt)
            if land:
                await self._fly(generation, self.lat, self.lng, 0.0)
                self._landed()
            else:
                self.mode = "hover"
                self.changed.set()
        except Interrupted as exc:
            raise RuntimeError(str(exc)) from None

    def _where(self) -> dict[str, Any]:
        lat, lng, alt = self.location()
        return {"lat": lat, "lng": lng, "alt": alt, "mode": self.mode}

    # -- methods ---------------------------------------------------------------------------------------

    def _register(self) -> None:
        h = self.handlers
        h.add("takeoff", self.takeoff)
        h.add("land", self.land)
        h.add("goto", self.goto)
        h.add("mode_rtl", self.mode_rtl)
        h.add("startmission", self.startmission)
        h.add("pointto", self.pointto)
        h.add("gimbal_ctl", self.gimbal_ctl)
        h.add("cam_photo", self.cam_photo)
        h.add("cam_record", self.cam_record)
        h.add("cam_record_stop", self.cam_record_stop)
        h.add("mode_pause", self.mode_pause)
        h.add("mode_resume", self.mode_resume)
        h.add("mode_brake", self.mode_brake)
        h.add("emergency_stop", self.emergency_stop)
        h.add("cancel", self.cancel)

    async def takeoff(self, params: Params) -> Any:
        alt = number(params_object(params), "alt", default=TAKEOFF_ALT, low=1, high=MAX_ALT)
        if self.flying:
            raise RuntimeError("already flying")
        self._check_battery()
        generation = self._begin("takeoff")
        self.armed = self.flying = True
        await self._move(generation, [(self.lat, self.lng, alt)], land=False)
        return self._where()

    async def land(self, params: Params) -> Any:
        self._need_flying()
        generation = self._begin("land")
        await self._move(generation, [], land=True)
        return self._where()

    async def goto(self, params: Params) -> Any:
        p = params_object(params)
        lat = number(p, "lat", low=-90, high=90)
        lng = number(p, "lng", low=-180, high=180)
        alt = number(p, "alt", default=max(self.alt, 1.0), low=1, high=MAX_ALT)
        self._need_flying()
        generation = self._begin("goto")
        await self._move(generation, [(lat, lng, alt)], land=False)
        return self._where()

    async def mode_rtl(self, params: Params) -> Any:
        self._need_flying()
        generation = self._begin("rtl")
        await self._move(generation, [(*self.home, max(self.alt, RTL_ALT))], land=True)
        return self._where()

    async def startmission(self, params: Params) -> Any:
        """Takes off if needed, flies the waypoints ({lat, lng, alt?}; a 40 m square around home when none are
        given), comes home and lands; answers when landed."""
        points = self._waypoints(params_object(params).get("waypoints"))
        if not self.flying:
            self._check_battery()
        generation = self._begin("mission")
        self.armed = self.flying = True
        await self._move(generation, [*points, (*self.home, points[-1][2])], land=True)
        return {**self._where(), "waypoints": len(points)}

    def _waypoints(self, given: Any) -> list[tuple[float, float, float]]:
        if given is None:
            lat, lng = self.home
            d_lat, d_lng = 20 / M_PER_DEG, 20 / (M_PER_DEG * math.cos(math.radians(lat)))
            return [(lat + a * d_lat, lng + b * d_lng, RTL_ALT) for a, b in ((1, 1), (1, -1), (-1, -1), (-1, 1))]
        if not isinstance(given, list) or not given or len(given) > MAX_WAYPOINTS:
            raise InvalidParams(f"waypoints must be a list of 1 to {MAX_WAYPOINTS} points")
        points = []
        for item in given:
            if not isinstance(item, dict):
                raise InvalidParams("each waypoint must be an object {lat, lng, alt}")
            points.append(
                (
                    number(item, "lat", low=-90, high=90),
                    number(item, "lng", low=-180, high=180),
                    number(item, "alt", default=RTL_ALT, low=1, high=MAX_ALT),
                )
            )
        return points

    async def pointto(self, params: Params) -> Any:
        p = params_object(params)
        north, east = offset(
            self.lat, self.lng, number(p, "lat", low=-90, high=90), number(p, "lng", low=-180, high=180)
        )
        if north or east:
            self.heading = math.degrees(math.atan2(east, north)) % 360
        return {"heading": round(self.heading, 1)}

    async def gimbal_ctl(self, params: Params) -> Any:
        p = params_object(params)
        if "yaw" not in p and "pitch" not in p:
            raise InvalidParams("yaw or pitch is required")
        self.gimbal = {
            "yaw": number(p, "yaw", default=self.gimbal["yaw"], low=-180, high=180),
            "pitch": number(p, "pitch", default=self.gimbal["pitch"], low=-90, high=30),
        }
        self.changed.set()
        return dict(self.gimbal)

    async def cam_photo(self, params: Params) -> Any:
        self.photos += 1
        self.changed.set()
        return {"photo": self.photos}

    async def cam_record(self, params: Params) -> Any:
        if self.recording:
            raise RuntimeError("already recording")
        self.recording = True
        self.changed.set()
        return {"recording": True}

    async def cam_record_stop(self, params: Params) -> Any:
        if not self.recording:
            raise RuntimeError("not recording")
        self.recording = False
        self.changed.set()
        return {"recording": False}

    async def mode_pause(self, params: Params) -> Any:
        if self.mode not in ("takeoff", "land", "goto", "rtl", "mission"):
            raise RuntimeError("nothing to pause")
        self.paused = True
        self.ground_speed = 0.0
        self.changed.set()
        return self._where()

    async def mode_resume(self, params: Params) -> Any:
        if not self.paused:
            raise RuntimeError("not paused")
        self.paused = False
        self.changed.set()
        return self._where()

    async def mode_brake(self, params: Params) -> Any:
        self._stop("interrupted by mode_brake")
        return self._where()

    async def emergency_stop(self, params: Params) -> Any:
        self._stop("interrupted by emergency_stop")
        self.notify("emergency stop: holding position", 1)
        return self._where()

    async def cancel(self, params: Params) -> Any:
        """The cloud's notification that the node's job was cancelled: stop moving, hover."""
        job = params.get("job_id") if isinstance(params, dict) else None
        self._stop(f"cancelled (job {job})" if job is not None else "cancelled")
        return self._where()
