"""rig relays against nginx-rtmp's own `push`: CPU per relayed stream, frames delivered, added latency.

Reference: an nginx-rtmp whose application pushes every stream to two receivers (`push` twice). Measured:
`mediaplane serve` with a rig instance whose YouTube and Twitch base URLs point at the same two receivers,
one stream per publisher with both destinations: publishers taken by serve itself with the fan-out relay
(the default), taken by its nginx with the fan-out relay playing them from it, and the FFmpeg relays. The CPU
of the whole serve process tree (API, its nginx, relays, any FFmpeg) is counted against the reference nginx's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from harness import Server, free_port, machine, scratch, verdict
from live import Nginx, added_latency, cpu_over, make_live_clip, publishers, video_frames

GOAL = 1.5


class Rig:
    """One rig instance's API as a rig user."""

    def __init__(self, server: Server, name: str, **options: str) -> None:
        _, base = server.instance("rig", name, **options)
        self.http = httpx.Client(base_url=f"{server.url}{base}", timeout=30)
        user = {"username": "bench", "password": "bench-password-1", "email": "bench@example.com"}
        self.call("POST", "/accounts/", user)
        token = self.call("POST", "/accounts/auth/local", user)["token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        r = self.http.request(method, path, json=body if body is not None else {})
        if r.status_code != 200:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
        return r.json()["payload"]

    def stream(self, key: str) -> dict[str, Any]:
        stream = self.call("POST", "/streams/")
        for service in ("YouTube", "Twitch"):
            self.call("POST", f"/streams/{stream['id']}/destination", {"service": service, "streamKey": key})
        return self.call("GET", f"/streams/{stream['id']}")  # type: ignore[no-any-return]

    def wait_live(self, ids: list[str], within: float = 60) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            details = [self.call("GET", f"/streams/{i}") for i in ids]
            if all(d["isStreaming"] and all(x["status"] == "live" for x in d["destinations"]) for d in details):
                return
            time.sleep(0.5)
        raise RuntimeError("not every destination went live")


ENGINES = {"fanout": ("python", "fanout"), "fanout-nginx": ("nginx", "fanout"), "ffmpeg": ("nginx", "ffmpeg")}
"""Ours, measured: the publishers' server and the relay engine (RTMP_SERVER, RELAY_ENGINE)."""


def serve_env(engine: str) -> dict[str, str]:
    server, relays = ENGINES[engine]
    return {
        "MEDIAPLANE_RTMP_ENABLED": "true",
        "MEDIAPLANE_RTMP_PORT": str(free_port()),
        "MEDIAPLANE_RTMP_SERVER": server,
        "MEDIAPLANE_RELAY_ENGINE": relays,
        **({"MEDIAPLANE_RELAY_READ_INTERVAL": os.environ["RI"]} if "RI" in os.environ else {}),
    }


def steady(latencies: list[float]) -> list[float]:
    """Frames after the first 3 s: a (re)connected output starts with a burst from the GOP cache."""
    return latencies[75:] or latencies


def measure_ours(root: Path, engine: str, clip: Path, receiver: Nginx, streams: int, window: float) -> dict[str, Any]:
    with Server(root / f"serve-{engine}", workers=1, env=serve_env(engine)) as server:
        rig = Rig(server, "bench", youtubeUrl=receiver.url("recva"), twitchUrl=receiver.url("recvb"))
        made = [rig.stream(f"s{i}") for i in range(streams)]
        # Stream 0 goes through a tap, an nginx pushing it on (as the reference pushes, in about a
        # millisecond): the latency is measured from there, since our ingest need not serve players.
        app_url, key = made[0]["ingestUrl"].rsplit("/", 1)
        with Nginx(root / f"tap-{engine}", {"tap": f"push {app_url};"}) as tap:
            urls = [tap.url("tap", key)] + [s["ingestUrl"] for s in made[1:]]
            with publishers(clip, urls, loop=True):
                rig.wait_live([s["id"] for s in made])
                time.sleep(3)
                cpu = cpu_over([server.proc.pid], window) if server.proc else 0.0
                latency = steady(added_latency(urls[0], receiver.url("recva", "s0"), 15))
    return {"cpu": cpu, "latency": latency}


def measure_reference(root: Path, clip: Path, receiver: Nginx, streams: int, window: float) -> dict[str, Any]:
    pushes = f"push {receiver.url('recva')}; push {receiver.url('recvb')};"
    with Nginx(root / "reference", {"live": pushes}) as ingest:
        urls = [ingest.url("live", f"s{i}") for i in range(streams)]
        with publishers(clip, urls, loop=True):
            time.sleep(6)
            assert ingest.proc is not None
            cpu = cpu_over([ingest.proc.pid], window)
            latency = steady(added_latency(urls[0], receiver.url("recva", "s0"), 15))
    return {"cpu": cpu, "latency": latency}


def frames_delivered(root: Path, clip: Path, streams: int) -> tuple[int, list[int]]:
    """Publishes `clip` once on every stream; returns the clip's frames and what each receiver recorded."""

    def record(app: str) -> str:
        (root / app).mkdir(parents=True, exist_ok=True)
        return f"record all; record_path {root / app}; record_unique off;"

    receiver = Nginx(root / "recorders", {"recva": record("recva"), "recvb": record("recvb")})
    with receiver, Server(root / "serve-frames", workers=1, env=serve_env("fanout")) as server:
        rig = Rig(server, "frames", youtubeUrl=receiver.url("recva"), twitchUrl=receiver.url("recvb"))
        made = [rig.stream(f"f{i}") for i in range(streams)]
        with publishers(clip, [s["ingestUrl"] for s in made]) as procs:
            for proc in procs:
                proc.wait()
        time.sleep(5)
    counts = [video_frames(root / app / f"f{i}.flv") for app in ("recva", "recvb") for i in range(streams)]
    return video_frames(clip), counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=10, help="streams for the CPU comparison")
    parser.add_argument("--window", type=float, default=30, help="seconds of CPU measured")
    parser.add_argument("--ingests", type=int, default=20, help="concurrent ingests for the frame count")
    parser.add_argument("--quick", action="store_true", help="2 streams, short windows")
    parser.add_argument("--frames-only", action="store_true", help="only the frame count of concurrent ingests")
    args = parser.parse_args()
    if args.quick:
        args.streams, args.window, args.ingests = 2, 5, 2
    with scratch("mediaplane-bench-rig-") as tmp:
        root = Path(tmp)
        short = make_live_clip(root / "short.flv", 10 if args.quick else 30)
        expected, counts = frames_delivered(root, short, args.ingests)
        report_frames(args, expected, counts)
        if args.frames_only:
            return
        clip = make_live_clip(root / "clip.flv", 20 if args.quick else 60)
        with Nginx(root / "receivers", {"recva": "", "recvb": ""}) as receiver:
            reference = measure_reference(root, clip, receiver, args.streams, args.window)
            results = {e: measure_ours(root, e, clip, receiver, args.streams, args.window) for e in ENGINES}
    report(args, reference, results)


