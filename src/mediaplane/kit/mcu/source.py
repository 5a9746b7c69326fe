"""Media files played into a room (playbacks): each is decoded by PyAV in a thread of its own at real-time pace;
its latest picture shows in a tile as a participant's does, and its audio, when wanted, joins everyone's mix.

The file is opened before the playback counts as started, so a URL that does not open is an error for the caller
(:class:`McuSourceError`); it is opened again for every further play of a loop. Only the protocols and demuxers
named are used (FFmpeg's whitelists): a hosted file cannot make FFmpeg read local files or other protocols."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TypedDict

import av
from av import AudioFrame, VideoFrame
from av.container import InputContainer
from av.stream import Stream

from mediaplane.kit.mcu.audio import AudioInput, Samples
from mediaplane.kit.mcu.errors import McuSourceError

__all__ = [
    "DEFAULT_PROTOCOLS",
    "PLAYBACK_VOICE",
    "Playback",
    "PlaybackInfo",
    "PlaybackSpec",
    "own_spots",
    "replacing",
    "spot_playback",
]

logger = logging.getLogger(__name__)

DEFAULT_PROTOCOLS = "http,https,tcp,tls"
PLAYBACK_VOICE = "\0play:"
"""Prefix of a playback's key among the mix's voices (and the compositor's tiles): never a participant id."""
OPEN_TIMEOUT = 10.0
READ_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class PlaybackSpec:
    """What to play. `replaces`: the participant whose picture it shows instead (None: a spot of its own).
    `loops`: plays after the first (-1 forever, 0 once, N → N+1 plays). `protocols` and `formats`: FFmpeg's
    comma-separated whitelists of protocols and demuxers (None: any demuxer)."""

    url: str
    name: str = ""
    replaces: str | None = None
    audio: bool = False
    loops: int = 0
    protocols: str = DEFAULT_PROTOCOLS
    formats: str | None = None


class PlaybackInfo(TypedDict):
    play_id: str
    url: str
    name: str
    replaces: str | None
    audio: bool
    loops: int
    playing_video: bool


class _SharedAudio(AudioInput):
    """The playback's decoded audio: filled by its thread, taken by the room's mixer on the event loop."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def push(self, frame: AudioFrame) -> None:
        with self._lock:
            super().push(frame)

    def take(self) -> Samples | None:
        with self._lock:
            return super().take()


class Playback:
    """One file playing: `open()` (blocking: in a worker thread) checks it opens, `start()` plays it in its own
    thread, `stop()` asks the thread to end. `on_end` is called on the event loop when the file ended by itself
    (or failed while playing), never after `stop()`."""

    def __init__(self, play_id: str, spec: PlaybackSpec, on_end: Callable[[Playback], None]) -> None:
        self.id, self.spec = play_id, spec
        self._on_end = on_end
        self.latest: VideoFrame | None = None
        self.last_video_at: float | None = None
        self.audio_in: _SharedAudio | None = None
        self.has_video = False
        self._container: InputContainer | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def info(self) -> PlaybackInfo:
        s = self.spec
        return PlaybackInfo(
            play_id=self.id,
            url=s.url,
            name=s.name,
            replaces=s.replaces,
            audio=s.audio,
            loops=s.loops,
            playing_video=self.latest is not None,
        )

    def live_frame(self, now: float, within: float) -> VideoFrame | None:
        if self.last_video_at is None or now - self.last_video_at > within:
            return None
        return self.latest

    # -- opening

    def _open(self) -> InputContainer:
        options = {"protocol_whitelist": self.spec.protocols}
        if self.spec.formats:
            options["format_whitelist"] = self.spec.formats
        try:
            container = av.open(self.spec.url, "r", options=options, timeout=(OPEN_TIMEOUT, READ_TIMEOUT))
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise McuSourceError(f"cannot open {self.spec.url}: {exc}") from exc
        assert isinstance(container, InputContainer)
        return container

    def open(self) -> None:
        """Opens the file and checks it has something to play (blocking)."""
        container = self._open()
        has_audio = bool(container.streams.audio) and self.spec.audio
        self.has_video = bool(container.streams.video)
        if not self.has_video and not has_audio:
            container.close()
            wanted = "video or audio" if self.spec.audio else "video (audio is not wanted)"
            raise McuSourceError(f"{self.spec.url} has no {wanted} to play")
        self.audio_in = _SharedAudio() if has_audio else None
        self._container = container

    # -- playing

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._thread = threading.Thread(target=self._run, args=(loop,), name=f"mcu-play-{self.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self) -> None:
        """Waits for the thread to end (blocking: call it in a worker thread)."""
        if self._thread is not None:
            self._thread.join()
        if self._container is not None:  # opened, never started
            self._container.close()
            self._container = None

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        plays = 0
        container, self._container = self._container, None
        try:
            while container is not None and not self._stop.is_set():
                try:
                    self._play_once(container)
                finally:
                    container.close()
                plays += 1
                if self._stop.is_set() or 0 <= self.spec.loops < plays:
                    break
                container = self._open()
        except Exception as exc:  # a broken file or connection ends the playback, as its end does
            logger.warning("playback %s of %s stopped: %s", self.id, self.spec.url, exc)
        if not self._stop.is_set():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for the news
                loop.call_soon_threadsafe(self._on_end, self)

    def _play_once(self, container: InputContainer) -> None:
        streams: list[Stream] = []
        if self.has_video and container.streams.video:
            streams.append(container.streams.video[0])
        if self.audio_in is not None and container.streams.audio:
            streams.append(container.streams.audio[0])
        started: float | None = None
        first = 0.0
        for packet in container.demux(*streams):
            for frame in packet.decode():
                if not isinstance(frame, VideoFrame | AudioFrame):
                    continue
                at = frame.time
                if at is not None:
                    if started is None:
                        started, first = time.monotonic(), at
                    wait = started + (at - first) - time.monotonic()
                    if wait > 0 and self._stop.wait(wait):
                        return
                if self._stop.is_set():
                    return
                if isinstance(frame, VideoFrame):
                    self.latest, self.last_video_at = frame, time.monotonic()
                elif isinstance(frame, AudioFrame) and self.audio_in is not None:
                    self.audio_in.push(frame)


# -- where playbacks show: in place of a participant, or in a spot of their own


def own_spots(members: Collection[str], playbacks: Mapping[str, Playback]) -> list[str]:
    """The playbacks with a spot of their own (no one here to replace), in start order: the auto layout places
    them after the participants."""
    return [
        pid
        for pid, p in playbacks.items()
        if p.has_video and (p.spec.replaces is None or p.spec.replaces not in members)
    ]


def replacing(playbacks: Mapping[str, Playback]) -> dict[str, Playback]:
    """The playbacks shown in place of someone, by the id they replace (the latest started wins)."""
    return {p.spec.replaces: p for p in playbacks.values() if p.spec.replaces is not None and p.has_video}


def spot_playback(
    spot_id: str, members: Collection[str], playbacks: Mapping[str, Playback], replaced: Mapping[str, Playback]
) -> Playback | None:
    """The playback a spot shows: one replacing the spot's participant, else a playback of that id."""
    if not spot_id:
        return None
    found = replaced.get(spot_id)
    if found is None and spot_id not in members:
        found = playbacks.get(spot_id)
        if found is not None and (not found.has_video or found.spec.replaces in members):
            found = None  # it shows in the replaced participant's spot
    return found
