"""eyeson under load (issue 7): a room of 4 at 1280x960, alone and with a recording and an RTMP broadcast running.

The server is the real app in a process of its own (this script with `--serve`: what `mediaplane serve` runs,
plus one read-only route with the rooms' composer counters); its CPU and memory are read from /proc for its
whole process tree. The participants are aiortc peers in this process on 127.0.0.1: each joins through the API
(`POST /rooms`, `POST /rooms/:access_key/webrtc`), sends a moving test pattern and a tone, and decodes the room's
picture. The broadcast goes to an RTMP server in this process (kit/rtmp's PublishServer, as the tests use),
which keeps every message with its arrival time; the recording is downloaded and counted when it is ready.

Measured in turns on the same room, "room" (nobody records or broadcasts) and "+ rec + rtmp":
- CPU (cores) and RSS of the server's process tree; the benchmark's own CPU (the participants) beside it;
- frames dropped: composer ticks missed (frames composed vs the room's fps), frames each WebRTC receiver
  lost (gaps in the composite's timestamps), frames the RTMP receiver lost (gaps in the FLV timestamps), and
  the recording's frames against its duration;
- end-to-end delay: the first participant's camera flashes magenta; the time from that camera frame to the
  first composite showing it in that participant's tile, at every WebRTC receiver and at the RTMP receiver.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame
from eyeson_room import ToneTrack, pattern
from harness import EXPORTED_TOKEN, LISTENING, Server, free_port, machine, process_cpu, scratch
from live import tree_cpu

from mediaplane.kit.mcu import restrict_ice_hosts, tile_rects
from mediaplane.kit.rtmp import Message
from mediaplane.kit.rtmp.server import PublishedStream, PublishRequest, PublishServer

API_KEY = "YmVuY2gtZXllc29uLWxvYWQta2V5LTAxMjM0NTY3ODk"
VIDEO_MESSAGE = 9
FLASH_SECONDS = 0.6
MAGENTA = (255, 0, 255)


# -- the server side: the real app, plus the rooms' composer counters


def serve(data: str) -> None:
    """`mediaplane serve` as the CLI runs it (one job worker), with `GET /_bench/rooms` added."""
    import uvicorn

    from mediaplane.app import create_app
    from mediaplane.cli.server import bind_socket, bootstrap_admin
    from mediaplane.cli.state import load_settings, prepare
    from mediaplane.logs import configure_logging
    from mediaplane.services.eyeson.media import media_rooms

    settings = load_settings(host="127.0.0.1", port=0, data_dir=Path(data), workers=1)
    sock = bind_socket(settings.host, 0)
    settings.port = sock.getsockname()[1]
    app = create_app(settings)

    async def rooms() -> dict[str, Any]:
        return {meeting: dict(room.stats()) for meeting, room in media_rooms(app.runtime).rooms.items()}

    app.platform.add_api_route("/_bench/rooms", rooms, methods=["GET"])
    configure_logging(settings)
    prepare(settings)
    admin = asyncio.run(bootstrap_admin(settings))
    print(f"export MEDIAPLANE_ACCESS_TOKEN={admin.token if admin else None}", flush=True)

    class Loud(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            print(f"mediaplane listening on http://127.0.0.1:{settings.port}", flush=True)

    config = uvicorn.Config(app, log_config=None, log_level="warning", lifespan="on")  # the socket is bound
    Loud(config).run(sockets=[sock])


class LoadServer(Server):
    """harness.Server, started as `eyeson_load.py --serve` (the app with its composer counters)."""

    def start(self, timeout: float = 60) -> LoadServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIAPLANE_", "OSC_"))}
        env.update({"MEDIAPLANE_SECRET_KEY": "bench-" + os.urandom(24).hex(), **self.env})
        self._log = self.log_path.open("w")
        argv = [sys.executable, __file__, "--serve", str(self.data_dir)]
        self.proc = subprocess.Popen(
            argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = self.log_path.read_text()
            found, token = LISTENING.search(output), EXPORTED_TOKEN.search(output)
            if found and token:
                self.url, self.pat = found.group(1), token.group(1)
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{output}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not start in {timeout} s:\n{self.log_path.read_text()}")

    def __enter__(self) -> LoadServer:
        return self.start()

    def tree(self) -> dict[int, float]:
        assert self.proc is not None
        return tree_cpu(self.proc.pid)

    def rss_mb(self) -> float:
        total = 0
        for pid in self.tree():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total / 1024


# -- participants: a camera that can flash, and what each receives


def magenta_at(frame: VideoFrame, fx: float, fy: float) -> bool:
    """Whether the picture is magenta around (fx, fy) (fractions of its size): both chroma planes high."""
    x, y = int(frame.width * fx) // 2, int(frame.height * fy) // 2
    means = []
    for index in (1, 2):
        plane = frame.planes[index]
        chroma = np.frombuffer(memoryview(plane), np.uint8)[: plane.line_size * (frame.height // 2)]
        means.append(float(chroma.reshape(-1, plane.line_size)[y - 2 : y + 2, x - 2 : x + 2].mean()))
    return means[0] > 185 and means[1] > 200  # magenta: U about 212, V about 235


class Camera(MediaStreamTrack):
    """A moving test pattern; `flash()` shows magenta for a moment and notes when its first frame went out."""

    kind = "video"

    def __init__(self, frames: list[np.ndarray], fps: int) -> None:
        super().__init__()
        height, width = frames[0].shape[0] * 2 // 3, frames[0].shape[1]
        solid = np.empty((height, width, 3), dtype=np.uint8)
        solid[:] = MAGENTA
        self.magenta = VideoFrame.from_ndarray(solid, format="rgb24").reformat(format="yuv420p").to_ndarray()
        self.frames, self.fps, self.sent, self.start = frames, fps, 0, time.monotonic()
        self.flash_until = 0.0
        self.flashed_at: float | None = None

    def flash(self) -> None:
        self.flash_until, self.flashed_at = time.monotonic() + FLASH_SECONDS, None

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await asyncio.sleep(max(0.0, self.start + self.sent / self.fps - time.monotonic()))
        now = time.monotonic()
        data = self.frames[self.sent % len(self.frames)]
        if now < self.flash_until:
            data = self.magenta
            if self.flashed_at is None:
                self.flashed_at = now
        frame = VideoFrame.from_ndarray(data, format="yuv420p")
        frame.pts, frame.time_base = self.sent * 90000 // self.fps, fractions.Fraction(1, 90000)
        self.sent += 1
        return frame


@dataclass
class Member:
    """A participant: its connection, and what it received of the room's picture."""

    pc: RTCPeerConnection
    spot: tuple[float, float]  # the flashing participant's tile centre, as fractions of the picture
    frames: int = 0
    pts: list[int] = field(default_factory=list)
    flash: int = -1  # the flash being looked for
    seen: dict[int, float] = field(default_factory=dict)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    keep: bool = False

    async def read(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, VideoFrame):
                continue
            self.frames += 1
            if self.keep and frame.pts is not None:
                self.pts.append(frame.pts)
            if self.flash >= 0 and self.flash not in self.seen and magenta_at(frame, *self.spot):
                self.seen[self.flash] = time.monotonic()


