"""The simulated drone and depot, in fast simulated time: moves, their interruptions, the sensible refusals."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mediaplane.services.gosd.agent.depot import SimDepot
from mediaplane.services.gosd.agent.drone import HOME, M_PER_DEG, SimDrone
from mediaplane.services.gosd.agent.handlers import InvalidParams

SPEED = 100.0


@contextlib.asynccontextmanager
async def running(device: SimDrone | SimDepot) -> AsyncIterator[None]:
    task = asyncio.create_task(device.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(check: Any, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.01)


class TestDrone:
    async def test_takeoff_goto_land(self) -> None:
        drone = SimDrone(speed=SPEED)
        async with running(drone):
            assert (await drone.takeoff({"alt": 12}))["alt"] == 12 and drone.flying and drone.armed
            target = {"lat": HOME[0] + 200 / M_PER_DEG, "lng": HOME[1]}  # 200 m north
            arrived = await drone.goto(target)
            assert arrived["lat"] == pytest.approx(target["lat"]) and arrived["alt"] == 12
            assert drone.heading == pytest.approx(0, abs=0.5)
            landed = await drone.land(None)
            assert landed["alt"] == 0 and landed["mode"] == "landed" and not drone.armed
            assert 95 < drone.battery < 100  # drained in the air

    async def test_refusals(self) -> None:
        drone = SimDrone(speed=SPEED)
        refused = [
            (drone.land, "not flying"),
            (drone.mode_rtl, "not flying"),
            (drone.mode_pause, "nothing to pause"),
            (drone.mode_resume, "not paused"),
            (drone.cam_record_stop, "not recording"),
        ]
        for method, message in refused:
            with pytest.raises(RuntimeError, match=message):
                await method(None)
        with pytest.raises(RuntimeError, match="not flying"):
            await drone.goto({"lat": 1, "lng": 1})
        with pytest.raises(InvalidParams, match="lat"):
            await drone.goto({"lat": 91, "lng": 1})
        with pytest.raises(InvalidParams, match="pitch"):
            await drone.gimbal_ctl({"pitch": -120})
        drone.battery = 15
        with pytest.raises(RuntimeError, match="battery too low: 15%"):
            await drone.takeoff({})
        with pytest.raises(RuntimeError, match="battery too low"):
            await drone.startmission({})

    async def test_brake_pause_and_a_newer_move(self) -> None:
        drone = SimDrone(speed=SPEED / 10)
        await drone.takeoff({"alt": 5})
        far = {"lat": HOME[0] + 0.05, "lng": HOME[1]}  # 5.5 km
        going = asyncio.create_task(drone.goto(far))
        await until(lambda: drone.lat > HOME[0] + 20 / M_PER_DEG)
        await drone.mode_pause(None)
        held = drone.lat
        await asyncio.sleep(0.2)
        assert drone.lat == held and drone.state()["drone_status"]["paused"] is True
        await drone.mode_resume(None)
        await until(lambda: drone.lat > held)
        await drone.mode_brake(None)
        with pytest.raises(RuntimeError, match="interrupted by mode_brake"):
            await going
        assert drone.mode == "hover" and drone.flying
        first = asyncio.create_task(drone.goto(far))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(drone.goto({"lat": HOME[0], "lng": HOME[1]}))
        with pytest.raises(RuntimeError, match="interrupted by goto"):
            await first
        assert (await second)["lat"] == pytest.approx(HOME[0])

    async def test_rtl_and_a_mission_come_home_and_land(self) -> None:
        drone = SimDrone(speed=SPEED)
        await drone.takeoff({})
        await drone.goto({"lat": HOME[0] + 0.001, "lng": HOME[1] + 0.001})
        home = await drone.mode_rtl(None)
        assert (home["lat"], home["lng"], home["alt"], home["mode"]) == (*HOME, 0.0, "landed")
        done = await drone.startmission({"waypoints": [{"lat": HOME[0] + 0.0005, "lng": HOME[1], "alt": 30}]})
        assert done["waypoints"] == 1 and done["mode"] == "landed" and (done["lat"], done["lng"]) == HOME
        assert (await drone.startmission(None))["waypoints"] == 4
        with pytest.raises(InvalidParams, match="waypoints"):
            await drone.startmission({"waypoints": []})

    async def test_camera_gimbal_and_emergency(self) -> None:
        drone = SimDrone(speed=SPEED)
        assert await drone.gimbal_ctl({"yaw": 30}) == {"yaw": 30, "pitch": 0}
        assert await drone.cam_photo(None) == {"photo": 1}
        await drone.cam_record(None)
        with pytest.raises(RuntimeError, match="already recording"):
            await drone.cam_record(None)
        assert (await drone.pointto({"lat": HOME[0], "lng": HOME[1] + 0.01}))["heading"] == pytest.approx(90)
        await drone.emergency_stop(None)
        assert drone.take_notices()[0]["level"] == 1

    async def test_battery_warnings(self) -> None:
        drone = SimDrone(speed=SPEED * 50)
        async with running(drone):
            await drone.takeoff({})
            await until(lambda: drone.battery < 10)
        levels = [n["level"] for n in drone.take_notices()]
        assert levels == [4, 2]


class TestDepot:
    async def test_door_drone_and_charger(self) -> None:
        depot = SimDepot(speed=SPEED)
        async with running(depot):
            assert (await depot.dooropen(None))["door"] == "open"
            assert (await depot.dooropen(None))["door"] == "open"  # already open: at once
            assert (await depot.power_chargedrone_on(None))["charging"] is True
            with pytest.raises(RuntimeError, match="charging"):
                await depot.freedrone(None)
            before = depot.charge
            await until(lambda: depot.charge > before + 1)
            assert depot.periodic()["charger"]["current"] > 0
            await depot.power_chargedrone_off(None)
            assert (await depot.freedrone(None))["drone_fixed"] is False
            with pytest.raises(RuntimeError, match="no drone held"):
                await depot.power_chargedrone_on(None)
            closing = asyncio.create_task(depot.doorclose(None))
            await until(lambda: depot.door == "closing")
            assert (await closing)["door"] == "closed"
            assert set(depot.periodic()["weather"]) == {"wind_speed", "temperature", "humidity"}
