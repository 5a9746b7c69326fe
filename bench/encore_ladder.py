"""A whole ladder in one FFmpeg process (what encore runs) against one FFmpeg process per rendition.

Both sides are built by `build_plan` from the same profile and input: the one-process side is the plan of the
whole profile (the input decoded once, split to every rendition); the per-rendition side is the plan of each
encode alone (each process decodes the input itself), run one after another. The per-rendition processes are
also run all at once, for honesty: on spare cores that may beat one process. Runs alternate the order;
medians are reported. Goal: one process / per-rendition sequential <= 0.80.

    .venv/bin/python bench/encore_ladder.py              # 3-rung 720p one-pass x264 ladder, 20 s clip, 3 runs
    .venv/bin/python bench/encore_ladder.py --program    # the shipped `program` profile (two-pass; slow)
    .venv/bin/python bench/encore_ladder.py --quick      # 3 s clip, 1 run: a smoke check
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import children_cpu, machine, make_clip, median, run_ffmpeg_direct, scratch, verdict

from mediaplane.services.encore.encode.analyze import analyze_file
from mediaplane.services.encore.encode.command import EncodePlan, ResolvedInput, build_plan
from mediaplane.services.encore.profiles.loader import load_profile
from mediaplane.services.encore.profiles.model import Profile
from mediaplane.services.encore.schemas.job import EncoreJob

GOAL = 0.80
# Three H.264 rungs up to 720p with AAC, one pass; the rates and GOP of the shipped program profile.
LADDER = """
name: ladder
description: three H.264 renditions up to 720p, one pass
encodes:
  - type: X264Encode
    suffix: _x264_2069
    height: 720
    params: {{b:v: 2069k, maxrate: 3104k, bufsize: 4138k, preset: {preset}, r: 25, fps_mode: cfr, pix_fmt: yuv420p,
             force_key_frames: "expr:not(mod(n,96))"}}
    audioEncode: {{bitrate: 128k, suffix: STEREO}}
  - type: X264Encode
    suffix: _x264_1312
    height: 540
    params: {{b:v: 1312k, maxrate: 1968k, bufsize: 2524k, preset: {preset}, r: 25, fps_mode: cfr, pix_fmt: yuv420p,
             force_key_frames: "expr:not(mod(n,96))"}}
    audioEncode: {{bitrate: 96k, suffix: STEREO}}
  - type: X264Encode
    suffix: _x264_806
    height: 360
    params: {{b:v: 806k, maxrate: 1209k, bufsize: 1612k, preset: {preset}, r: 25, fps_mode: cfr, pix_fmt: yuv420p,
             force_key_frames: "expr:not(mod(n,96))"}}
    audioEncode: {{bitrate: 96k, suffix: STEREO}}
"""


def profile_of(folder: Path, program: bool, preset: str, job: dict[str, Any]) -> Profile:
    """The shipped `program` profile, or the ladder above read through the same loader as a user's profile."""
    if program:
        return asyncio.run(load_profile(None, "program", job))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yml").write_text("ladder: ladder.yml\n")
    (folder / "ladder.yml").write_text(LADDER.format(preset=preset))
    return asyncio.run(load_profile(str(folder / "profiles.yml"), "ladder", job))


def plans(job: EncoreJob, clip: Path, profile: Profile, workdir: Path) -> tuple[EncodePlan, list[EncodePlan]]:
    """The plan of the whole profile, and one plan per encode (each in its own work folder)."""
    analysed = analyze_file(str(clip))
    job.inputs[0].analyzed = analysed
    inputs = [ResolvedInput(input=job.inputs[0], url=str(clip), analyzed=analysed)]
    (workdir / "one").mkdir(parents=True)
    whole = build_plan(job, profile, inputs, workdir / "one")
    singles = []
    for index, encode in enumerate(profile.encodes):
        folder = workdir / f"rendition{index}"
        folder.mkdir()
        singles.append(build_plan(job, profile.model_copy(update={"encodes": [encode]}), inputs, folder))
    return whole, singles