# -- the RTMP receiver: every message with its arrival time


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.sessions: list[list[tuple[float, Message]]] = []
        self.server: PublishServer | None = None

    @property
    def url(self) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live/bench-key"

    async def start(self) -> None:
        self.server = await PublishServer.start("127.0.0.1", self.port, admit=self._admit, on_stream=self._take)

    async def _admit(self, request: PublishRequest) -> str | None:
        return None

    async def _take(self, stream: PublishedStream) -> None:
        messages: list[tuple[float, Message]] = []
        self.sessions.append(messages)
        while (message := await stream.read()) is not None:
            messages.append((time.monotonic(), message))

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


def rtmp_pictures(messages: list[tuple[float, Message]]) -> list[tuple[float, int, VideoFrame]]:
    """The broadcast's pictures: (arrival, FLV timestamp in ms, decoded picture), in order."""
    codec = av.CodecContext.create("h264", "r")
    out = []
    for arrived, message in messages:
        payload = message.payload
        if message.type_id != VIDEO_MESSAGE or len(payload) < 6 or payload[0] & 0x0F != 7:
            continue
        if payload[1] == 0:  # the AVC sequence header: the decoder's extradata
            codec.extradata = payload[5:]
            continue
        for picture in codec.decode(av.Packet(payload[5:])):
            out.append((arrived, message.timestamp, picture))
    return out


# -- one benchmark run


def lost(stamps: list[int], period: float) -> int:
    """Frames missing from a series of timestamps (a gap of k periods is k - 1 missing)."""
    return sum(max(0, round((b - a) / period) - 1) for a, b in itertools.pairwise(stamps))


