"""Job webhooks: queued with the state change, in its transaction, signed and sent by the durable job."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from mediaplane.core.runtime import Runtime
from mediaplane.kit.jobs import JobRecord
from tests.fixtures.factories import Factory
from tests.services.gosd.conftest import OPTIONS, make_gosd


async def queued_webhooks(runtime: Runtime) -> list[dict[str, Any]]:
    async with runtime.db.session() as session:
        rows = await session.scalars(
            select(JobRecord).where(JobRecord.name == "gosd.webhook").order_by(JobRecord.created_at)
        )
        return [row.args["body"] for row in rows]


async def test_job_state_changes_are_webhooks(factory: Factory, client: httpx.AsyncClient, runtime: Runtime) -> None:
    gosd = await make_gosd(factory, client, runtime, **OPTIONS, webhookUrl="http://127.0.0.1:9/hook")
    gosd.token = await gosd.login()
    node = await gosd.node()
    plan = await gosd.ok("POST", "/api/v2/plans/", 201, json={"name": "p", "node_id": node["id"]})
    job = await gosd.ok("POST", f"/api/v2/plans/{plan['id']}/jobs/", 201)
    await gosd.ok("POST", f"/api/v2/plans/{plan['id']}/jobs/{job['job_id']}/cancel")
    sent = await queued_webhooks(runtime)
    assert [b["type"] for b in sent] == ["job.queued", "job.cancelled"]
    assert sent[0]["instance"] == "fleet" and sent[0]["job"]["job_id"] == job["job_id"]
    assert sent[1]["job"]["state"] == "cancelled"


async def test_no_url_no_webhooks(factory: Factory, client: httpx.AsyncClient, runtime: Runtime) -> None:
    gosd = await make_gosd(factory, client, runtime, **OPTIONS)
    gosd.token = await gosd.login()
    node = await gosd.node()
    plan = await gosd.ok("POST", "/api/v2/plans/", 201, json={"name": "p", "node_id": node["id"]})
    await gosd.ok("POST", f"/api/v2/plans/{plan['id']}/jobs/", 201)
    assert await queued_webhooks(runtime) == []
