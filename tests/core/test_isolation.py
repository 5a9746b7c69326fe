"""The isolation matrix: a tenant's PAT or SAT, or a SAT of another service, never reaches another's data."""

from __future__ import annotations

import itertools

import httpx
import pytest

from tests.fixtures.factories import Factory

TENANTS = ("alpha", "beta")
SERVICES = ("notes", "clips")
SECRET_NOTE = "secret-of-{tenant}-{service}"


@pytest.fixture
async def world(factory: Factory, client: httpx.AsyncClient) -> dict[tuple[str, str], str]:
    """Each tenant has an instance `box` of each service holding a secret note; returns the SATs."""
    sats: dict[tuple[str, str], str] = {}
    for tenant in TENANTS:
        handle = await factory.create_tenant(tenant)
        for service in SERVICES:
            sat = await factory.sat(handle.pat, service)
            sats[(tenant, service)] = sat
            await factory.create_instance(sat, service, "box")
            r = await client.put(
                f"/{service}/{tenant}-box/notes/n",
                headers={"x-jwt": f"Bearer {sat}"},
                json={"text": SECRET_NOTE.format(tenant=tenant, service=service)},
            )
            assert r.status_code == 201
    return sats


CELLS = [
    (caller, target)
    for caller, target in itertools.product(itertools.product(TENANTS, SERVICES), repeat=2)
    if caller != target
]


@pytest.mark.parametrize(("caller", "target"), CELLS, ids=lambda cell: "-".join(cell))
async def test_denied_without_data(
    client: httpx.AsyncClient,
    world: dict[tuple[str, str], str],
    caller: tuple[str, str],
    target: tuple[str, str],
) -> None:
    sat = world[caller]
    h = {"x-jwt": f"Bearer {sat}"}
    t_tenant, t_service = target
    secret = SECRET_NOTE.format(tenant=t_tenant, service=t_service)

    responses = [
        await client.get(f"/{t_service}/{t_tenant}-box/notes/n", headers=h),
        await client.get(f"/{t_service}/{t_tenant}-box/notes", headers=h),
        await client.put(f"/{t_service}/{t_tenant}-box/notes/n", headers=h, json={"text": "overwritten"}),
    ]
    for r in responses:
        assert r.status_code in (401, 403, 404), r.text
        assert secret not in r.text

    if caller[1] != t_service:
        # A SAT of another service is refused by the whole instance API of this one.
        for r in (
            await client.get(f"/{t_service}instance", headers=h),
            await client.get(f"/{t_service}instance/box", headers=h),
            await client.delete(f"/{t_service}instance/box", headers=h),
        ):
            assert r.status_code in (401, 403), r.text
    else:
        # Same service, other tenant: the caller only ever sees its own instance named box.
        listed = (await client.get(f"/{t_service}instance", headers=h)).json()
        assert [i["url"] for i in listed] == [f"http://testserver/{t_service}/{caller[0]}-box/"]
        mine = (await client.get(f"/{t_service}instance/box", headers=h)).json()
        assert mine["url"].endswith(f"/{caller[0]}-box/")

    # Nothing of the target changed.
    owner = {"x-jwt": f"Bearer {world[target]}"}
    r = await client.get(f"/{t_service}/{t_tenant}-box/notes/n", headers=owner)
    assert r.json()["text"] == secret


async def test_pat_is_not_a_sat(client: httpx.AsyncClient, factory: Factory) -> None:
    handle = await factory.create_tenant("alpha")
    sat = await factory.sat(handle.pat, "notes")
    await factory.create_instance(sat, "notes", "box")
    for headers in ({"x-jwt": f"Bearer {handle.pat}"}, {"authorization": f"Bearer {handle.pat}"}):
        assert (await client.get("/notesinstance", headers=headers)).status_code == 401
        assert (await client.get("/notes/alpha-box/notes", headers=headers)).status_code == 401
