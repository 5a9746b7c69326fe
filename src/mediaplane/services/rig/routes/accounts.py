"""`/accounts`: sign-up, local login and password change."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.token.service import bearer_value, token_service
from mediaplane.kit.errors import MediaplaneError
from mediaplane.services.rig import schemas
from mediaplane.services.rig.accounts import AccountService
from mediaplane.services.rig.deps import CurrentAccount, RigInstance, require_json
from mediaplane.services.rig.errors import Code, RigError
from mediaplane.services.rig.inputs import json_object
from mediaplane.services.rig.options import RigOptions
from mediaplane.services.rig.routes import ok

router = APIRouter(prefix="/accounts", tags=["accounts"], dependencies=[Depends(require_json)])


async def _check_signup(request: Request, instance: RigInstance, session: SessionDep, runtime: RuntimeDep) -> None:
    """Open sign-up, or (allowSignup off) only the instance owner, with its service access token in x-jwt."""
    if RigOptions.of(instance.options).allow_signup:
        return
    closed = RigError(Code.INVALID_CREDENTIALS, "Sign-up is closed on this instance")
    token = bearer_value(request.headers.get("x-jwt"))
    if token is None:
        raise closed
    try:
        principal = await token_service.authenticate_sat(session, runtime, token, instance.service_id)
    except MediaplaneError:
        raise closed from None
    if principal.tenant_id != instance.tenant_id:
        raise closed


@router.post("", summary="Create a user account", dependencies=[Depends(_check_signup)])
async def create_account(
    request: Request, instance: RigInstance, session: SessionDep, runtime: RuntimeDep
) -> JSONResponse:
    account = await AccountService(session, runtime, instance).create(await json_object(request))
    return ok("User created", schemas.account(account))


@router.post("/auth/local", summary="Log in with username and password")
async def authenticate(
    request: Request, instance: RigInstance, session: SessionDep, runtime: RuntimeDep
) -> JSONResponse:
    account, token = await AccountService(session, runtime, instance).authenticate(await json_object(request))
    return ok("Authentication successful", {"username": account.username, "token": token})


@router.post("/password", summary="Change the signed-in user's password")
async def change_password(
    request: Request, instance: RigInstance, account: CurrentAccount, session: SessionDep, runtime: RuntimeDep
) -> JSONResponse:
    service = AccountService(session, runtime, instance)
    changed = await service.change_password(account, await json_object(request))
    return ok("User password changed", {"username": changed.username})
