"""The SFU shortcut of eyeson rooms (kit/mcu forwarding): CPU and memory of a room of two, forwarding vs composing.

A room runs in a subprocess of its own (this script with `--room`), so its CPU and RSS are read from /proc without
the participants' share. Two participants are aiortc peers in this process on 127.0.0.1: each sends a moving test
pattern at the input size and 15 fps and a tone, and decodes what it receives. For each input size the same room
runs twice, side by side in one run: `forwarding` (McuConfig forwarding "pairs", eyeson's sfu_mode ptp: each gets
the other's VP8 frames as they came; nothing is decoded, composed or encoded in the room) and `composer` (forwarding
"off", sfu_mode disabled: both decoded, the 1280x960 canvas composed and encoded once). The room's CPU is split by
thread as in eyeson_room.py: the event loop (RTP, SRTP, mixing, forwarding), the video thread (compose, encode),
aiortc's decoders and the loop's executor (Opus encodes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from eyeson_room import (
    Frames,
    Participant,
    PatternTrack,
    RoomProcess,
    ToneTrack,
    canvas_size,
    pattern,
    pin,
    serve_room,
)
from harness import machine

from mediaplane.kit.mcu import Forwarding, McuConfig, restrict_ice_hosts

MODES: dict[str, Forwarding] = {"forwarding": "pairs", "composer": "off"}
FPS = 15


# -- the room, in its own process: JSON lines in (offers), JSON lines out (answers)


async def join(room: RoomProcess, participant_id: str, frames: Frames, hz: float) -> Participant:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    participant = Participant(pc)
    pc.on("track", lambda track: participant.readers.append(asyncio.ensure_future(participant.read(track))))
    pc.addTrack(PatternTrack(frames))
    pc.addTrack(ToneTrack(hz))
    await pc.setLocalDescription(await pc.createOffer())
    answer = await room.request(op="connect", id=participant_id, sdp=pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    await asyncio.wait_for(participant.first_frame.wait(), 30)
    return participant


# -- the run


@dataclass
class Row:
    size: str
    mode: str
    cpu: float  # cores (CPU seconds per wall second) of the room process
    rss: float  # MB
    split: dict[str, float]  # cores by thread group
    composed: float  # frames composed per second
    encoded: float  # frames encoded per second by the shared encoder
    forwarded: float  # frames forwarded per second (both receivers)
    fps: float  # frames decoded per participant per second
    packets: float  # RTP video packets received per participant per second


async def measure(size: str, mode: str, canvas: str, warm: float, window: float, pinned: str) -> Row:
    width, height = (int(v) for v in size.split("x"))
    frames = pattern(width, height)
    participants: list[Participant] = []
    async with RoomProcess(canvas, mode, pinned, script=__file__) as room:
        try:
            for i, hz in enumerate((440.0, 660.0)):
                participants.append(await join(room, f"p{i}", frames, hz))
            await asyncio.sleep(warm)
            stats0, got0 = await room.request(op="stats"), [p.frames for p in participants]
            packets0 = [await p.video_packets() for p in participants]
            cpu0, wall0, split0 = room.cpu(), time.monotonic(), await room.thread_cpu()
            await asyncio.sleep(window)
            cpu, wall = room.cpu() - cpu0, time.monotonic() - wall0
            split = {k: (v - split0.get(k, 0)) / wall for k, v in (await room.thread_cpu()).items()}
            stats = await room.request(op="stats")
            fps = statistics.mean((p.frames - g) / wall for p, g in zip(participants, got0, strict=True))
            got = [await p.video_packets() - n for p, n in zip(participants, packets0, strict=True)]
            rate = {k: (stats[k] - stats0[k]) / wall for k in ("frames_composed", "frames_encoded", "frames_forwarded")}
            row = Row(
                size,
                mode,
                cpu / wall,
                room.rss_mb(),
                split,
                rate["frames_composed"],
                rate["frames_encoded"],
                rate["frames_forwarded"],
                fps,
                statistics.mean(got) / wall,
            )
            print(f"  {size} {mode:>10}: {row.cpu:.2f} cores, {row.rss:.0f} MB, forwarding={stats['forwarding']}")
            return row
        finally:
            for participant in participants:
                await participant.pc.close()
                for task in participant.readers:
                    task.cancel()


def report(rows: list[Row], canvas: str, window: float, pinned: str) -> None:
    print(f"\n## eyeson SFU shortcut: forwarding vs the composer, a room of two ({machine()})\n")
    where = f"room on cores {pinned}, participants on the others" if pinned else "room and participants share cores"
    print(f"Room process only ({where}); canvas {canvas} at {FPS} fps; each participant sends the input size at")
    print(f"{FPS} fps + Opus and decodes what it gets. CPU over {window:g} s per row.\n")
    print(
        "| input | mode | room CPU (cores) | loop / video / decode / encode | RSS (MB) | composed / encoded / "
        "forwarded per s | fps received | video packets/s received | forwarding / composer CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    by = {(r.size, r.mode): r for r in rows}
    for r in rows:
        other = by.get((r.size, "composer"))
        ratio = f"{r.cpu / other.cpu:.2f}x" if r.mode == "forwarding" and other and other.cpu else ""
        split = " / ".join(f"{r.split.get(group, 0):.2f}" for group in ("loop", "video", "decode", "encode"))
        made = f"{r.composed:.1f} / {r.encoded:.1f} / {r.forwarded:.1f}"
        print(
            f"| {r.size} | {r.mode} | {r.cpu:.2f} | {split} | {r.rss:.0f} | {made} | {r.fps:.1f} | {r.packets:.0f} "
            f"| {ratio} |"
        )
    sys.stdout.flush()


async def run(args: argparse.Namespace) -> None:
    restrict_ice_hosts(["127.0.0.1"])
    pinned = pin(args.room_cores)
    rows: list[Row] = []
    for size in args.sizes:
        for _ in range(args.runs):
            for mode in MODES:
                rows.append(await measure(size, mode, args.canvas, args.warm, args.window, pinned))
    report(merge(rows), args.canvas, args.window, pinned)


def merge(rows: list[Row]) -> list[Row]:
    """Medians over the runs of each (input, mode)."""
    out = []
    for key in dict.fromkeys((r.size, r.mode) for r in rows):
        same = [r for r in rows if (r.size, r.mode) == key]
        groups = {g for r in same for g in r.split}
        out.append(
            Row(
                key[0],
                key[1],
                statistics.median(r.cpu for r in same),
                statistics.median(r.rss for r in same),
                {g: statistics.median(r.split.get(g, 0) for r in same) for g in groups},
                statistics.median(r.composed for r in same),
                statistics.median(r.encoded for r in same),
                statistics.median(r.forwarded for r in same),
                statistics.median(r.fps for r in same),
                statistics.median(r.packets for r in same),
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["640x480", "1280x960"], help="participants' input sizes")
    parser.add_argument("--canvas", default="1280x960", help="the composer's canvas (eyeson's default)")
    parser.add_argument("--runs", type=int, default=2, help="runs of each mode per size (medians), alternating")
    parser.add_argument("--window", type=float, default=8.0, help="seconds of CPU measured per row")
    parser.add_argument("--warm", type=float, default=3.0, help="seconds after the joins before measuring")
    parser.add_argument("--quick", action="store_true", help="640x480 input and canvas, one run, short windows")
    parser.add_argument("--room-cores", type=int, help="pin the room to this many cores, participants elsewhere")
    parser.add_argument("--room", help=argparse.SUPPRESS)  # run a room (the subprocess side): its canvas
    parser.add_argument("--mode", choices=list(MODES), default="forwarding", help=argparse.SUPPRESS)
    parser.add_argument("--pin", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.room:
        if args.pin:
            os.sched_setaffinity(0, {int(c) for c in args.pin.split(",")})
        width, height = canvas_size(args.room)
        asyncio.run(serve_room(McuConfig(width=width, height=height, fps=FPS, forwarding=MODES[args.mode])))
        return
    if args.quick:
        args.sizes, args.canvas, args.runs, args.window, args.warm = ["640x480"], "640x480", 1, 2.0, 2.0
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
