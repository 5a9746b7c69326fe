from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.fixtures.s3 import make_s3_storage

from mediaplane.kit.storage import LocalStorage, Storage

SMALL_CHUNK = 64 * 1024
PART_SIZE = 5 * 1024 * 1024  # S3's smallest part, so multipart uploads happen at test sizes
PAGE_SIZE = 25  # keys per list/delete request, so paging happens at test sizes


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """The same behaviour suite runs on a local folder and on a fresh bucket of a real S3 server."""
    backend: Storage
    if request.param == "local":
        backend = LocalStorage(tmp_path / "objects", chunk_size=SMALL_CHUNK)
    else:
        backend = make_s3_storage(
            request.getfixturevalue("s3_server"), part_size=PART_SIZE, chunk_size=SMALL_CHUNK, page_size=PAGE_SIZE
        )
    try:
        yield backend
    finally:
        await backend.close()
