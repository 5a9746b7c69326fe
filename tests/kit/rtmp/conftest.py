from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kit_rtmp_support import NginxRtmp, require_nginx_rtmp


@pytest.fixture
async def nginx(tmp_path: Path) -> AsyncIterator[NginxRtmp]:
    """A fresh nginx-rtmp with the applications ``live``, ``notify`` (publish_notify on) and ``recv`` (records)."""
    require_nginx_rtmp()
    server = await NginxRtmp(tmp_path / "nginx").start()
    try:
        yield server
    finally:
        server.stop()
