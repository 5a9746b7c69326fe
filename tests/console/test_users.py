"""The Users page: list, add, set a password (signing that user out), remove; never another tenant's users."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy import select

from mediaplane.console.users import user_admin
from mediaplane.core.runtime import Runtime
from mediaplane.core.tenant.models import User
from mediaplane.core.tenant.repository import UserRepository
from mediaplane.kit.errors import BadRequest
from tests.console.conftest import ORIGIN, PASSWORD, Console
from tests.console.test_sessions import second_client
from tests.fixtures.factories import Factory

pytestmark = pytest.mark.usefixtures("acme")
NEW = "bob's new password"


async def user_id(runtime: Runtime, username: str, tenant: str = "acme") -> str:
    async with runtime.db.session() as session:
        user = await UserRepository(session).get_by_name(tenant, username)
    assert user is not None
    return user.id


async def usernames(runtime: Runtime, tenant: str = "acme") -> list[str]:
    async with runtime.db.session() as session:
        return [u.username for u in (await session.execute(select(User).where(User.tenant_id == tenant))).scalars()]


async def add(console: Console, username: str, password: str = NEW, confirm: str | None = None) -> httpx.Response:
    data = {"username": username, "password": password, "confirm_password": password if confirm is None else confirm}
    return await console.post("/console/users", data, token=await console.csrf("/console/users"))


class TestUsers:
    async def test_list_add_and_inline_errors(self, console: Console, runtime: Runtime) -> None:
        await console.signed_in()
        page = await console.client.get("/console/users")
        assert page.status_code == 200 and 'aria-current="page">Users' in page.text
        assert "admin (you)" in page.text and "can sign in" in page.text
        r = await add(console, "bob")
        assert r.status_code == 303 and r.headers["location"] == "/console/users?done=added"
        listed = await console.client.get(r.headers["location"])
        assert "The user is added" in listed.text and "bob" in listed.text
        duplicate = await add(console, "bob")
        assert duplicate.status_code == 400 and "already a user" in duplicate.text
        assert 'value="bob"' in duplicate.text  # kept in the form
        short = await add(console, "carol", "short")
        assert short.status_code == 400 and "at least 8 characters" in short.text
        differ = await add(console, "carol", NEW, "something else")
        assert differ.status_code == 400 and "differ" in differ.text
        bad = await add(console, "tab\there")
        assert bad.status_code == 400 and "printable" in bad.text
        assert sorted(await usernames(runtime)) == ["admin", "bob"]

    async def test_set_a_password_then_sign_in_with_it(self, console: Console, runtime: Runtime) -> None:
        async with runtime.db.session() as session:  # a user without a password, as the API makes them
            await UserRepository(session).create(User(tenant_id="acme", username="bob"))
        await console.signed_in()
        assert "no password yet" in (await console.client.get("/console/users")).text
        bob = await user_id(runtime, "bob")
        form = await console.client.get(f"/console/users/{bob}/password")
        assert form.status_code == 200
        r = await console.post(f"/console/users/{bob}/password", {"password": NEW, "confirm_password": NEW})
        assert r.status_code == 303
        async with second_client(runtime) as client:
            other = Console(client)
            assert (await other.sign_in(username="bob", password=NEW)).status_code == 303
            # A second change signs bob out, and his old password no longer works.
            newer = "bob's newer password"
            r = await console.post(f"/console/users/{bob}/password", {"password": newer, "confirm_password": newer})
            assert r.status_code == 303
            gone = await client.get("/console/users")
            assert gone.status_code == 303 and "/console/sign-in" in gone.headers["location"]
            assert (await other.sign_in(username="bob", password=NEW)).status_code == 401
            assert (await other.sign_in(username="bob", password=newer)).status_code == 303
        short = await console.post(f"/console/users/{bob}/password", {"password": "x", "confirm_password": "x"})
        assert short.status_code == 400 and "at least 8" in short.text
        # One's own password set here keeps one's session.
        me = await user_id(runtime, "admin")
        r = await console.post(f"/console/users/{me}/password", {"password": NEW, "confirm_password": NEW})
        assert r.status_code == 303 and (await console.client.get("/console/users")).status_code == 200

    async def test_remove_after_a_confirmation_never_oneself(self, console: Console, runtime: Runtime) -> None:
        await console.signed_in()
        assert (await add(console, "bob")).status_code == 303
        bob = await user_id(runtime, "bob")
        async with second_client(runtime) as client:
            assert (await Console(client).sign_in(username="bob", password=NEW)).status_code == 303
            confirm = await console.client.get(f"/console/users/{bob}/remove")
            assert confirm.status_code == 200 and "Remove the user “bob”?" in confirm.text
            r = await console.post(f"/console/users/{bob}/remove", token=await console.csrf())
            assert r.status_code == 303 and r.headers["location"] == "/console/users?done=removed"
            assert (await client.get("/console/")).status_code == 303  # bob's session ended with him
        assert await usernames(runtime) == ["admin"]
        me = await user_id(runtime, "admin")
        page = await console.client.get(f"/console/users/{me}/remove")
        assert "cannot remove yourself" in page.text and 'action="/console/users/' not in page.text
        refused = await console.post(f"/console/users/{me}/remove")
        assert refused.status_code == 400 and "cannot remove yourself" in refused.text
        assert await usernames(runtime) == ["admin"]

    async def test_another_tenants_users_are_not_found(
        self, console: Console, runtime: Runtime, factory: Factory
    ) -> None:
        await factory.create_tenant("other", password=PASSWORD)
        theirs = await user_id(runtime, "admin", "other")
        await console.signed_in()
        assert "other" not in re.sub(r"<[^>]+>", "", (await console.client.get("/console/users")).text).split()
        csrf = await console.csrf()
        for path in (
            f"/console/users/{theirs}/password",
            f"/console/users/{theirs}/remove",
            "/console/users/x%00y/remove",
        ):
            assert (await console.client.get(path)).status_code == 404, path
        assert (await console.post(f"/console/users/{theirs}/remove", token=csrf)).status_code == 404
        data = {"password": NEW, "confirm_password": NEW}
        assert (await console.post(f"/console/users/{theirs}/password", data, token=csrf)).status_code == 404
        assert await usernames(runtime, "other") == ["admin"]

    async def test_forms_need_the_csrf_token(self, console: Console, runtime: Runtime) -> None:
        await console.signed_in()
        me = await user_id(runtime, "admin")
        data = {"username": "eve", "password": NEW, "confirm_password": NEW}
        for path in ("/console/users", f"/console/users/{me}/password", f"/console/users/{me}/remove"):
            r = await console.client.post(path, data=data, headers={"origin": ORIGIN})
            assert r.status_code == 403, path
        assert await usernames(runtime) == ["admin"]


class TestLastUser:
    async def test_two_removals_at_once_leave_one_user(self, runtime: Runtime) -> None:
        """Each removal alone is allowed (two users), but not both: exactly one of them goes through."""
        async with runtime.db.session() as session:
            await user_admin.add(session, "acme", "bob", NEW)

        async def remove(username: str) -> BaseException | None:
            try:
                async with runtime.db.session() as session:
                    await user_admin.remove(session, await user_admin.find(session, "acme", username))
            except BadRequest as exc:
                return exc
            return None

        outcomes = await asyncio.gather(remove("admin"), remove("bob"))
        assert len(await usernames(runtime)) == 1
        assert sum(isinstance(o, BadRequest) for o in outcomes) == 1
