"""encore's queue: how soon an idle worker starts a job, how fast jobs are enqueued, and that none is lost.

1. Latency: `mediaplane serve` with 2 workers; jobs of a tiny profile (served from a local file server through the
   instance's `profilesUrl`) enqueued one at a time, each after the workers sat idle for `--gap` seconds.
   Reported: `startedDate - createdDate` of each job (the server's view) and POST-to-first-GET-showing-it-started
   (the client's, polling every 5 ms), p50/p99; beside them the platform's own round trips, `POST /encoreJobs`
   and `GET /encoreJobs/{id}`, for context.
2. Volume: a second server with no workers (jobs never start); `--jobs` enqueues, then `GET /encoreJobs?size=200`
   page by page: every job must be listed exactly once. Reported: enqueue throughput and listing time.

    .venv/bin/python bench/encore_queue.py           # 50 jobs for latency, 1,000 for volume
    .venv/bin/python bench/encore_queue.py --quick   # 10 and 100
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import Encore, Server, machine, make_clip, percentile, scratch, seconds_between, serve_folder

PAGE_SIZE = 200
TINY = """
name: tiny
description: one small rendition, no audio
encodes:
  - type: X264Encode
    suffix: _tiny
    height: 90
    params: {b:v: 100k, preset: ultrafast, r: 25, pix_fmt: yuv420p}
"""


def spread(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"p50 {percentile(ms, 50):8.1f} ms   p99 {percentile(ms, 99):8.1f} ms   max {max(ms):8.1f} ms"


def latency(encore: Encore, clip_url: str, jobs: int, gap: float) -> None:
    body = {
        "profile": "tiny",
        "outputFolder": "/usercontent/q",
        "baseName": "q_",
        "inputs": [{"uri": clip_url, "type": "AudioVideo"}],
    }
    for _ in range(2):  # warm-up: the first jobs load FFmpeg, PyAV and the profile code
        encore.wait(encore.enqueue(body)["id"], ("SUCCESSFUL",), every=0.05)
    server_side, client_side, posts, gets = [], [], [], []
    for number in range(jobs):
        time.sleep(gap)  # idle workers back off their polling: this is the case that matters
        sent = time.monotonic()
        created = encore.enqueue(body)
        posts.append(time.monotonic() - sent)
        while True:
            asked = time.monotonic()
            job = encore.job(created["id"])
            gets.append(time.monotonic() - asked)
            if job["status"] != "QUEUED":
                client_side.append(time.monotonic() - sent)
                break
            time.sleep(0.005)
        job = encore.wait(created["id"], ("SUCCESSFUL",), every=0.05)
        server_side.append(seconds_between(job["createdDate"], job["startedDate"]))
        if (number + 1) % 10 == 0:
            print(f"  {number + 1}/{jobs} jobs", flush=True)
    for _ in range(200):
        asked = time.monotonic()
        encore.job(created["id"])
        gets.append(time.monotonic() - asked)
    print()
    print(f"enqueue -> IN_PROGRESS, {jobs} jobs one at a time, workers idle {gap:g} s before each")
    print(f"  server, createdDate -> startedDate       {spread(server_side)}")
    print(f"  client, POST sent -> seen started (5 ms) {spread(client_side)}")
    print("  for context, the platform's round trips:")
    print(f"  POST /encoreJobs                         {spread(posts)}")
    print(f"  GET /encoreJobs/{{id}}                     {spread(gets)}")


def volume(server: Server, jobs: int, clients: int) -> None:
    encore = server.encore("volume")
    body = {
        "profile": "program",
        "outputFolder": "/usercontent/v",
        "baseName": "v_",
        "inputs": [{"uri": "http://127.0.0.1:9/x.mp4", "type": "AudioVideo"}],
    }

    def enqueue_many(count: int) -> tuple[list[str], list[float]]:
        own = encore.another()
        ids, times = [], []
        for _ in range(count):
            sent = time.monotonic()
            ids.append(own.enqueue(body)["id"])
            times.append(time.monotonic() - sent)
        return ids, times

    shares = [jobs // clients + (1 if i < jobs % clients else 0) for i in range(clients)]
    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        done = list(pool.map(enqueue_many, shares))
    enqueue_time = time.monotonic() - started
    ids = [job_id for part, _ in done for job_id in part]
    times = [t for _, part in done for t in part]

    listed: list[str] = []
    page_times = []
    number, total = 0, None
    started = time.monotonic()
    while True:
        asked = time.monotonic()
        page = encore.page(number, PAGE_SIZE)
        page_times.append(time.monotonic() - asked)
        listed += [job["id"] for job in page["_embedded"]["encoreJobs"]]
        total = page["page"]["totalElements"]
        if "next" not in page["_links"]:
            break
        number += 1
    listing_time = time.monotonic() - started
    lost = set(ids) - set(listed)
    twice = len(listed) - len(set(listed))
    print()
    print(f"{jobs} enqueues from {clients} client(s), no workers, then GET /encoreJobs?size={PAGE_SIZE} page by page")
    print(f"  enqueue throughput   {jobs / enqueue_time:8.1f} jobs/s   ({enqueue_time:.2f} s in all)")
    print(f"  POST /encoreJobs     {spread(times)}")
    print(f"  listing              {listing_time:8.2f} s for {len(page_times)} pages   per page: {spread(page_times)}")
    ok = not lost and not twice and len(listed) == jobs and total == jobs
    print(f"  listed {len(listed)} (totalElements {total}), missing {len(lost)}, listed twice {twice}: ", end="")
    print("nothing lost" if ok else "JOBS LOST OR DUPLICATED")
    if not ok:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 jobs for latency and 100 for volume")
    parser.add_argument("--latency-jobs", type=int, help="jobs for the latency part (default 50; 10 with --quick)")
    parser.add_argument("--jobs", type=int, help="jobs for the volume part (default 1000; 100 with --quick)")
    parser.add_argument("--gap", type=float, help="idle seconds before each latency job (default 1; 0.3 with --quick)")
    parser.add_argument("--clients", type=int, default=1, help="concurrent clients enqueueing (default 1)")
    opts = parser.parse_args()
    latency_jobs = opts.latency_jobs or (10 if opts.quick else 50)
    jobs = opts.jobs or (100 if opts.quick else 1000)
    gap = opts.gap if opts.gap is not None else (0.3 if opts.quick else 1.0)
    with scratch("queue") as tmp_name:
        tmp = Path(tmp_name)
        media = tmp / "media"
        make_clip(media / "clip.mp4", 1, "320x240")
        (media / "profiles.yml").write_text("tiny: tiny.yml\n")
        (media / "tiny.yml").write_text(TINY)
        print(machine())
        with serve_folder(media) as media_url, Server(tmp / "busy", workers=2) as server:
            encore = server.encore("latency", profilesUrl=f"{media_url}/profiles.yml")
            latency(encore, f"{media_url}/clip.mp4", latency_jobs, gap)
        with Server(tmp / "idle", workers=None) as server:
            volume(server, jobs, opts.clients)


if __name__ == "__main__":
    main()
