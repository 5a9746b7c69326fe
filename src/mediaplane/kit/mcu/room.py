"""A room: participants in, one composite picture and a mix-minus of the audio out to each of them."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from av import Packet, VideoFrame
from PIL import Image

from mediaplane.kit.mcu.audio import FRAME_SAMPLES, SAMPLE_RATE, mix_minus
from mediaplane.kit.mcu.compositor import Compositor, Tile
from mediaplane.kit.mcu.config import McuConfig
from mediaplane.kit.mcu.encoder import KeyframeClock, VideoEncoder
from mediaplane.kit.mcu.errors import McuClosedError, McuConflictError, McuError, McuOfferError
from mediaplane.kit.mcu.events import EventCallback, EventKind, McuEvent, McuStats, ParticipantInfo, Spot
from mediaplane.kit.mcu.layout import Rect, check_custom, place, snap_rects
from mediaplane.kit.mcu.offer import offered_kinds, vp8_preferences
from mediaplane.kit.mcu.overlay import BACKGROUND, FOREGROUND, Foreground, prepare_background, prepare_foreground
from mediaplane.kit.mcu.participant import Participant
from mediaplane.kit.mcu.picture import Planes
from mediaplane.kit.mcu.source import Playback, PlaybackInfo, PlaybackSpec
from mediaplane.kit.mcu.tap import McuTap
from mediaplane.kit.mcu.tracks import CompositeTrack, MixTrack

__all__ = ["McuRoom"]

logger = logging.getLogger(__name__)

AUDIO_PERIOD = FRAME_SAMPLES / SAMPLE_RATE
AUDIO_CATCH_UP = 10
"""Audio ticks made up after the loop was held up; beyond that the mix skips ahead."""
PLAYBACK_VOICE = "\0play:"
"""Prefix of a playback's key among the mix's voices (and the compositor's tiles): never a participant id."""


class McuRoom:
    """A multipoint control unit for one room. Create it, ``await start()``, connect participants, ``close()``.

    The picture is composed at a fixed rate in a worker thread, from the latest decoded frame of each
    participant on the podium, and (with ``shared_encoder``) encoded once for every receiver."""

    def __init__(self, config: McuConfig | None = None, *, on_event: EventCallback | None = None) -> None:
        self.config = config or McuConfig()
        self._on_event = on_event
        self._members: dict[str, Participant] = {}  # in join order; a reconnect keeps its place
        self._custom: list[str] | None = None
        self._rects: list[Rect] | None = None
        self._show_names = self.config.show_names
        self._taps: list[McuTap] = []
        self._last_picture: VideoFrame | None = None
        self._foreground: Foreground | None = None
        self._background: Planes | None = None
        self._playbacks: dict[str, Playback] = {}  # in start order
        self._muted: set[str] = set()
        self._keyframes = KeyframeClock(self.config.keyframe_min_gap, self.config.keyframe_interval)
        self._encoder: VideoEncoder | None = None
        self._compositor: Compositor | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._loops: list[asyncio.Task[None]] = []
        self._removals: set[asyncio.Task[Any]] = set()  # finished, not cancelled, on close
        self._callbacks: set[asyncio.Task[Any]] = set()  # the event callback's, cancelled on close
        self._started_at = 0.0
        self._last_pts = -1
        self._composed = 0
        self._closed = False

    # -- lifecycle

    async def start(self) -> None:
        if self._closed:
            raise McuClosedError("the room is closed")
        if self._executor is not None:
            return
        c = self.config
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mcu-video")
        self._compositor = Compositor(c.width, c.height, c.background_rgb)
        self._encoder = VideoEncoder(c.width, c.height, c.fps, c.bitrate)
        self._started_at = time.monotonic()
        self._loops = [asyncio.ensure_future(self._run_video()), asyncio.ensure_future(self._run_audio())]

    async def close(self) -> None:
        """Stops the loops, closes every peer connection and tap, and waits for the video thread to end."""
        if self._closed:
            return
        self._closed = True
        for task in [*self._loops, *self._callbacks]:
            task.cancel()
        await asyncio.gather(*self._loops, *self._callbacks, return_exceptions=True)
        members = list(self._members.values())
        self._members.clear()
        playbacks = list(self._playbacks.values())
        self._playbacks.clear()
        await asyncio.gather(
            *(p.close() for p in members),
            *(self._end_playback(p) for p in playbacks),
            *self._removals,
            return_exceptions=True,
        )
        for tap in list(self._taps):
            tap.close()
        if self._executor is not None:
            await asyncio.to_thread(self._executor.shutdown, wait=True)
        if self._encoder is not None:
            self._encoder.close()

    async def __aenter__(self) -> McuRoom:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise McuClosedError("the room is closed")
        if self._executor is None:
            raise McuClosedError("the room is not started")

    # -- participants

    async def connect(self, participant_id: str, name: str, offer_sdp: str) -> str:
        """Answers a participant's offer (non-trickle: the answer carries every candidate).

        The same id again replaces the old connection and keeps its place. McuOfferError (a ValueError) when
        the offer cannot be answered; the room is then as it was."""
        self._check_open()
        if not participant_id:
            raise McuOfferError("the participant id is empty")
        kinds = offered_kinds(offer_sdp)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=list(self.config.ice_servers)))
        participant = Participant(participant_id, name, pc, lambda kind: self._notify(kind, participant))
        try:
            answer = await self._negotiate(participant, offer_sdp, kinds)
            if self._closed:
                raise McuClosedError("the room closed while answering")
        except BaseException as exc:
            await participant.close()
            if isinstance(exc, McuError) or not isinstance(exc, Exception):
                raise
            raise McuOfferError(f"cannot answer the offer: {exc}") from exc
        old = self._members.get(participant_id)
        self._members[participant_id] = participant
        pc.on("connectionstatechange", lambda: self._connection_changed(participant))
        if old is not None:
            await old.close()
        return answer

    async def _negotiate(self, participant: Participant, offer_sdp: str, kinds: set[str]) -> str:
        pc = participant.pc
        pc.on("track", participant.read)
        # Our transceivers exist before the offer is applied: aiortc picks the codecs while applying it (in the
        # offer's order), so the VP8-only preference must be in place by then. The offer's first m-line of each
        # kind takes them.
        if "video" in kinds:
            shared = self.config.shared_encoder
            video = CompositeTrack(shared, self._keyframes.request, lambda: self._notify("first_frame", participant))
            transceiver = pc.addTransceiver(video, direction="sendrecv")
            transceiver.setCodecPreferences(vp8_preferences())
            if shared:  # PLI/FIR from this receiver: a keyframe from the shared encoder, rate-limited
                transceiver.sender._send_keyframe = self._keyframes.request  # type: ignore[method-assign]
            participant.video_out = video
        if "audio" in kinds:
            participant.audio_out = MixTrack()
            pc.addTransceiver(participant.audio_out, direction="sendrecv")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    async def disconnect(self, participant_id: str) -> bool:
        """Removes a participant (event "disconnected"); False when there was none by that id."""
        participant = self._members.get(participant_id)
        if participant is None:
            return False
        await self._remove(participant)
        return True

    def _connection_changed(self, participant: Participant) -> None:
        if self._members.get(participant.id) is not participant:
            return  # replaced or removed already
        state = participant.pc.connectionState
        if state == "connected" and not participant.connected:
            participant.connected = True
            self._notify("connected", participant)
        elif state in ("failed", "closed"):
            self._spawn(self._remove(participant), self._removals)

    async def _remove(self, participant: Participant) -> None:
        if self._members.get(participant.id) is not participant:
            return
        del self._members[participant.id]
        await participant.close()
        self._notify("disconnected", participant)

    # -- layout and state

    def set_layout(
        self, spots: Sequence[str] | None, rects: Sequence[tuple[int, int, int, int] | Rect] | None = None
    ) -> None:
        """None: every participant in join order (first 9). A list: those spots in order, "" for an empty one.
        `rects` (left, top, width, height) place the spots instead of the grid — a presentation layout, a pixel
        map; later ones are drawn over earlier ones."""
        placed = None if rects is None else snap_rects(rects, self.config.width, self.config.height)
        custom = None if spots is None else check_custom(spots) if placed is None else [str(s) for s in spots]
        self._custom, self._rects = custom, placed

    def set_show_names(self, show: bool) -> None:
        self._show_names = show

    @property
    def show_names(self) -> bool:
        return self._show_names

    # -- layers, playbacks, muting

    async def set_layer(self, index: int, image: Image.Image | None) -> None:
        """Shows a picture over the tiles (`index` 1, foreground: its alpha kept) or under them (-1, background:
        flattened on the background colour); None clears it. A picture of another size is stretched to the
        canvas. It is prepared once, in a worker thread, so drawing it costs little per frame."""
        c = self.config
        if index == FOREGROUND:
            fg = None if image is None else await asyncio.to_thread(prepare_foreground, image, c.width, c.height)
            self._foreground = fg
        elif index == BACKGROUND:
            bg = None
            if image is not None:
                bg = await asyncio.to_thread(prepare_background, image, c.width, c.height, c.background_rgb)
            self._background = bg
        else:
            raise ValueError(f"a layer's index is {FOREGROUND} or {BACKGROUND}, not {index}")

    async def play(self, play_id: str, spec: PlaybackSpec) -> None:
        """Starts playing a file: in place of the picture of participant `spec.replaces`, else in a spot of its
        own (after the participants in an auto layout; a custom layout places it by its id). McuSourceError when
        it does not open (checked before this returns), McuConflictError when `play_id` plays already."""
        self._check_open()
        if not play_id:
            raise ValueError("the play id is empty")
        if play_id in self._playbacks:
            raise McuConflictError(f"playback {play_id} plays already")
        playback = Playback(play_id, spec, self._playback_ended)
        await asyncio.to_thread(playback.open)
        if play_id in self._playbacks or self._closed:
            await asyncio.to_thread(playback.join)  # closes the file
            self._check_open()
            raise McuConflictError(f"playback {play_id} plays already")
        self._playbacks[play_id] = playback
        playback.start(asyncio.get_running_loop())

    async def stop_playback(self, play_id: str) -> bool:
        """Stops a playback (no event); False when none plays by that id."""
        playback = self._playbacks.pop(play_id, None)
        if playback is None:
            return False
        await self._end_playback(playback)
        return True

    def playbacks(self) -> list[PlaybackInfo]:
        return [p.info() for p in self._playbacks.values()]

    def _playback_ended(self, playback: Playback) -> None:
        """On the loop, from a playback's thread: its file ended by itself (event "playback_ended")."""
        if self._playbacks.get(playback.id) is not playback:
            return  # stopped meanwhile
        del self._playbacks[playback.id]
        self._spawn(self._end_playback(playback), self._removals)
        self._emit(McuEvent("playback_ended", playback.id))

    @staticmethod
    async def _end_playback(playback: Playback) -> None:
        playback.stop()
        await asyncio.to_thread(playback.join)

    def set_muted(self, participant_id: str, muted: bool) -> None:
        """A muted participant is left out of everyone's mix (and the taps'); it still hears the others. Kept
        across reconnects, and may be set before the participant connects."""
        if muted:
            self._muted.add(participant_id)
        else:
            self._muted.discard(participant_id)

    @property
    def muted(self) -> frozenset[str]:
        return frozenset(self._muted)

    # -- what the picture shows

    def _order(self) -> list[str]:
        """The auto layout's spots: the participants in join order, then the playbacks with a spot of their own
        (no one to replace here) in start order."""
        own = [
            pid
            for pid, p in self._playbacks.items()
            if p.has_video and (p.spec.replaces is None or p.spec.replaces not in self._members)
        ]
        return [*self._members, *own]

    def _replacing(self) -> dict[str, Playback]:
        """The playbacks shown in place of someone, by the id they replace (the latest started wins)."""
        return {p.spec.replaces: p for p in self._playbacks.values() if p.spec.replaces is not None and p.has_video}

    def _placed(self) -> list[tuple[str, Rect]]:
        return place(self._order(), self._custom, self._rects, self.config.width, self.config.height)

    def _spot_playback(self, spot_id: str, replacing: dict[str, Playback]) -> Playback | None:
        """The playback a spot shows: one replacing the spot's participant, else a playback of that id."""
        if not spot_id:
            return None
        found = replacing.get(spot_id)
        if found is None and spot_id not in self._members:
            found = self._playbacks.get(spot_id)
            if found is not None and (not found.has_video or found.spec.replaces in self._members):
                found = None  # it shows in the replaced participant's spot
        return found

    def podium(self) -> list[Spot]:
        """The spots: `user_id` is the layout's id of the spot ("" empty); `play_id` is there when a playback
        shows in it (in place of that user, or in its own spot, whose `user_id` is then the play id)."""
        spots = []
        replacing = self._replacing()
        for spot_id, r in self._placed():
            spot = Spot(user_id=spot_id, left=r.left, top=r.top, width=r.width, height=r.height)
            playback = self._spot_playback(spot_id, replacing)
            if playback is not None:
                spot["play_id"] = playback.id
            spots.append(spot)
        return spots

    def participants(self) -> list[ParticipantInfo]:
        now, within = time.monotonic(), self.config.stall_seconds
        return [
            ParticipantInfo(
                id=p.id,
                name=p.name,
                connected=p.connected,
                receiving_video=p.live_frame(now, within) is not None,
                receiving_audio=p.receiving_audio(now, within),
                stalled=p.stalled,
            )
            for p in self._members.values()
        ]

    def stats(self) -> McuStats:
        encoder = self._encoder
        return McuStats(
            frames_composed=self._composed,
            frames_encoded=encoder.frames if encoder else 0,
            keyframes=encoder.keyframes if encoder else 0,
            participants=len(self._members),
        )

    def tap(self, *, pictures: bool = False) -> McuTap:
        """The composite's encoded packets (or, with `pictures`, its composed frames) and the full audio mix,
        for a recorder or broadcaster.

        With ``shared_encoder=False`` the room encodes once more while a packet tap is open."""
        self._check_open()
        tap = McuTap(self._keyframes.request, self._taps.remove, pictures=pictures)
        self._taps.append(tap)
        return tap

    def picture(self) -> VideoFrame | None:
        """The last composed picture of the room (a snapshot), None before the first."""
        return self._last_picture

    # -- the video loop: snapshot on the loop, compose and encode in the video thread, hand out on the loop

    async def _run_video(self) -> None:
        loop = asyncio.get_running_loop()
        period = 1 / self.config.fps
        next_at = time.monotonic()
        while True:
            now = time.monotonic()
            tiles = self._tiles(now)
            encode = self._encoding()
            keyframe = encode and self._keyframes.due(now)
            try:
                layers = (self._background, self._foreground)
                frame, packets = await loop.run_in_executor(
                    self._executor, self._render, tiles, layers, self._show_names, self._pts(now), encode, keyframe
                )
            except Exception:  # one bad frame must not freeze the room
                logger.exception("composing or encoding a frame failed")
            else:
                self._composed += 1
                self._deliver(frame, packets)
            next_at += period
            delay = next_at - time.monotonic()
            if delay < 0:  # behind (a slow encode): carry on from now rather than burst to catch up
                next_at, delay = time.monotonic(), 0
            await asyncio.sleep(delay)

    def _encoding(self) -> bool:
        """Whether anyone reads the shared encoder's packets: a tap, or a receiver whose sender started."""
        members = self._members.values()
        taps = any(not tap.pictures for tap in self._taps)
        return taps or any(p.video_out is not None and p.video_out.started_encoded for p in members)

    def _pts(self, now: float) -> int:
        self._last_pts = max(self._last_pts + 1, int((now - self._started_at) * 90000))
        return self._last_pts

    def _tiles(self, now: float) -> list[Tile]:
        c = self.config
        tiles = []
        for member in self._members.values():
            member.check_stall(now, c.stall_seconds)
        replacing = self._replacing()
        for user_id, rect in self._placed():
            participant = self._members.get(user_id) if user_id else None
            playback = self._spot_playback(user_id, replacing)
            if playback is not None:
                name = playback.spec.name or (participant.name if participant is not None else playback.id)
                frame = playback.live_frame(now, c.stall_seconds)
                tiles.append(Tile(rect, PLAYBACK_VOICE + playback.id, name, frame))
            elif participant is not None:  # an empty spot, or someone not here, shows the background
                frame = participant.live_frame(now, c.stall_seconds)
                tiles.append(Tile(rect, user_id, participant.name, frame))
        return tiles

    def _render(
        self,
        tiles: list[Tile],
        layers: tuple[Planes | None, Foreground | None],
        show_names: bool,
        pts: int,
        encode: bool,
        keyframe: bool,
    ) -> tuple[VideoFrame, list[Packet]]:
        """In the video thread: compose, then (once for everyone) encode."""
        assert self._compositor is not None and self._encoder is not None
        background, foreground = layers
        frame = self._compositor.compose(tiles, show_names, pts, background=background, foreground=foreground)
        packets = self._encoder.encode(frame, keyframe) if encode else []
        return frame, packets

    def _deliver(self, frame: VideoFrame, packets: list[Packet]) -> None:
        for participant in self._members.values():
            track = participant.video_out
            if track is None:
                continue
            if track.encoded:
                for packet in packets:
                    track.offer(packet)
            else:
                track.offer(frame)
        self._last_picture = frame
        for tap in self._taps:
            if tap.pictures:
                tap.offer_picture(frame)
                continue
            for packet in packets:
                tap.offer_packet(packet)

    # -- the audio loop: every 20 ms on the event loop (a few numpy sums)

    async def _run_audio(self) -> None:
        tick = 0
        while True:
            late = time.monotonic() - (self._started_at + tick * AUDIO_PERIOD)
            if late < 0:
                await asyncio.sleep(-late)
            elif late > AUDIO_CATCH_UP * AUDIO_PERIOD:
                tick += int(late / AUDIO_PERIOD)
            try:
                self._mix(tick * FRAME_SAMPLES)
            except Exception:
                logger.exception("mixing the audio failed")
            tick += 1

    def _mix(self, pts: int) -> None:
        if not self._members and not self._taps:
            return
        members = self._members
        voices = {pid: p.audio_in.take() for pid, p in members.items() if p.audio_in is not None}
        for pid in self._muted & voices.keys():
            voices[pid] = None  # taken all the same, so that unmuting does not play what was said meanwhile
        for play_id, playback in self._playbacks.items():
            if playback.audio_in is not None:
                voices[PLAYBACK_VOICE + play_id] = playback.audio_in.take()
        listeners = [pid for pid, p in members.items() if p.audio_out is not None]
        full, outputs = mix_minus(voices, listeners)
        for pid in listeners:
            track = members[pid].audio_out
            assert track is not None
            track.offer(outputs[pid])
        for tap in self._taps:
            tap.offer_audio(full, pts)

    # -- events

    def _notify(self, kind: EventKind, participant: Participant) -> None:
        if self._on_event is None or self._closed:
            return
        if kind != "disconnected" and self._members.get(participant.id) is not participant:
            return  # a replaced connection's late news
        self._emit(McuEvent(kind, participant.id))

    def _emit(self, event: McuEvent) -> None:
        if self._on_event is None or self._closed:
            return
        kind = event.kind
        try:
            result = self._on_event(event)
        except Exception:
            logger.exception("the room's event callback failed on %s", kind)
            return
        if inspect.isawaitable(result):
            self._spawn(result, self._callbacks)

    def _spawn(self, work: Awaitable[Any], into: set[asyncio.Task[Any]]) -> None:
        task = asyncio.ensure_future(work)
        into.add(task)
        task.add_done_callback(into.discard)
        task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("a room task failed", exc_info=task.exception())
