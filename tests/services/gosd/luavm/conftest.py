from __future__ import annotations

import pytest

from tests.services.gosd.luavm.fake_host import FakeHost


@pytest.fixture
def host() -> FakeHost:
    return FakeHost()