def run_plan(plan: EncodePlan, log: Path) -> None:
    for args in plan.commands:
        run_ffmpeg_direct(args, log)


def timed(work: Callable[[], None]) -> tuple[float, float]:
    """Wall and CPU seconds of `work` (CPU of the FFmpeg processes it ran)."""
    cpu, started = children_cpu(), time.monotonic()
    work()
    return time.monotonic() - started, children_cpu() - cpu


def in_parallel(singles: list[EncodePlan], log: Path) -> None:
    threads = [threading.Thread(target=run_plan, args=(plan, log)) for plan in singles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def in_turn(singles: list[EncodePlan], log: Path) -> None:
    for plan in singles:
        run_plan(plan, log)


LABELS = {"one": "one process", "in turn": "per rendition, in turn", "at once": "per rendition, at once"}


def report(what: str, results: dict[str, list[tuple[float, float]]]) -> None:
    wall = {name: median([w for w, _ in runs]) for name, runs in results.items()}
    cpu = {name: median([c for _, c in runs]) for name, runs in results.items()}
    print()
    print(what)
    for name, label in LABELS.items():
        walls = ", ".join(f"{w:.2f}" for w, _ in results[name])
        print(f"  {label:<24} {wall[name]:8.2f} s wall {cpu[name]:8.2f} s CPU   runs: {walls}")
    ratio = wall["one"] / wall["in turn"]
    print(f"  ratio one / per rendition in turn, wall  {ratio:6.3f}   goal <= {GOAL} ({verdict(ratio, GOAL)})")
    print(f"  ratio one / per rendition in turn, CPU   {cpu['one'] / cpu['in turn']:6.3f}")
    print(f"  ratio one / per rendition at once, wall  {wall['one'] / wall['at once']:6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a 3 s clip and one run: a smoke check")
    parser.add_argument("--runs", type=int, help="runs of each side (default 3; 1 with --quick)")
    parser.add_argument("--seconds", type=float, help="clip length (default 20; 3 with --quick)")
    parser.add_argument("--size", default="1280x720", help="clip picture size (default 1280x720)")
    parser.add_argument("--preset", default="veryfast", help="x264 preset of the ladder (default veryfast)")
    parser.add_argument("--program", action="store_true", help="the shipped program profile instead of the ladder")
    opts = parser.parse_args()
    runs = opts.runs or (1 if opts.quick else 3)
    seconds = opts.seconds or (3 if opts.quick else 20)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in LABELS}
    with scratch("ladder") as tmp_name:
        tmp = Path(tmp_name)
        clip = make_clip(tmp / "clip.mp4", seconds, opts.size)
        job = EncoreJob.model_validate(
            {
                "profile": "program" if opts.program else "ladder",
                "outputFolder": "/usercontent/ladder",
                "baseName": "ladder_",
                "inputs": [{"uri": str(clip), "type": "AudioVideo"}],
            }
        )
        profile = profile_of(tmp / "profiles", opts.program, opts.preset, job.model_dump(mode="json", by_alias=True))
        whole, singles = plans(job, clip, profile, tmp / "work")
        log = tmp / "ffmpeg.log"
        sides: dict[str, Callable[[], None]] = {
            "one": lambda: run_plan(whole, log),
            "in turn": lambda: in_turn(singles, log),
            "at once": lambda: in_parallel(singles, log),
        }
        for run in range(runs):
            for name in list(sides) if run % 2 == 0 else reversed(sides):
                wall, cpu = timed(sides[name])
                results[name].append((wall, cpu))
                print(f"run {run + 1}/{runs} {LABELS[name]:<24} {wall:7.2f} s wall {cpu:7.2f} s CPU", flush=True)
    what = "program profile (two-pass)" if opts.program else f"3-rung 720p x264 ladder, one pass, preset {opts.preset}"
    report(
        f"{what}; {len(profile.encodes)} encodes; {seconds:g} s {opts.size} clip; {runs} run(s); {machine()}", results
    )


if __name__ == "__main__":
    main()
