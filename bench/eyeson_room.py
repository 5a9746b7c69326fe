"""The MCU behind eyeson rooms (kit/mcu): CPU and memory of a room, shared encoder vs one encoder per receiver.

A room runs in a subprocess of its own (this script with `--room`), so its CPU and RSS are read from /proc
without the participants' share. The participants are aiortc peers in this process, on 127.0.0.1: each sends
a moving 320x240 test pattern at 15 fps and a tone, and decodes the composite it receives. For each canvas
size and mode, participants join one at a time; after each join the room is measured with N = 2, 3, 4.
Join time runs from the `connect()` request to the first composite frame the new participant decoded.

The room's CPU is also split by thread: the event loop (RTP, SRTP, mixing), the video thread (compose, the
shared encode), aiortc's decoders, and the loop's executor (aiortc's per-sender encodes: Opus, and VP8 when
not shared). On a machine with more cores, `--room-cores 2` keeps the participants off the room's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import itertools
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame
from harness import machine, process_cpu

from mediaplane.kit.mcu import McuConfig, McuRoom, restrict_ice_hosts

MODES = {"shared": True, "per-receiver": False}
Frames = list[np.ndarray]
GROUPS = {
    "MainThread": "loop",
    "mcu-video": "video",
    "video-decoder": "decode",
    "audio-decoder": "decode",
    "asyncio": "encode",  # the loop's default executor: aiortc's per-sender encodes (Opus; VP8 per receiver)
}
FPS = 15


# -- the room, in its own process: JSON lines in (offers), JSON lines out (answers, events)


def canvas_size(size: str) -> tuple[int, int]:
    width, height = (int(v) for v in size.split("x"))
    return width, height


async def serve_room(config: McuConfig) -> None:
    """A room answering requests on stdin (connect, threads, stats) on stdout: the benchmarks' room process."""
    restrict_ice_hosts(["127.0.0.1"])

    def say(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    async with McuRoom(config) as room:
        say({"ready": True})
        while line := await asyncio.to_thread(sys.stdin.readline):
            request = json.loads(line)
            if request["op"] == "connect":
                reply: Any = await room.connect(request["id"], request["id"], request["sdp"])
            elif request["op"] == "threads":
                reply = {str(t.native_id): t.name for t in threading.enumerate()}
            else:
                reply = room.stats()
            say({"seq": request["seq"], "reply": reply})


class RoomProcess:
    """A benchmark's room in a process of its own: `script` run with `--room SIZE --mode MODE --pin CORES`."""

    def __init__(self, size: str, mode: str, pinned: str, script: str = __file__) -> None:
        self.args = [script, "--room", size, "--mode", mode, "--pin", pinned]
        self.proc: asyncio.subprocess.Process | None = None
        self.replies: dict[int, asyncio.Future[Any]] = {}
        self._seq = itertools.count()

    async def __aenter__(self) -> RoomProcess:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, *self.args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert self.proc.stdout is not None
        ready = json.loads(await asyncio.wait_for(self.proc.stdout.readline(), 60))
        assert ready == {"ready": True}, ready
        self._reader = asyncio.ensure_future(self._read())
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            message = json.loads(line)
            self.replies.pop(message["seq"]).set_result(message["reply"])

    async def request(self, **message: Any) -> Any:
        assert self.proc is not None and self.proc.stdin is not None
        seq = next(self._seq)
        self.replies[seq] = reply = asyncio.get_running_loop().create_future()
        self.proc.stdin.write((json.dumps({"seq": seq, **message}) + "\n").encode())
        await self.proc.stdin.drain()
        return await asyncio.wait_for(reply, 30)

    async def connect(self, participant_id: str, sdp: str) -> str:
        answer: str = await self.request(op="connect", id=participant_id, sdp=sdp)
        return answer

    async def composed(self) -> int:
        stats = await self.request(op="stats")
        return int(stats["frames_composed"])

    def cpu(self) -> float:
        assert self.proc is not None
        return process_cpu(self.proc.pid)[0]

    async def thread_cpu(self) -> Counter[str]:
        """CPU seconds so far by thread group: the event loop, the video thread, decoders, aiortc's encoders."""
        assert self.proc is not None
        names = await self.request(op="threads")
        out: Counter[str] = Counter()
        for tid, seconds in thread_times(self.proc.pid).items():
            out[GROUPS.get(names.get(tid, "").rstrip("_0123456789"), "other")] += seconds
        return out

    def rss_mb(self) -> float:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    async def __aexit__(self, *exc: object) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()


# -- synthetic participants


def thread_times(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of each thread of a process, by thread id, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended
            continue
        out[tid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def pattern(width: int = 320, height: int = 240, frames: int = 30) -> Frames:
    """A moving test pattern (bars sliding over a gradient, some noise) as yuv420p arrays, looped."""
    rng = np.random.default_rng(1)
    x = np.arange(width)[None, :]
    y = np.arange(height)[:, None]
    out = []
    for i in range(frames):
        rgb = np.empty((height, width, 3), dtype=np.uint8)
        rgb[..., 0] = (x * 255 // width + i * 8) % 256
        rgb[..., 1] = (y * 255 // height) % 256
        rgb[..., 2] = np.where(((x + i * 6) // 20) % 2 == 0, 200, 40)
        rgb = np.clip(rgb.astype(np.int16) + rng.integers(-12, 12, rgb.shape), 0, 255).astype(np.uint8)
        out.append(VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p").to_ndarray())
    return out


class PatternTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, frames: Frames) -> None:
        super().__init__()
        self.frames, self.sent, self.start = frames, 0, time.monotonic()

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await asyncio.sleep(max(0.0, self.start + self.sent / FPS - time.monotonic()))
        frame = VideoFrame.from_ndarray(self.frames[self.sent % len(self.frames)], format="yuv420p")
        frame.pts, frame.time_base = self.sent * 90000 // FPS, fractions.Fraction(1, 90000)
        self.sent += 1
        return frame


class ToneTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, hz: float) -> None:
        super().__init__()
        self.hz, self.sent, self.start = hz, 0, time.monotonic()

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await asyncio.sleep(max(0.0, self.start + self.sent / 48000 - time.monotonic()))
        t = (self.sent + np.arange(960)) / 48000
        mono = (np.sin(2 * np.pi * self.hz * t) * 6000).astype(np.int16)
        frame = AudioFrame.from_ndarray(np.repeat(mono, 2).reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = 48000, self.sent, fractions.Fraction(1, 48000)
        self.sent += 960
        return frame


@dataclass
class Participant:
    pc: RTCPeerConnection
    frames: int = 0

    async def video_packets(self) -> int:
        """RTP packets of video received so far (aiortc's inbound stats have no byte count)."""
        stats = (await self.pc.getStats()).values()
        return sum(s.packetsReceived for s in stats if s.type == "inbound-rtp" and s.kind == "video")

    first_frame: asyncio.Event = field(default_factory=asyncio.Event)
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def read(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            if track.kind == "video":
                self.frames += 1
                self.first_frame.set()


async def join(room: RoomProcess, participant_id: str, frames: Frames, hz: float) -> tuple[Participant, float]:
    """A new participant in the room, and its join time (connect request → first composite frame decoded)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    participant = Participant(pc)
    pc.on("track", lambda track: participant.readers.append(asyncio.ensure_future(participant.read(track))))
    pc.addTrack(PatternTrack(frames))
    pc.addTrack(ToneTrack(hz))
    await pc.setLocalDescription(await pc.createOffer())
    started = time.monotonic()
    answer = await room.connect(participant_id, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    await asyncio.wait_for(participant.first_frame.wait(), 30)
    return participant, time.monotonic() - started


# -- the run


@dataclass
class Row:
    size: str
    mode: str
    n: int
    cpu: float  # cores (CPU seconds per wall second) of the room process
    rss: float  # MB
    empty_rss: float  # MB, the room's process before anyone joined
    composed: float  # composite frames per second the room made
    fps: float  # composite frames decoded per participant per second
    packets: float  # RTP video packets received per participant per second
    joins: list[float]
    split: dict[str, float]  # cores by thread group


async def measure(size: str, mode: str, counts: list[int], warm: float, window: float, pinned: str) -> list[Row]:
    frames = pattern()
    rows: list[Row] = []
    participants: list[Participant] = []
    joins: list[float] = []
    async with RoomProcess(size, mode, pinned) as room:
        empty_rss = room.rss_mb()
        try:
            for n in counts:
                while len(participants) < n:
                    participant, joined = await join(room, f"p{len(participants)}", frames, 400 + 150 * n)
                    participants.append(participant)
                    joins.append(joined)
                await asyncio.sleep(warm)
                composed0, got0 = await room.composed(), [p.frames for p in participants]
                packets0 = [await p.video_packets() for p in participants]
                cpu0, wall0, split0 = room.cpu(), time.monotonic(), await room.thread_cpu()
                await asyncio.sleep(window)
                cpu, wall = room.cpu() - cpu0, time.monotonic() - wall0
                split = {k: (v - split0.get(k, 0)) / wall for k, v in (await room.thread_cpu()).items()}
                composed = (await room.composed() - composed0) / wall
                fps = statistics.mean((p.frames - g) / wall for p, g in zip(participants, got0, strict=True))
                got = [await p.video_packets() - count for p, count in zip(participants, packets0, strict=True)]
                packets = statistics.mean(got) / wall
                rss = room.rss_mb()
                rows.append(Row(size, mode, n, cpu / wall, rss, empty_rss, composed, fps, packets, list(joins), split))
                print(f"  {size} {mode:>12} N={n}: {cpu / wall:.2f} cores, {rows[-1].rss:.0f} MB", flush=True)
        finally:
            for participant in participants:
                await participant.pc.close()
                for task in participant.readers:
                    task.cancel()
    return rows


def report(rows: list[Row], window: float, pinned: str) -> None:
    print(f"\n## eyeson room MCU: shared encoder vs per-receiver encoding ({machine()})\n")
    where = f"room on cores {pinned}, participants on the others" if pinned else "room and participants share cores"
    print(f"Room process only ({where}); {FPS} fps; participants send 320x240 at {FPS} fps + Opus.")
    print(f"CPU over {window:g} s per row.\n")
    print("| canvas | N | mode | room CPU (cores) | per participant | loop / video / decode / encode "
          "| RSS (MB) | added per participant | fps made / received | video packets/s received | join p50 / max (s) "
          "| per-receiver / shared CPU |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    by = {(r.size, r.mode, r.n): r for r in rows}
    for r in rows:
        other = by.get((r.size, "shared", r.n))
        ratio = f"{r.cpu / other.cpu:.2f}x" if r.mode == "per-receiver" and other and other.cpu else ""
        joins = f"{statistics.median(r.joins):.2f} / {max(r.joins):.2f}"
        added = (r.rss - r.empty_rss) / r.n
        split = " / ".join(f"{r.split.get(group, 0):.2f}" for group in ("loop", "video", "decode", "encode"))
        print(
            f"| {r.size} | {r.n} | {r.mode} | {r.cpu:.2f} | {r.cpu / r.n:.3f} | {split} | {r.rss:.0f} | {added:.0f} "
            f"| {r.composed:.1f} / {r.fps:.1f} | {r.packets:.0f} | {joins} | {ratio} |"
        )
    sys.stdout.flush()


def pin(cores: int | None) -> str:
    """With `--room-cores N` on a bigger machine: the room gets cores 0..N-1, the participants the others."""
    total = os.cpu_count() or 1
    if cores is None or cores >= total:
        return ""
    os.sched_setaffinity(0, set(range(cores, total)))
    return ",".join(str(c) for c in range(cores))


async def run(args: argparse.Namespace) -> None:
    restrict_ice_hosts(["127.0.0.1"])
    pinned = pin(args.room_cores)
    rows: list[Row] = []
    for size in args.sizes:
        for mode in MODES:
            rows += await measure(size, mode, args.counts, args.warm, args.window, pinned)
    report(rows, args.window, pinned)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["1280x960", "640x480"], help="canvas sizes")
    parser.add_argument("--counts", nargs="+", type=int, default=[2, 3, 4], help="participants, ascending")
    parser.add_argument("--window", type=float, default=5.0, help="seconds of CPU measured per row")
    parser.add_argument("--warm", type=float, default=2.0, help="seconds after the last join before measuring")
    parser.add_argument("--quick", action="store_true", help="640x480, N = 2, short windows")
    parser.add_argument("--room-cores", type=int, help="pin the room to this many cores, participants elsewhere")
    parser.add_argument("--room", help=argparse.SUPPRESS)  # run a room (the subprocess side)
    parser.add_argument("--mode", choices=list(MODES), default="shared", help=argparse.SUPPRESS)
    parser.add_argument("--pin", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.room:
        if args.pin:
            os.sched_setaffinity(0, {int(c) for c in args.pin.split(",")})
        width, height = canvas_size(args.room)
        asyncio.run(serve_room(McuConfig(width=width, height=height, fps=FPS, shared_encoder=MODES[args.mode])))
        return
    if args.quick:
        args.sizes, args.counts, args.window, args.warm = ["640x480"], [2], 2.0, 1.0
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