@dataclass
class Window:
    label: str
    seconds: float
    cpu: float  # cores, the server's process tree
    rss: float  # MB
    own_cpu: float  # cores, this process (the participants)
    composed: float  # frames composed per second
    received: float  # frames per second, mean over the WebRTC receivers
    receiver_lost: float  # share of the composite's frames the WebRTC receivers lost (mean)
    webrtc_delays: list[float]
    span: dict[str, Any] = field(default_factory=dict)  # when it ran, when the camera flashed
    rtmp: dict[str, Any] | None = None
    recording: dict[str, Any] | None = None


class Room:
    """The benchmark's room on the server: its members, the flashing camera, the API calls."""

    def __init__(self, server: LoadServer, args: argparse.Namespace) -> None:
        self.server, self.args = server, args
        self.http = httpx.AsyncClient(timeout=60)
        self.base = ""
        self.keys: list[str] = []
        self.members: list[Member] = []
        self.camera: Camera | None = None
        self.meeting_id = ""

    async def open(self) -> None:
        client, path = self.server.instance("eyeson", "load", apiKey=API_KEY)
        client.close()
        self.base = f"{self.server.url}{path}/"
        width, height = (int(v) for v in self.args.canvas.split("x"))
        first = tile_rects(self.args.participants, width, height)[0]
        spot = ((first.left + first.width / 2) / width, (first.top + first.height / 2) / height)
        frames = pattern(*(int(v) for v in self.args.send.split("x")))
        for i in range(self.args.participants):
            fields = {"id": "load", "user[name]": f"P{i}", "user[id]": f"p{i}", "options[sfu_mode]": "disabled"}
            room = await self.call("POST", "rooms", 201, data=fields, key=True)
            self.keys.append(room["access_key"])
            camera = Camera(frames, self.args.fps)
            self.camera = self.camera or camera
            await self.join(room["access_key"], camera, 400.0 + 150 * i, spot)
        rooms = (await self.http.get(f"{self.server.url}/_bench/rooms")).json()
        (self.meeting_id,) = rooms

    async def join(self, access_key: str, camera: Camera, hz: float, spot: tuple[float, float]) -> None:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        member = Member(pc, spot)
        pc.on("track", lambda track: member.readers.append(asyncio.ensure_future(member.read(track))))
        pc.addTrack(camera)
        pc.addTrack(ToneTrack(hz))
        await pc.setLocalDescription(await pc.createOffer())
        offer = {"type": "offer", "sdp": pc.localDescription.sdp}
        answer = await self.call("POST", f"rooms/{access_key}/webrtc", 201, json=offer)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        self.members.append(member)
        deadline = time.monotonic() + 30
        while member.frames == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("a participant received no picture in 30 s")
            await asyncio.sleep(0.05)

    async def call(self, method: str, path: str, status: int = 200, *, key: bool = False, **kwargs: Any) -> Any:
        headers = {"Authorization": API_KEY} if key else {}
        r = await self.http.request(method, f"{self.base}{path}", headers=headers, **kwargs)
        if r.status_code != status:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
        return r.json() if r.content else None

    async def composed(self) -> int:
        rooms = (await self.http.get(f"{self.server.url}/_bench/rooms")).json()
        return int(rooms[self.meeting_id]["frames_composed"])

    async def measure(self, label: str, seconds: float, flashes: int) -> Window:
        fps = self.args.fps
        for member in self.members:
            member.pts, member.keep, member.seen, member.flash = [], True, {}, -1
        got0 = [m.frames for m in self.members]
        composed0, tree0, own0, wall0 = (
            await self.composed(),
            self.server.tree(),
            process_cpu(os.getpid())[0],
            time.monotonic(),
        )
        flashed: list[float] = []
        assert self.camera is not None
        for k in range(flashes):
            for member in self.members:
                member.flash = k
            self.camera.flash()
            await asyncio.sleep(seconds / flashes)
            if self.camera.flashed_at is not None:
                flashed.append(self.camera.flashed_at)
        wall = time.monotonic() - wall0
        tree1, own1, composed1 = self.server.tree(), process_cpu(os.getpid())[0], await self.composed()
        for member in self.members:
            member.keep, member.flash = False, -1
        cpu = sum(tree1[p] - tree0[p] for p in tree1 if p in tree0) / wall
        delays = [m.seen[k] - at for m in self.members for k, at in enumerate(flashed) if k in m.seen]
        received = statistics.mean((m.frames - g) / wall for m, g in zip(self.members, got0, strict=True))
        shares = [lost(m.pts, 90000 / fps) / max(1, len(m.pts) + lost(m.pts, 90000 / fps)) for m in self.members]
        window = Window(
            label, wall, cpu, self.server.rss_mb(), (own1 - own0) / wall, (composed1 - composed0) / wall,
            received, statistics.mean(shares), delays,
        )  # fmt: skip
        window.span = {"flashed": flashed, "from": wall0, "to": wall0 + wall}
        return window

    async def close(self) -> None:
        for member in self.members:
            await member.pc.close()
            for task in member.readers:
                task.cancel()
        await self.http.aclose()


