"""Request dependencies shared by the platform and every service sub-app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from mediaplane.core.runtime import Runtime

RUNTIME_SCOPE_KEY = "mediaplane.runtime"


def get_runtime(conn: HTTPConnection) -> Runtime:
    runtime = conn.scope.get(RUNTIME_SCOPE_KEY)
    if runtime is None:
        runtime = conn.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed before the response is sent, rolled back on error."""
    async with get_runtime(request).db.session() as session:
        yield session


# scope="function": the commit happens before the response goes out, so a failed commit is an error reply.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
