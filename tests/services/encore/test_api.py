"""The job resource without encoding: shapes, validation, paging, searches, cancel of queued jobs, files.

No workers run here, so jobs stay QUEUED; encoding itself is in test_transcode.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.services.encore.conftest import Encore, make_encore

JOB = {
    "profile": "program",
    "outputFolder": "/usercontent/demo",
    "baseName": "demo_",
    "inputs": [{"uri": "/usercontent/in/clip.mp4", "type": "AudioVideo"}],
}


@pytest.fixture
async def idle(factory: Any, client: Any, runtime: Any) -> Encore:
    return await make_encore(factory, client, runtime)


async def test_create_answers_201_hal_with_the_job_queued(idle: Encore) -> None:
    r = await idle.request("POST", "/encoreJobs", json={**JOB, "externalId": "ref-1", "priority": 7})
    assert r.status_code == 201
    assert r.headers["content-type"].startswith("application/hal+json")
    job = r.json()
    assert job["status"] == "QUEUED"
    assert (job["profile"], job["baseName"], job["externalId"], job["priority"]) == ("program", "demo_", "ref-1", 7)
    assert job["progress"] == 0 and job["output"] == [] and job["message"] is None
    assert uuid.UUID(job["id"])
    assert job["createdDate"] and job["startedDate"] is None and job["completedDate"] is None
    assert job["inputs"][0]["videoLabel"] == "main" and job["inputs"][0]["probeInterlaced"] is True
    self_link = job["_links"]["self"]["href"]
    assert self_link == f"http://testserver{idle.base}/encoreJobs/{job['id']}"
    assert r.headers["location"] == self_link
    assert (await idle.job(job["id"]))["id"] == job["id"]


async def test_read_only_fields_sent_by_a_client_are_ignored(idle: Encore) -> None:
    job = await idle.enqueue({**JOB, "status": "SUCCESSFUL", "progress": 100, "output": [{"x": 1}], "bogus": 1})
    assert (job["status"], job["progress"], job["output"]) == ("QUEUED", 0, [])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"profile": ""}, "profile"),
        ({"profile": None}, "profile"),
        ({"outputFolder": "  "}, "outputFolder"),
        ({"baseName": None}, "baseName"),
        ({"inputs": []}, "inputs"),
        ({"priority": 101}, "priority"),
        ({"priority": -1}, "priority"),
        ({"priority": "high"}, "priority"),
        ({"segmentLength": 0}, "segmentLength"),
        ({"thumbnailTime": -3}, "thumbnailTime"),
        ({"inputs": [{"uri": "x.mp4"}]}, "inputs[0]"),
        ({"inputs": [{"uri": "x.mp4", "type": "Subtitles"}]}, "inputs[0]"),
        ({"inputs": [{"uri": "", "type": "Video"}]}, "inputs[0].uri"),
        ({"inputs": [{"uri": "x", "type": "Video", "dar": "16x9"}]}, "inputs[0].dar"),
        ({"inputs": [{"uri": "x", "type": "Video", "cropTo": "0:1"}]}, "inputs[0].cropTo"),
        ({"inputs": [{"uri": "x", "type": "Audio", "channelLayout": "7.7"}]}, "inputs[0].channelLayout"),
        ({"inputs": [{"uri": "x", "type": "Audio", "audioStream": -1}]}, "inputs[0].audioStream"),
        ({"inputs": [{"uri": "a", "type": "Video"}, {"uri": "b", "type": "Video"}]}, "inputs"),
        ({"packageFormats": ["smooth"]}, "packageFormats[0]"),
    ],
)
async def test_invalid_bodies_answer_400_naming_the_field(idle: Encore, change: dict[str, Any], field: str) -> None:
    r = await idle.request("POST", "/encoreJobs", json={**JOB, **change})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 400 and body["title"] == "Bad Request"
    assert any(e["property"].startswith(field) for e in body["errors"]), body
    assert all(e["entity"] == "EncoreJob" for e in body["errors"])
    assert field.split("[")[0] in body["detail"]


@pytest.mark.parametrize("raw", [b"{", b"[]", b"42", b""])
async def test_bodies_that_are_not_a_json_object_answer_400(idle: Encore, raw: bytes) -> None:
    r = await idle.request("POST", "/encoreJobs", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert "JSON parse error" in r.json()["detail"]


async def test_unknown_and_malformed_ids(idle: Encore) -> None:
    missing = str(uuid.uuid4())
    r = await idle.request("GET", f"/encoreJobs/{missing}")
    assert r.status_code == 404
    assert r.json()["detail"] == f"Job with id {missing} not found"
    assert r.json()["instance"].endswith(f"/encoreJobs/{missing}")
    assert (await idle.request("GET", "/encoreJobs/not-a-uuid")).status_code == 400
    assert (await idle.request("POST", f"/encoreJobs/{missing}/cancel")).status_code == 404
    assert (await idle.request("DELETE", f"/encoreJobs/{missing}")).status_code == 404


async def test_listing_is_hal_paged_and_sorted(idle: Encore) -> None:
    ids = [(await idle.enqueue({**JOB, "priority": p, "baseName": f"b{p}_"}))["id"] for p in (5, 50, 20)]
    r = await idle.request("GET", "/encoreJobs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/hal+json")
    body = r.json()
    assert body["page"] == {"size": 20, "totalElements": 3, "totalPages": 1, "number": 0}
    assert {j["id"] for j in body["_embedded"]["encoreJobs"]} == set(ids)

    r = await idle.request("GET", "/encoreJobs", params={"size": 2, "page": 0, "sort": "priority,desc"})
    body = r.json()
    assert [j["priority"] for j in body["_embedded"]["encoreJobs"]] == [50, 20]
    assert body["page"] == {"size": 2, "totalElements": 3, "totalPages": 2, "number": 0}
    assert "next" in body["_links"] and "prev" not in body["_links"]
    r = await idle.request("GET", "/encoreJobs", params={"size": 2, "page": 1, "sort": "priority,desc"})
    assert [j["priority"] for j in r.json()["_embedded"]["encoreJobs"]] == [5]

    r = await idle.request("GET", "/encoreJobs", params={"sort": "createdDate,desc"})
    assert [j["id"] for j in r.json()["_embedded"]["encoreJobs"]] == list(reversed(ids))
    empty = (await idle.request("GET", "/encoreJobs", params={"page": 9})).json()
    assert empty["_embedded"]["encoreJobs"] == []


@pytest.mark.parametrize("params", [{"sort": "inputs,asc"}, {"sort": "priority,up"}, {"size": 0}, {"page": -1}])
async def test_bad_paging_answers_400(idle: Encore, params: dict[str, Any]) -> None:
    assert (await idle.request("GET", "/encoreJobs", params=params)).status_code == 400


async def test_searches(idle: Encore) -> None:
    a = await idle.enqueue({**JOB, "externalId": "ext-a", "baseName": "alpha_"})
    await idle.enqueue({**JOB, "externalId": "ext-b", "profile": "audio"})
    links = (await idle.request("GET", "/encoreJobs/search")).json()["_links"]
    assert {"findByStatus", "findByExternalId", "findByProfile", "findByBaseName"} <= set(links)

    async def found(search: str, **params: str) -> list[str]:
        r = await idle.request("GET", f"/encoreJobs/search/{search}", params=params)
        assert r.status_code == 200, r.text
        return [j["externalId"] for j in r.json()["_embedded"]["encoreJobs"]]

    assert await found("findByExternalId", externalId="ext-a") == ["ext-a"]
    assert await found("findByProfile", profile="audio") == ["ext-b"]
    assert await found("findByBaseName", baseName="alpha_") == ["ext-a"]
    assert sorted(await found("findByStatus", status="QUEUED")) == ["ext-a", "ext-b"]
    assert await found("findByStatus", status="FAILED") == []
    assert (await idle.request("GET", "/encoreJobs/search/findByStatus", params={"status": "DONE"})).status_code == 400
    assert (await idle.request("GET", "/encoreJobs/search/findByStatus")).status_code == 400
    assert (await idle.request("GET", "/encoreJobs/search/findByColour")).status_code == 404
    assert a["id"]


async def test_cancel_a_queued_job_then_cancel_again_is_409(idle: Encore) -> None:
    job = await idle.enqueue(JOB)
    r = await idle.request("POST", f"/encoreJobs/{job['id']}/cancel")
    assert (r.status_code, r.text) == (200, "Ok")
    cancelled = await idle.job(job["id"])
    assert cancelled["status"] == "CANCELLED" and cancelled["completedDate"]
    r = await idle.request("POST", f"/encoreJobs/{job['id']}/cancel")
    assert r.status_code == 409
    assert r.json()["detail"] == "Cannot cancel job with status CANCELLED!"
    assert (await idle.request("GET", "/queue")).json() == []


async def test_put_patch_and_delete(idle: Encore) -> None:
    job = await idle.enqueue(JOB)
    r = await idle.request("PATCH", f"/encoreJobs/{job['id']}", json={"priority": 90, "status": "FAILED"})
    assert r.status_code == 200
    assert (r.json()["priority"], r.json()["status"], r.json()["baseName"]) == (90, "QUEUED", "demo_")
    r = await idle.request("PUT", f"/encoreJobs/{job['id']}", json={**JOB, "baseName": "other_"})
    assert r.status_code == 200 and r.json()["baseName"] == "other_" and r.json()["priority"] == 0
    assert r.json()["createdDate"] == job["createdDate"]
    r = await idle.request("PATCH", f"/encoreJobs/{job['id']}", json={"priority": 500})
    assert r.status_code == 400
    assert (await idle.job(job["id"]))["priority"] == 0  # nothing stored on error

    new_id = str(uuid.uuid4())
    r = await idle.request("PUT", f"/encoreJobs/{new_id}", json=JOB)
    assert r.status_code == 201 and r.json()["id"] == new_id and r.json()["status"] == "QUEUED"

    assert (await idle.request("DELETE", f"/encoreJobs/{job['id']}")).status_code == 204
    assert (await idle.request("GET", f"/encoreJobs/{job['id']}")).status_code == 404


async def test_queue_and_queue_count(idle: Encore) -> None:
    low = await idle.enqueue({**JOB, "priority": 10})
    high = await idle.enqueue({**JOB, "priority": 80})
    top = await idle.enqueue({**JOB, "priority": 100})
    queue = (await idle.request("GET", "/queue")).json()
    assert [item["id"] for item in queue] == [top["id"], high["id"], low["id"]]
    assert queue[0]["priority"] == 100 and queue[0]["created"]
    counts = (await idle.request("GET", "/queueCount")).json()
    assert counts == {"encore:queue:0": 2, "encore:queue:1": 1, "total": 3}


async def test_profiles_listed_and_checked(idle: Encore) -> None:
    listed = (await idle.request("GET", "/profiles")).json()
    by_name = {p["name"]: p for p in listed}
    assert {"program", "archive", "audio"} <= set(by_name)
    assert all(by_name[n]["valid"] for n in ("program", "archive", "audio"))
    program = (await idle.request("GET", "/profiles/program")).json()
    assert [e["type"] for e in program["encodes"]].count("X264Encode") == 5
    r = await idle.request("POST", "/profiles/archive", json={"height": 720, "suffix": "_raw"})
    assert r.status_code == 200 and r.json()["encodes"][0]["suffix"] == "_raw"
    missing = await idle.request("GET", "/profiles/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    broken = await idle.request("POST", "/profiles/archive", json={"height": "tall"})
    assert broken.status_code == 400


async def test_usercontent_upload_download_with_range_and_no_traversal(idle: Encore) -> None:
    data = bytes(range(256)) * 8
    r = await idle.request("PUT", "/usercontent/in/file.bin", content=data)
    assert r.status_code == 201 and r.json() == {"uri": "/usercontent/in/file.bin", "size": len(data)}
    r = await idle.request("GET", "/usercontent/in/file.bin")
    assert r.status_code == 200 and r.content == data
    r = await idle.request("GET", "/usercontent/in/file.bin", headers={"range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == data[10:20]
    assert r.headers["content-range"] == f"bytes 10-19/{len(data)}"
    listing = (await idle.request("GET", "/usercontent/in/")).json()
    assert [f["name"] for f in listing["files"]] == ["/usercontent/in/file.bin"]
    for bad in ("../secret.key", "in/../../x", "%2e%2e/x", "a\\b"):
        r = await idle.request("GET", f"/usercontent/{bad}")
        assert r.status_code in (400, 404), (bad, r.status_code)
    assert (await idle.request("GET", "/usercontent/in/missing.bin")).status_code == 404
    assert (await idle.request("DELETE", "/usercontent/in/file.bin")).status_code == 204
    assert (await idle.request("GET", "/usercontent/in/file.bin")).status_code == 404


async def test_the_api_needs_the_sat_of_the_instance_tenant(idle: Encore, factory: Any) -> None:
    r = await idle.client.get(f"{idle.base}/encoreJobs")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    other = await factory.create_tenant("other")
    sat = await factory.sat(other.pat, "encore")
    r = await idle.client.get(f"{idle.base}/encoreJobs", headers={"x-jwt": f"Bearer {sat}"})
    assert r.status_code in (401, 403, 404)
    assert (await idle.client.get(f"{idle.base}/actuator/health")).json() == {"status": "UP"}


async def test_instance_object_and_openapi(idle: Encore) -> None:
    assert idle.instance["profilesUrl"] == ""  # as in the spec's example
    resources = idle.instance["resources"]
    assert resources["enqueueJob"]["url"].endswith("/encore/acme-test/encoreJobs")
    assert resources["enqueueJob"]["method"] == "POST"
    doc = (await idle.request("GET", "/v3/api-docs")).json()
    assert "/encoreJobs" in doc["paths"] and "/encoreJobs/{job_id}/cancel" in doc["paths"]
    assert "EncoreJob" in doc["components"]["schemas"]
    yaml_doc = await idle.request("GET", "/v3/api-docs.yaml")
    assert yaml_doc.status_code == 200 and "encoreJobs" in yaml_doc.text


async def test_secret_options_are_shown_only_to_the_create_call(factory: Any, client: Any, runtime: Any) -> None:
    encore = await make_encore(factory, client, runtime, name="secrets", callbackSecret="s3cr3t", s3SecretAccessKey="k")
    assert (encore.instance["callbackSecret"], encore.instance["s3SecretAccessKey"]) == ("s3cr3t", "k")
    shown = (await client.get("/encoreinstance/secrets", headers=encore.headers)).json()
    assert (shown["callbackSecret"], shown["s3SecretAccessKey"]) == ("********", "********")
    listed = (await client.get("/encoreinstance", headers=encore.headers)).json()
    assert listed[0]["callbackSecret"] == "********"