async def loaded(room: Room, receiver: Receiver, args: argparse.Namespace) -> Window:
    """A window with a recording and a broadcast running; their frames and delay counted afterwards."""
    key = room.keys[0]
    recording = await room.call("POST", f"rooms/{key}/recording", 201)
    await room.call("POST", f"rooms/{key}/broadcasts", 201, data={"stream_url": receiver.url})
    deadline = time.monotonic() + 30
    while [b["status"] for b in (await room.call("GET", f"rooms/{key}"))["broadcasts"]] != ["live"]:
        if time.monotonic() > deadline:
            raise RuntimeError("the broadcast did not go live in 30 s")
        await asyncio.sleep(0.2)
    await asyncio.sleep(args.warm)
    session = receiver.sessions[-1]
    window = await room.measure("+ rec + rtmp", args.window, args.flashes)
    await room.call("DELETE", f"rooms/{key}/broadcasts")
    await room.call("DELETE", f"rooms/{key}/recording")
    window.rtmp = rtmp_figures(session, window.span, room.members[0].spot, args.fps)
    window.recording = await recording_figures(room, recording["id"], args.fps)
    await asyncio.sleep(args.warm)  # the encoders wind down before the next window
    return window


def rtmp_figures(session: list[tuple[float, Message]], span: dict[str, Any], spot: Any, fps: int) -> dict[str, Any]:
    pictures = [p for p in rtmp_pictures(session) if span["from"] <= p[0] <= span["to"]]
    stamps = [stamp for _, stamp, _ in pictures]
    delays = []
    for at in span["flashed"]:
        seen = next((arrived for arrived, _, picture in pictures if arrived >= at and magenta_at(picture, *spot)), None)
        if seen is not None:
            delays.append(seen - at)
    missing = lost(stamps, 1000 / fps)
    wall = span["to"] - span["from"]
    return {"fps": len(pictures) / wall, "lost": missing / max(1, len(pictures) + missing), "delays": delays}


