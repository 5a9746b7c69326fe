"""What gosd's routes depend on: the instance (no platform token: gosd has its own OAuth tokens), and the
user of the Bearer token, which every route but `/api/v2/ok` and `/oauth/token` asks for."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.instance.access import request_instance
from mediaplane.core.instance.models import Instance
from mediaplane.services.gosd.accounts import AccountService
from mediaplane.services.gosd.errors import unauthorized
from mediaplane.services.gosd.models import GosdUser

GosdInstance = Annotated[Instance, Depends(request_instance)]


def bearer_token(request: Request) -> str:
    """`Authorization: Bearer <token>` (the scheme in any case); the platform's `x-jwt` plays no part."""
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 512:
        raise unauthorized()
    return token


async def current_user(
    instance: GosdInstance, session: SessionDep, runtime: RuntimeDep, token: Annotated[str, Depends(bearer_token)]
) -> GosdUser:
    return await AccountService(session, runtime, instance).from_token(token)


CurrentUser = Annotated[GosdUser, Depends(current_user)]
