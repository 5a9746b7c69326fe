"""The durable job that runs a gosd job: the plan's Lua script, sandboxed, driving the fleet's nodes over MQTT.

One attempt only: a script moves real devices, so a run cut off by a crash or a restart is not started again
from the top; it ends `failed` with a message that says so. A job whose node already runs another waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.core.urls import instance_url
from mediaplane.kit.db import Database
from mediaplane.kit.jobs import JobContext, JobDeferred, job
from mediaplane.services.gosd import schemas, webhooks
from mediaplane.services.gosd.blobs import BlobService
from mediaplane.services.gosd.host import Scope, ScriptHost, now_text
from mediaplane.services.gosd.jobs import LOG_KEY, RUN_JOB, TERMINAL
from mediaplane.services.gosd.luavm import Limits, ScriptError, run_script
from mediaplane.services.gosd.luavm.host import Killed
from mediaplane.services.gosd.models import GosdJob, GosdPlan, GosdPlanFile
from mediaplane.services.gosd.mqtt.link import NodeLink, open_link
from mediaplane.services.gosd.mqtt.settings import enabled as mqtt_enabled
from mediaplane.services.gosd.repository import JobRepository, NodeRepository, PlanFileRepository

log = logging.getLogger(__name__)
SCRIPT_KEY = "lua"  # the plan file that holds the script (gosd's and SDWC's key)
MAX_SCRIPT = 1024 * 1024
MAX_FILE = 16 * 1024 * 1024
BUSY_RETRY = 2.0  # seconds before a job whose node is busy looks again
ONLINE_WAIT = 5.0  # how long the node's retained status may take to arrive
TELL_NODE = 5.0  # how long telling the node of a cancel may take
DEFAULT_SCRIPT = Path(__file__).parent / "default.lua"
INTERRUPTED = (
    "interrupted: the worker running this job stopped (a restart or a crash); it is not run again from the "
    "start, since the script may already have moved the node"
)


@job(RUN_JOB, max_attempts=1)
async def run_gosd_job(ctx: JobContext, *, job: int) -> dict[str, Any] | None:
    runtime: Runtime = ctx.resources
    prepared = await _prepare(ctx.db, runtime, job)
    if prepared is None:
        return None
    row, plan, instance = prepared
    run = Run(ctx.db, runtime, instance, plan, row)
    state, error = await run.execute(ctx)
    await run.finish(state, error)
    return {"state": state}


async def _prepare(db: Database, runtime: Runtime, job_id: int) -> tuple[GosdJob, GosdPlan, Instance] | None:
    """Moves the job to running (or ends it, or defers it while its node is busy)."""
    async with db.session() as session:
        row = await session.get(GosdJob, job_id)
        if row is None or row.state in TERMINAL:
            return None
        instance = await session.get(Instance, row.instance_id)
        plan = await session.get(GosdPlan, row.plan_id)
        if instance is None:
            return None
        now = runtime.clock.now()
        problem = None
        if row.state == "running":
            problem = ("failed", INTERRUPTED)
        elif row.cancel_requested:
            problem = ("cancelled", "cancelled before it started")
        elif plan is None:
            problem = ("failed", "the plan was deleted")
        if problem is not None:
            await _end(session, runtime, instance, row, problem[0], problem[1])
            return None
        assert plan is not None
        if not await JobRepository(session).start(row, now):
            await session.refresh(row)
            if row.state in TERMINAL:
                return None
            raise JobDeferred(BUSY_RETRY, f"node {row.node_id} runs another job")
        await webhooks.emit(session, runtime, instance, "job.running", job=schemas.job(row))
        return row, plan, instance


async def _end(session: Any, runtime: Runtime, instance: Instance, row: GosdJob, state: str, error: str | None) -> None:
    now = runtime.clock.now()
    row.state, row.error, row.finished_at, row.updated_at = state, error, now, now
    event: webhooks.EventType = f"job.{state}"  # type: ignore[assignment]
    await webhooks.emit(session, runtime, instance, event, job=schemas.job(row))


class JobFiles:
    """The plan's and the job's files as a running script reads and writes them."""

    def __init__(self, db: Database, runtime: Runtime, instance: Instance, plan: GosdPlan, row: GosdJob) -> None:
        self.db = db
        self.runtime = runtime
        self.instance = instance
        self.plan = plan
        self.row = row
        self.maps: dict[Scope, dict[str, str]] = {"plan": {}, "job": dict(row.files or {})}

    async def load(self) -> None:
        async with self.db.session() as session:
            rows = await PlanFileRepository(session).of_plans(self.instance.id, [self.plan.id])
        self.maps["plan"] = {r.name: str(r.blob_id) for r in rows}

    async def read(self, scope: Scope, key: str) -> bytes | None:
        blob_id = self.maps[scope].get(key)
        if blob_id is None:
            return None
        async with self.db.session() as session:
            blobs = BlobService(session, self.runtime, self.instance)
            blob = await blobs.blobs.get_in(self.instance.id, int(blob_id))
            return await blobs.read_bytes(blob, MAX_FILE) if blob is not None else None

    async def write(self, scope: Scope, key: str, data: bytes, filename: str) -> None:
        async with self.db.session() as session:
            blob = await BlobService(session, self.runtime, self.instance).create_bytes(filename, data)
            if scope == "job":
                row = await session.get(GosdJob, self.row.id)
                if row is not None:
                    row.files = {**(row.files or {}), key: str(blob.id)}
            else:
                files = PlanFileRepository(session)
                await files.delete_named(self.instance.id, self.plan.id, key)
                session.add(GosdPlanFile(instance_id=self.instance.id, plan_id=self.plan.id, name=key, blob_id=blob.id))
        self.maps[scope][key] = str(blob.id)

    def url(self, scope: Scope, key: str) -> str | None:
        blob_id = self.maps[scope].get(key)
        if blob_id is None:
            return None
        settings = self.runtime.settings
        base = instance_url(settings, settings.base_url, "gosd", self.instance.tenant_id, self.instance.name)
        return f"{base}gosd/api/v2/blobs/{blob_id}"

    def listing(self, scope: Scope) -> dict[str, str]:
        return dict(self.maps[scope])


class Run:
    def __init__(self, db: Database, runtime: Runtime, instance: Instance, plan: GosdPlan, row: GosdJob) -> None:
        self.db = db
        self.runtime = runtime
        self.instance = instance
        self.plan = plan
        self.row = row
        self.files = JobFiles(db, runtime, instance, plan, row)
        self.host: ScriptHost | None = None
        self.early_log: list[str] = []

    def note(self, text: str) -> None:
        if self.host is not None:
            self.host.log("info", text)
        else:
            self.early_log.append(f"{now_text()} [info] {text}\n")

    async def execute(self, ctx: JobContext) -> tuple[str, str | None]:
        """Runs the script to its end; (state, error)."""
        try:
            await self.files.load()
            source = await self._script()
            if not mqtt_enabled(self.runtime.settings):
                return "failed", "no MQTT broker is configured (MQTT_URL, or MQTT_ENABLED for the embedded one)"
            async with self.db.session() as session:
                fleet = {n.id for n in await NodeRepository(session).list_in(self.instance.id)}
            if self.row.node_id not in fleet:
                return "failed", f"node {self.row.node_id} is not in this fleet any more"
            async with open_link(self.runtime.settings, sorted(fleet), client=f"gosd.job{self.row.id}") as link:
                if not await link.wait_online(self.row.node_id, ONLINE_WAIT):
                    return "failed", f"node {self.row.node_id} is offline: start its agent, then run the job again"
                return await self._supervise(ctx, link, fleet, source)
        except asyncio.CancelledError:
            self.note(_stopped(ctx)[1])
            return _stopped(ctx)
        except ScriptError as exc:
            return "failed", str(exc)
        except Exception as exc:  # a broker that is down, a storage error: the job fails with the reason
            log.warning("gosd job %s failed: %s", self.row.id, exc, exc_info=True)
            return "failed", f"{type(exc).__name__}: {exc}"

    async def _script(self) -> str:
        data = await self.files.read("plan", SCRIPT_KEY)
        if data is None:
            configured = self.runtime.settings.gosd_lua_file
            path = Path(configured) if configured else DEFAULT_SCRIPT
            self.note(f"the plan has no files.{SCRIPT_KEY}: running {path.name}")
            return path.read_text()
        if len(data) > MAX_SCRIPT:
            raise ScriptError(f"files.{SCRIPT_KEY} is larger than {MAX_SCRIPT} bytes")
        try:
            return data.decode()
        except UnicodeDecodeError:
            raise ScriptError(f"files.{SCRIPT_KEY} is not UTF-8 text") from None

    async def _supervise(self, ctx: JobContext, link: NodeLink, fleet: set[int], source: str) -> tuple[str, str | None]:
        node = self.row.node_id
        host = ScriptHost(
            loop=asyncio.get_running_loop(),
            link=link,
            node_id=node,
            fleet=fleet,
            files=self.files,
            plan_extra=dict(self.plan.extra or {}),
            job_extra=dict(self.row.extra or {}),
            clock=now_text,
        )
        for line in self.early_log:
            host.log("info", line.split("] ", 1)[-1].rstrip("\n"))
        self.host = host
        host.log("info", f"job {self.row.job_id} of plan {self.plan.id} started on node {node}")
        limits = Limits(
            memory_bytes=self.runtime.settings.gosd_lua_memory_mb * 1024 * 1024,
            cpu_seconds=self.runtime.settings.gosd_lua_cpu_seconds,
        )
        script = asyncio.ensure_future(asyncio.to_thread(run_script, source, host, limits=limits, name="plan.lua"))
        offline = asyncio.ensure_future(link.went_offline(node).wait())
        try:
            await asyncio.wait({script, offline}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            host.kill("Be killed")
            await _settle(script)
            state, error = _stopped(ctx)
            host.log("warn", f"{error}: the script was stopped")
            await self._tell_node(link, node, host)
            return state, error
        finally:
            offline.cancel()
        if not script.done():
            host.kill(f"node {node} went offline")
            await _settle(script)
            status = link.status(node) or {}
            detail = f" ({status.get('msg')})" if status.get("msg") else ""
            host.log("error", f"node {node} went offline{detail}: the job is stopped")
            return "failed", f"node {node} went offline{detail} while the job ran"
        try:
            script.result()
        except Killed:
            if ctx.cancelled.is_set():
                await self._tell_node(link, node, host)
                return "cancelled", "cancelled"
            return "failed", host.kill_reason or "killed"
        except ScriptError as exc:
            host.log("error", str(exc))
            return "failed", str(exc)
        host.log("info", "finished")
        return "succeeded", None

    async def _tell_node(self, link: NodeLink, node: int, host: ScriptHost) -> None:
        """A cancel reaches the node as the notification `cancel` (it stops what it was doing)."""
        try:
            await asyncio.wait_for(
                link.notify(node, "cancel", {"job_id": self.row.job_id, "plan_id": self.plan.id}), TELL_NODE
            )
            host.log("info", f"node {node} was told to cancel")
        except Exception as exc:
            host.log("warn", f"node {node} could not be told to cancel: {exc}")

    async def finish(self, state: str, error: str | None) -> None:
        """Stores the outcome and the log (blob `luavm`, luavm.txt), whatever happened before."""
        text = self.host.log_text() if self.host is not None else "".join(self.early_log)
        if error and state != "succeeded" and self.host is None:
            text += f"{now_text()} [error] {error}\n"
        async with self.db.session() as session:
            row = await session.get(GosdJob, self.row.id)
            if row is None:
                return
            files = dict(row.files or {})
            with contextlib.suppress(Exception):  # the outcome matters more than the log
                blob = await BlobService(session, self.runtime, self.instance).create_bytes("luavm.txt", text.encode())
                files[LOG_KEY] = str(blob.id)
            row.files = files
            if self.host is not None and self.host.job_extra_changed:
                row.extra = self.host.job_extra()
            await _end(session, self.runtime, self.instance, row, state, error)


def _stopped(ctx: JobContext) -> tuple[str, str]:
    """A cancel asked for, or this worker shutting down (then nobody drives the node: the job failed)."""
    if ctx.cancelled.is_set():
        return "cancelled", "cancelled"
    return "failed", "stopped: the worker running this job was shut down"


async def _settle(task: asyncio.Future[Any]) -> None:
    """Waits for the script's thread to stop after a kill (the sandbox checks often), whatever it raises."""
    with contextlib.suppress(BaseException):
        await asyncio.shield(task)