async def recording_figures(room: Room, recording_id: str, fps: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while (found := await room.call("GET", f"recordings/{recording_id}", key=True))["status"] != "ready":
        if found["status"] == "failed" or time.monotonic() > deadline:
            raise RuntimeError(f"the recording is {found['status']}")
        await asyncio.sleep(0.5)
    data = (await room.http.get(found["links"]["download"])).content
    with tempfile.NamedTemporaryFile(suffix=".webm") as file:
        file.write(data)
        file.flush()
        with av.open(file.name) as container:
            stream = container.streams.video[0]
            base = stream.time_base or fractions.Fraction(1, 1000)
            stamps = [int(p.pts * base * 1000) for p in container.demux(stream) if p.size and p.pts is not None]
    seconds = (stamps[-1] - stamps[0]) / 1000 + 1 / fps if stamps else 0.0
    missing = lost(stamps, 1000 / fps)
    return {"seconds": seconds, "frames": len(stamps), "lost": missing / max(1, len(stamps) + missing)}


# -- the report


def ms(values: list[float]) -> str:
    if not values:
        return "none seen"
    return f"{statistics.median(values) * 1000:.0f} / {max(values) * 1000:.0f}"


def row(name: str, a: str, b: str, ratio: float | None = None) -> None:
    print(f"| {name} | {a} | {b} | {'' if ratio is None else f'{ratio:.2f}x'} |")


def report(args: argparse.Namespace, windows: list[Window]) -> None:
    plain = [w for w in windows if w.recording is None]
    busy = [w for w in windows if w.recording is not None]

    def mean(group: list[Window], attr: str) -> float:
        return statistics.mean(getattr(w, attr) for w in group)

    print(f"\n## eyeson room under load ({machine()})\n")
    print(
        f"{args.participants} aiortc participants sending {args.send} at {args.fps} fps and a tone; canvas "
        f"{args.canvas} at {args.fps} fps; {len(plain)} window(s) of {args.window:g} s each side, alternating; "
        f"{args.flashes} flashes a window. Server = its whole process tree.\n"
    )
    print("| | room | + recording + RTMP broadcast | ratio |")
    print("|---|---|---|---|")
    for name, attr, fmt in (
        ("server CPU (cores)", "cpu", "{:.2f}"),
        ("server RSS (MB)", "rss", "{:.0f}"),
        ("participants' CPU, this process (cores)", "own_cpu", "{:.2f}"),
        ("composer frames/s", "composed", "{:.1f}"),
        ("frames/s each WebRTC receiver decoded", "received", "{:.1f}"),
    ):
        a, b = mean(plain, attr), mean(busy, attr)
        row(name, fmt.format(a), fmt.format(b), b / a if a else None)
    missed = [statistics.mean(max(0.0, args.fps - w.composed) / args.fps for w in group) for group in (plain, busy)]
    row("composer ticks missed", f"{missed[0]:.1%}", f"{missed[1]:.1%}")
    row(
        "composite frames a WebRTC receiver lost",
        f"{mean(plain, 'receiver_lost'):.1%}",
        f"{mean(busy, 'receiver_lost'):.1%}",
    )
    delays = [[d for w in group for d in w.webrtc_delays] for group in (plain, busy)]
    ratio = statistics.median(delays[1]) / statistics.median(delays[0]) if all(delays) else None
    row("delay camera → WebRTC receivers, p50 / max (ms)", ms(delays[0]), ms(delays[1]), ratio)
    rtmp = [w.rtmp for w in busy if w.rtmp]
    got = f"{statistics.mean(r['fps'] for r in rtmp):.1f}, {statistics.mean(r['lost'] for r in rtmp):.1%}"
    row("RTMP receiver: frames/s, lost", "—", got)
    row("delay camera → RTMP receiver, p50 / max (ms)", "—", ms([d for r in rtmp for d in r["delays"]]))
    turns = " · ".join(", ".join(f"{d * 1000:.0f}" for d in r["delays"]) or "none seen" for r in rtmp)
    row("… each flash in turn (ms)", "—", turns)
    recs = "; ".join(f"{r['seconds']:.1f} s, {r['frames']}, {r['lost']:.1%}" for w in busy if (r := w.recording))
    row("recording: seconds, frames, lost", "—", recs)
    sys.stdout.flush()


async def run(args: argparse.Namespace, root: Path) -> None:
    restrict_ice_hosts(["127.0.0.1"])
    width, height = args.canvas.split("x")
    env = {
        "MEDIAPLANE_EYESON_WIDTH": width,
        "MEDIAPLANE_EYESON_HEIGHT": height,
        "MEDIAPLANE_EYESON_FPS": str(args.fps),
        "MEDIAPLANE_EYESON_ICE_HOST": "127.0.0.1",
        "MEDIAPLANE_LOG_LEVEL": "WARNING",
    }
    receiver = Receiver()
    await receiver.start()
    windows: list[Window] = []
    try:
        with LoadServer(root / "serve", env=env) as server:
            room = Room(server, args)
            try:
                await room.open()
                print(f"  {args.participants} participants in the room", flush=True)
                for turn in range(args.runs):
                    await asyncio.sleep(args.warm)
                    plain = await room.measure("room", args.window, args.flashes)
                    windows.append(plain)
                    print(f"  run {turn + 1} room: {plain.cpu:.2f} cores", flush=True)
                    busy = await loaded(room, receiver, args)
                    windows.append(busy)
                    print(f"  run {turn + 1} + rec + rtmp: {busy.cpu:.2f} cores", flush=True)
            finally:
                await room.close()
    finally:
        await receiver.close()
    report(args, windows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--canvas", default="1280x960", help="the room's picture")
    parser.add_argument("--fps", type=int, default=15, help="the room's (and the cameras') frame rate")
    parser.add_argument("--participants", type=int, default=4, help="aiortc participants")
    parser.add_argument("--send", default="320x240", help="what each camera sends")
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured per window")
    parser.add_argument("--warm", type=float, default=3.0, help="seconds before each window")
    parser.add_argument("--flashes", type=int, default=6, help="flashes per window (the delay's samples)")
    parser.add_argument("--runs", type=int, default=2, help="windows of each side, alternating")
    parser.add_argument("--quick", action="store_true", help="640x480, 2 participants, one short window each")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # run the server (the subprocess side)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if args.quick:
        args.canvas, args.participants, args.window, args.warm, args.flashes, args.runs = "640x480", 2, 4.0, 1.5, 2, 1
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    with scratch("eyeson-load") as folder:
        asyncio.run(run(args, Path(folder)))


if __name__ == "__main__":
    main()
