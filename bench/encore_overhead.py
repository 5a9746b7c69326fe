"""encore's overhead: a `program` job through the API against the same FFmpeg command run by hand.

The API side is `mediaplane serve` in a subprocess: POST /encoreJobs with a `progressCallbackUri` pointing at the
benchmark; the wall time runs from the POST to the arrival of the SUCCESSFUL callback (what an Encore client
waits for), or with `--poll S` to the first GET, every S seconds, that shows SUCCESSFUL. The reference runs the
passes that `build_plan` makes for the same job, profile and analysed input with the same FFmpeg binary, reading
the same HTTP URL. Runs alternate which side goes first; medians are reported. Goal: API / direct <= 1.03.

    .venv/bin/python bench/encore_overhead.py            # 20 s 1280x720 clip, 3 runs (about 15 min on 2 cores)
    .venv/bin/python bench/encore_overhead.py --quick    # 1 s clip, 1 run: a smoke check
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    Callbacks,
    Encore,
    Server,
    children_cpu,
    machine,
    make_clip,
    median,
    process_cpu,
    run_ffmpeg_direct,
    scratch,
    seconds_between,
    serve_folder,
    verdict,
)

from mediaplane.services.encore.encode.analyze import analyze_file
from mediaplane.services.encore.encode.command import EncodePlan, ResolvedInput, build_plan
from mediaplane.services.encore.encode.plan import output_files
from mediaplane.services.encore.profiles.loader import load_profile
from mediaplane.services.encore.schemas.job import EncoreJob

GOAL = 1.03


@dataclass
class Sample:
    api: list[float] = field(default_factory=list)
    direct: list[float] = field(default_factory=list)
    queued: list[float] = field(default_factory=list)  # createdDate -> startedDate
    running: list[float] = field(default_factory=list)  # startedDate -> completedDate
    analyse_outputs: list[float] = field(default_factory=list)
    copy_outputs: list[float] = field(default_factory=list)
    ffmpeg_cpu_api: list[float] = field(default_factory=list)  # the server's finished children: FFmpeg
    ffmpeg_cpu_direct: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)  # the server process itself during the job


def job_body(input_url: str, callback_url: str) -> dict[str, Any]:
    return {
        "profile": "program",
        "progressCallbackUri": callback_url,
        "outputFolder": "/usercontent/bench",
        "baseName": "bench_",
        "inputs": [{"uri": input_url, "type": "AudioVideo"}],
    }


def direct_plan(body: dict[str, Any], input_url: str, workdir: Path) -> tuple[EncodePlan, float]:
    """The plan the worker would make for `body` (input analysed over HTTP, as it does); and the analysis time."""
    job = EncoreJob.model_validate(body)
    started = time.monotonic()
    analysed = analyze_file(input_url)
    analyse_input = time.monotonic() - started
    job.inputs[0].analyzed = analysed
    profile = asyncio.run(load_profile(None, job.profile, job.model_dump(mode="json", by_alias=True)))
    workdir.mkdir(parents=True, exist_ok=True)
    plan = build_plan(job, profile, [ResolvedInput(input=job.inputs[0], url=input_url, analyzed=analysed)], workdir)
    return plan, analyse_input


def run_direct(plan: EncodePlan, workdir: Path, copies: Path, sample: Sample) -> None:
    for path in workdir.iterdir():
        path.unlink()
    cpu = children_cpu()
    elapsed = sum(run_ffmpeg_direct(args, workdir.with_suffix(".log")) for args in plan.commands)
    sample.direct.append(elapsed)
    sample.ffmpeg_cpu_direct.append(children_cpu() - cpu)
    # What the worker does after FFmpeg, timed on the same files: analyse each output, copy it to storage.
    produced = [path for output in plan.outputs for path in output_files(output)]
    started = time.monotonic()
    for path in produced:
        analyze_file(str(path))
    sample.analyse_outputs.append(time.monotonic() - started)
    copies.mkdir(exist_ok=True)
    started = time.monotonic()
    for path in produced:
        shutil.copyfile(path, copies / path.name)
    sample.copy_outputs.append(time.monotonic() - started)
    print(f"  direct: {elapsed:7.2f} s  ({len(plan.commands)} passes, {len(produced)} files)", flush=True)


def run_api(
    server: Server, encore: Encore, body: dict[str, Any], callbacks: Callbacks, poll: float | None, sample: Sample
) -> None:
    assert server.proc is not None
    own, children = process_cpu(server.proc.pid)
    started = time.monotonic()
    job_id = encore.enqueue(body)["id"]
    if poll is not None:
        encore.wait(job_id, ("SUCCESSFUL",), every=poll)
        ended = time.monotonic()
    else:
        while (arrived := callbacks.wait_for(job_id, ("SUCCESSFUL", "FAILED", "CANCELLED"), 5.0)) is None:
            if encore.job(job_id)["status"] in ("SUCCESSFUL", "FAILED", "CANCELLED"):
                arrived = time.monotonic()  # the callback was lost: the GET is what told the client
                break
        ended = arrived
    job = encore.wait(job_id, ("SUCCESSFUL",))
    time.sleep(0.5)  # the server's FFmpeg children are reaped by then
    own_after, children_after = process_cpu(server.proc.pid)
    sample.api.append(ended - started)
    sample.server_cpu.append(own_after - own)
    sample.ffmpeg_cpu_api.append(children_after - children)
    sample.queued.append(seconds_between(job["createdDate"], job["startedDate"]))
    sample.running.append(seconds_between(job["startedDate"], job["completedDate"]))
    print(f"  api:    {ended - started:7.2f} s  ({len(job['output'])} files, speed {job['speed']}x)", flush=True)


def runs_of(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def report(sample: Sample, analyse_input: float, seconds: float, how: str) -> None:
    api, direct = median(sample.api), median(sample.direct)
    ratio = api / direct
    print()
    print(f"program profile, {seconds:g} s 1280x720 clip over HTTP, {len(sample.api)} run(s) each; {machine()}")
    print(f"  API, POST to SUCCESSFUL {how:<11} {api:8.2f} s   runs: {runs_of(sample.api)}")
    print(f"  FFmpeg direct, all passes          {direct:8.2f} s   runs: {runs_of(sample.direct)}")
    print(f"  ratio API / direct                 {ratio:8.3f}     goal <= {GOAL} ({verdict(ratio, GOAL)})")
    # Each run's two sides ran back to back: their ratio is less exposed to the machine's load changing.
    paired = [a / d for a, d in zip(sample.api, sample.direct, strict=True)]
    print(
        f"  median of each run's ratio         {median(paired):8.3f}     runs: {', '.join(f'{r:.3f}' for r in paired)}"
    )
    print("  where the difference goes (medians; analysis and copy timed here on the direct run's files):")
    print(f"    queued, createdDate -> startedDate   {median(sample.queued):7.2f} s")
    print(f"    on the worker, started -> completed  {median(sample.running):7.2f} s")
    print(f"    input analysis (over HTTP)           {analyse_input:7.2f} s")
    print(f"    output analysis                      {median(sample.analyse_outputs):7.2f} s")
    print(f"    copy of outputs to storage           {median(sample.copy_outputs):7.2f} s")
    known = median(sample.queued) + analyse_input + median(sample.analyse_outputs) + median(sample.copy_outputs)
    print(f"    rest (FFmpeg under the server, API)  {api - direct - known:7.2f} s")
    print("  CPU seconds (medians):")
    print(f"    FFmpeg, run by the service           {median(sample.ffmpeg_cpu_api):7.2f} s")
    print(f"    FFmpeg, run directly                 {median(sample.ffmpeg_cpu_direct):7.2f} s")
    print(f"    the server process during the job    {median(sample.server_cpu):7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a 1 s clip and one run: a smoke check")
    parser.add_argument("--runs", type=int, help="runs of each side (default 3; 1 with --quick)")
    parser.add_argument("--seconds", type=float, help="clip length (default 20; 1 with --quick)")
    parser.add_argument("--poll", type=float, help="poll the job every POLL seconds instead of waiting for callbacks")
    opts = parser.parse_args()
    runs = opts.runs or (1 if opts.quick else 3)
    seconds = opts.seconds or (1 if opts.quick else 20)
    sample = Sample()
    callbacks = Callbacks()
    with scratch("overhead") as tmp_name:
        tmp = Path(tmp_name)
        clip = make_clip(tmp / "media" / "clip.mp4", seconds)
        with serve_folder(clip.parent, callbacks) as media_url, Server(tmp / "data", workers=2) as server:
            encore = server.encore("bench")
            body = job_body(f"{media_url}/{clip.name}", f"{media_url}/callback")
            plan, analyse_input = direct_plan(body, f"{media_url}/{clip.name}", tmp / "direct")
            for run in range(runs):
                print(f"run {run + 1}/{runs}", flush=True)
                sides = [
                    lambda: run_api(server, encore, body, callbacks, opts.poll, sample),
                    lambda: run_direct(plan, tmp / "direct", tmp / "copies", sample),
                ]
                for side in sides if run % 2 == 0 else reversed(sides):
                    side()
    report(sample, analyse_input, seconds, "(callback)" if opts.poll is None else f"(poll {opts.poll:g} s)")


if __name__ == "__main__":
    main()
