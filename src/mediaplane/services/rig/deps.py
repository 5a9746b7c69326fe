"""What rig's routes depend on: the instance (no platform token: rig has its own accounts), a JSON
Content-Type on writes, and the signed-in account from rig's Bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.instance.access import request_instance
from mediaplane.core.instance.models import Instance
from mediaplane.services.rig.accounts import AccountService
from mediaplane.services.rig.errors import Code, RigError
from mediaplane.services.rig.models import RigAccount

RigInstance = Annotated[Instance, Depends(request_instance)]
WRITES = ("POST", "PUT", "PATCH")


def require_json(request: Request) -> None:
    """rig asks every write for `Content-Type: application/json`; parameters such as charset are fine."""
    if request.method not in WRITES:
        return
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise RigError(Code.CONTENT_TYPE)


async def current_account(
    request: Request, instance: RigInstance, session: SessionDep, runtime: RuntimeDep
) -> RigAccount:
    parts = request.headers.get("authorization", "").split(" ", 1)
    if len(parts) != 2 or parts[0] != "Bearer":
        raise RigError(
            Code.INVALID_CREDENTIALS, "Invalid Authorization header. Authorization header needs Bearer token"
        )
    return await AccountService(session, runtime, instance).from_token(parts[1])


CurrentAccount = Annotated[RigAccount, Depends(current_account)]
