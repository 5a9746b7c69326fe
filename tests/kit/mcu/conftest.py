from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.fixtures.webrtc import Rooms


@pytest.fixture(autouse=True)
def loopback(loopback_ice: None) -> None:
    """Every MCU test on 127.0.0.1 only."""


@pytest.fixture
async def rooms() -> AsyncIterator[Rooms]:
    made = Rooms()
    try:
        yield made
    finally:
        await made.close()
