"""gosd's error body everywhere: unknown paths, wrong methods, a missing instance; trailing slashes optional."""

from __future__ import annotations

import httpx

from tests.services.gosd.conftest import Gosd, error_of


async def test_unknown_path_and_wrong_method(gosd: Gosd) -> None:
    assert error_of(await gosd.request("GET", "/api/v2/nothing")) == (404, "Resource Not Found")
    assert error_of(await gosd.request("GET", "/api/v2/ok/more"))[0] == 404
    assert error_of(await gosd.request("PATCH", "/api/v2/plans/1"))[0] == 405
    assert error_of(await gosd.request("DELETE", "/api/v1/nodes"))[0] == 405


async def test_trailing_slash_is_optional(gosd: Gosd) -> None:
    node = await gosd.node()
    for path in ("/api/v1/nodes", "/api/v1/nodes/", f"/api/v1/nodes/{node['id']}/", "/api/v2/plans", "/api/v2/ok/"):
        assert (await gosd.request("GET", path)).status_code == 200, path
    r = await gosd.client.post(f"{gosd.base}/oauth/token/", json={})
    assert error_of(r)[0] == 400


async def test_a_missing_instance_answers_in_gosds_format(gosd: Gosd, client: httpx.AsyncClient) -> None:
    r = await client.get("/gosd/acme-nothere/gosd/api/v2/ok")
    assert error_of(r)[0] in (401, 403, 404)  # the platform tells only its tenant that it is missing


async def test_cors_as_gosd(gosd: Gosd) -> None:
    headers = {"Origin": "https://sdwc.example", "Access-Control-Request-Method": "PUT"}
    r = await gosd.request("OPTIONS", "/api/v2/plans/1", token="", headers=headers)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    r = await gosd.request("GET", "/api/v1/nodes/", headers={"Origin": "https://sdwc.example"})
    assert r.headers["access-control-allow-origin"] == "*"


async def test_openapi_lists_the_routes(gosd: Gosd, client: httpx.AsyncClient) -> None:
    r = await client.get("/gosd/acme-fleet/v3/api-docs")
    assert r.status_code == 200, r.text
    paths = set(r.json()["paths"])
    assert {"/gosd/api/v2/ok", "/gosd/oauth/token", "/gosd/api/v1/nodes", "/gosd/api/v2/blobs/{blob_id}"} <= paths
    assert (await client.get("/gosd/acme-fleet/docs")).status_code == 200
