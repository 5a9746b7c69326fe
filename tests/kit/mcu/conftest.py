from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from tests.fixtures.webrtc import Rooms

from mediaplane.kit.mcu import restrict_ice_hosts


@pytest.fixture(autouse=True)
def loopback() -> Iterator[None]:
    """Every peer, ours and the room's, gathers its one host candidate on 127.0.0.1."""
    previous = restrict_ice_hosts(["127.0.0.1"])
    try:
        yield
    finally:
        restrict_ice_hosts(previous)


@pytest.fixture
async def rooms() -> AsyncIterator[Rooms]:
    made = Rooms()
    try:
        yield made
    finally:
        await made.close()
