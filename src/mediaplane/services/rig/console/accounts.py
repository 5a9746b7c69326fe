"""A rig account's password, set by the instance's owner: the browser's side of `mediaplane rig password`. The
owner does not know the account's current password, so the page sets a new one through rig's own
`AccountService` (rig's rules and messages); tokens the account already has keep working, as after rig's own
password change."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import RedirectResponse, Response

from mediaplane.console import ConsoleContext, CurrentConsole
from mediaplane.console.deps import read_form, text
from mediaplane.kit.errors import NotFound
from mediaplane.services.rig.accounts import AccountService
from mediaplane.services.rig.console.data import path_id
from mediaplane.services.rig.console.forms import FormState, refused
from mediaplane.services.rig.errors import RigError
from mediaplane.services.rig.models import RigAccount
from mediaplane.services.rig.repository import AccountRepository

router = APIRouter()
FIELDS = ("newPassword", "confirmPassword")


async def _account(ctx: ConsoleContext, account_id: str) -> RigAccount:
    missing = "There is no such rig account in this instance."
    found = await AccountRepository(ctx.session).get_in(ctx.instance.id, path_id(account_id, missing))
    if found is None:
        raise NotFound(missing)
    return found


def _page(ctx: ConsoleContext, account: RigAccount, form: FormState | None = None, status: int = 200) -> Response:
    return ctx.render(
        "rig/password.html",
        status_code=status,
        title=f"Password of {account.username}: {ctx.instance.name}",
        account=account,
        form=form or FormState(),
    )


@router.get("/accounts/{account_id}/password")
async def password_form(account_id: str, ctx: CurrentConsole) -> Response:
    return _page(ctx, await _account(ctx, account_id))


@router.post("/accounts/{account_id}/password")
async def set_password(account_id: str, ctx: CurrentConsole) -> Response:
    account = await _account(ctx, account_id)
    form = await read_form(ctx.request)
    chosen = text(form, "newPassword")
    if chosen != text(form, "confirmPassword"):
        return _page(ctx, account, FormState(errors={"confirmPassword": "The two passwords differ."}), status=400)
    try:
        await AccountService(ctx.session, ctx.runtime, ctx.instance).set_password(account, {"newPassword": chosen})
    except RigError as exc:
        return _page(ctx, account, refused(exc, {}, FIELDS, "newPassword"), status=400)
    return RedirectResponse(f"{ctx.url}/?done=password", status_code=303)
