"""`mediaplane gosd plans create | jobs | run | cancel | logs`: make a plan from a Lua file, run it, follow the
job to its end, cancel it and read its log."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mediaplane.cli.errors import CliError
from mediaplane.cli.output import short_time
from mediaplane.cli.state import CliState
from mediaplane.services.gosd.cli_api import JSON, GosdApi, gosd_api

NAME = typer.Argument(..., metavar="NAME", help="Name of the gosd instance")
PLAN_ID = typer.Argument(..., metavar="PLAN_ID", help="Id of the plan")
JOB_ID = typer.Argument(..., metavar="JOB_ID", help="The job's job_id within its plan")
ENDED = ("succeeded", "failed", "cancelled")
POLL = 0.5


def key_values(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise CliError(f"{option} {value!r}: give KEY=VALUE")
        pairs[key] = text
    return pairs


def plans_create(
    ctx: typer.Context,
    name: str = NAME,
    plan_name: str = typer.Option(..., "--name", "-n", help="The plan's name"),
    node_id: int = typer.Option(..., "--node", help="The node it runs on"),
    lua: Path | None = typer.Option(None, "--lua", exists=True, dir_okay=False, help="The plan's Lua script"),
    description: str = typer.Option("", "--description", "-d"),
    extra: list[str] = typer.Option([], "--extra", "-e", help="KEY=VALUE for the plan's extra; repeat for more"),
) -> None:
    """Create a plan; `--lua flow.lua` uploads the script as a blob and names it in files.lua."""
    state = CliState.of(ctx)
    with gosd_api(state, name) as api:
        files = {"lua": api.upload("lua", lua)} if lua is not None else {}
        body = {
            "name": plan_name,
            "description": description,
            "node_id": node_id,
            "files": files,
            "extra": key_values(extra, "--extra"),
        }
        plan = api.create_plan(body)
    state.out.message(f"Created plan {plan.get('id')} ({plan_name}) for node {node_id}")
    state.out.result(plan, lambda: state.out.fields(plan))


def job_row(job: JSON) -> list[Any]:
    files = ", ".join(f"{k}={v}" for k, v in (job.get("files") or {}).items()) or None
    return [
        job.get("job_id"),
        job.get("state"),
        short_time(job.get("created_at")),
        short_time(job.get("started_at")),
        short_time(job.get("finished_at")),
        job.get("error"),
        files,
    ]


def jobs_list(ctx: typer.Context, name: str = NAME, plan_id: int = PLAN_ID) -> None:
    """List a plan's jobs with their states."""
    state = CliState.of(ctx)
    with gosd_api(state, name) as api:
        jobs = api.jobs(plan_id)
    columns = ["Job", "State", "Created", "Started", "Finished", "Error", "Files"]
    rows = (job_row(j) for j in jobs if isinstance(j, dict))
    state.out.result(jobs, lambda: state.out.table(columns, rows, empty="No jobs.", no_wrap=["Job"]))


def follow(api: GosdApi, plan_id: int, job: JSON, state: CliState) -> JSON:
    """Polls the job until it ends, with a spinner showing its state on stderr."""
    job_id = int(job["job_id"])
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=state.out.stderr, transient=True) as progress:
        task = progress.add_task(f"job {job_id}: {job.get('state')}", total=None)
        while job.get("state") not in ENDED:
            time.sleep(POLL)
            job = api.job(plan_id, job_id)
            progress.update(task, description=f"job {job_id}: {job.get('state')}")
    return job


def run(
    ctx: typer.Context,
    name: str = NAME,
    plan_id: int = PLAN_ID,
    extra: list[str] = typer.Option([], "--extra", "-e", help="KEY=VALUE for the job's extra; repeat for more"),
    wait: bool = typer.Option(False, "--wait", "-w", help="Follow the job to its end; exit 1 unless it succeeded"),
    show_log: bool = typer.Option(False, "--log", help="With --wait: print the job's log at the end"),
) -> None:
    """Run a plan: a new job on the plan's node."""
    state = CliState.of(ctx)
    with gosd_api(state, name) as api:
        job = api.run(plan_id, key_values(extra, "--extra"))
        job_id = job.get("job_id")
        if not wait:
            state.out.message(
                f"Job {job_id} of plan {plan_id} queued; follow it with: mediaplane gosd jobs {name} {plan_id}"
            )
            state.out.result(job, lambda: state.out.fields(job))
            return
        job = follow(api, plan_id, job, state)
        log = api.job_log(plan_id, int(job["job_id"])) if show_log and (job.get("files") or {}).get("luavm") else ""
    if log and not state.json_mode:
        state.out.line(log.rstrip("\n"))
    message = f"Job {job_id} of plan {plan_id} {job.get('state')}"
    state.out.message(message + (f": {job.get('error')}" if job.get("error") else ""))
    state.out.result(job, lambda: None)
    if job.get("state") != "succeeded":
        raise typer.Exit(1)


def cancel(
    ctx: typer.Context,
    name: str = NAME,
    plan_id: int = PLAN_ID,
    job_id: int | None = typer.Argument(None, metavar="[JOB_ID]", help="One job; all of the plan's when left out"),
) -> None:
    """Cancel a job (or every queued and running job of the plan); the node is told to stop."""
    state = CliState.of(ctx)
    with gosd_api(state, name) as api:
        api.cancel(plan_id, job_id)
    which = f"job {job_id}" if job_id is not None else "the queued and running jobs"
    state.out.message(f"Asked to cancel {which} of plan {plan_id}")
    if state.json_mode:
        state.out.json({"plan_id": plan_id, "job_id": job_id, "cancelled": True})


def logs(ctx: typer.Context, name: str = NAME, plan_id: int = PLAN_ID, job_id: int = JOB_ID) -> None:
    """Print a job's script log (written when the job ends)."""
    state = CliState.of(ctx)
    with gosd_api(state, name) as api:
        text = api.job_log(plan_id, job_id)
    if state.json_mode:
        state.out.json({"plan_id": plan_id, "job_id": job_id, "log": text})
    else:
        state.out.line(text.rstrip("\n"))


def add_job_commands(app: typer.Typer, plans: typer.Typer) -> None:
    plans.command("create")(plans_create)
    app.command("jobs")(jobs_list)
    app.command("run")(run)
    app.command("cancel")(cancel)
    app.command("logs")(logs)