def report_frames(args: Any, expected: int, counts: list[int]) -> None:
    short = sum(max(expected - c, 0) for c in counts)
    print(
        f"\n{args.ingests} ingests x 2 destinations: clip of {expected} frames, received per destination "
        f"min {min(counts)} max {max(counts)}; frames missing in all: {short}"
    )
    sys.stdout.flush()


def report(args: Any, reference: dict[str, Any], results: dict[str, Any]) -> None:
    per = args.window * args.streams / 100  # CPU seconds per stream in the window, as % of one core
    ref = reference["cpu"]
    print(f"\n## rig relays vs nginx-rtmp push ({machine()})\n")
    print(f"{args.streams} streams x 2 destinations, 2.5 Mb/s 720p25 H.264 + AAC, CPU over {args.window:g} s\n")
    print("| engine | CPU per stream (% of a core) | vs nginx push | added latency p50 / p95 (ms) |")
    print("|---|---|---|---|")
    rows = [("nginx push (reference)", reference)] + [(f"mediaplane {e}", r) for e, r in results.items()]
    for name, r in rows:
        lat = sorted(r["latency"]) or [float("nan")]
        p50, p95 = statistics.median(lat) * 1000, lat[int(0.95 * (len(lat) - 1))] * 1000
        print(f"| {name} | {r['cpu'] / per:.2f} | {r['cpu'] / ref:.2f}x | {p50:.0f} / {p95:.0f} |")
    ratio = results["fanout"]["cpu"] / ref
    print(f"\nfanout / nginx push: {ratio:.2f} (goal <= {GOAL}) {verdict(ratio, GOAL)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
