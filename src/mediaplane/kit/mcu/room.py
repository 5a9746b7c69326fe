"""A room: participants in, one composite picture (or, two by two, each other's video forwarded) and a mix-minus
of the audio out to each of them."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Collection, Sequence
from types import TracebackType
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from av import VideoFrame
from PIL import Image

from mediaplane.kit.mcu.composer import Composer, deliver, paced
from mediaplane.kit.mcu.compositor import Tile
from mediaplane.kit.mcu.config import McuConfig
from mediaplane.kit.mcu.encoder import KeyframeClock
from mediaplane.kit.mcu.errors import McuClosedError, McuConflictError, McuError, McuNotFoundError, McuOfferError
from mediaplane.kit.mcu.events import EventCallback, EventKind, McuEvent, McuStats, ParticipantInfo, Spot
from mediaplane.kit.mcu.feed import FEED_KINDS, FeedHub, McuFeed
from mediaplane.kit.mcu.layout import Rect, check_custom, place, presentation_rects, snap_rects
from mediaplane.kit.mcu.mixer import mix_room, run_audio
from mediaplane.kit.mcu.offer import offered_kinds, vp8_preferences
from mediaplane.kit.mcu.overlay import BACKGROUND, FOREGROUND, Foreground, prepare_background, prepare_foreground
from mediaplane.kit.mcu.participant import Participant
from mediaplane.kit.mcu.picture import Planes
from mediaplane.kit.mcu.source import (
    PLAYBACK_VOICE,
    Playback,
    PlaybackInfo,
    PlaybackSpec,
    own_spots,
    replacing,
    spot_playback,
)
from mediaplane.kit.mcu.switchboard import Switchboard
from mediaplane.kit.mcu.tap import McuTap
from mediaplane.kit.mcu.tracks import COMPOSITE, CompositeTrack, MixTrack

__all__ = ["McuRoom"]

logger = logging.getLogger(__name__)


class McuRoom:
    """A multipoint control unit for one room. Create it, ``await start()``, connect participants, ``close()``.

    The picture is composed at a fixed rate in a worker thread, from the latest decoded frame of each
    participant on the podium, and (with ``shared_encoder``) encoded once for every receiver. With
    ``forwarding`` on, receivers get another participant's video as it came while the room allows it
    (switchboard.py); the room then neither decodes, composes nor encodes."""

    def __init__(self, config: McuConfig | None = None, *, on_event: EventCallback | None = None) -> None:
        self.config = config or McuConfig()
        self._on_event = on_event
        self._members: dict[str, Participant] = {}  # in join order; a reconnect keeps its place
        self._custom: list[str] | None = None
        self._rects: list[Rect] | None = None
        self._show_names = self.config.show_names
        self._taps: list[McuTap] = []
        self._feeds = FeedHub()  # one participant's or playback's own media (feed.py)
        self._last_picture: VideoFrame | None = None
        self._foreground: Foreground | None = None
        self._background: Planes | None = None
        self._playbacks: dict[str, Playback] = {}  # in start order
        self._muted: set[str] = set()
        self._keyframes = KeyframeClock(self.config.keyframe_min_gap, self.config.keyframe_interval)
        self._switchboard = Switchboard(self.config, lambda: self._emit(McuEvent("forwarding", "")))
        self._composer: Composer | None = None
        self._fresh: list[asyncio.Future[None]] = []  # fresh_picture() calls waiting
        self._last_ready = False  # whether the last picture had everyone's decoded frame
        self._loops: list[asyncio.Task[None]] = []
        self._removals: set[asyncio.Task[Any]] = set()  # finished, not cancelled, on close
        self._callbacks: set[asyncio.Task[Any]] = set()  # the event callback's, cancelled on close
        self._started_at = 0.0
        self._closed = False

    # -- lifecycle

    async def start(self) -> None:
        if self._closed:
            raise McuClosedError("the room is closed")
        if self._composer is not None:
            return
        self._started_at = time.monotonic()
        self._composer = Composer(self.config, self._started_at)
        video = paced(self.config.fps, self._video_tick, "composing or encoding a frame failed")
        audio = run_audio(self._started_at, self._mix)
        self._loops = [asyncio.ensure_future(video), asyncio.ensure_future(audio)]

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
        self._feeds.close()
        if self._composer is not None:
            await self._composer.close()

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
        if self._composer is None:
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
        c = self.config

        def first() -> None:
            self._notify("first_frame", participant)

        def forward(data: bytes, pts: int, keyframe: bool) -> None:
            self._forward(participant, data, pts, keyframe)

        if "video" in kinds:
            video = CompositeTrack(c.shared_encoder, self._keyframe_for, first, frame_step=90000 // c.fps)
            transceiver = pc.addTransceiver(video, direction="sendrecv")
            transceiver.setCodecPreferences(vp8_preferences())
            sender = transceiver.sender
            if not c.shared_encoder:
                video.own_keyframe = sender._send_keyframe
            # PLI/FIR from this receiver: a keyframe from its source (the shared encoder, rate-limited, or the
            # participant whose video it gets forwarded)
            sender._send_keyframe = video.picture_lost  # type: ignore[method-assign]
            participant.video_out = video
            participant.tap_video(transceiver.receiver, forward, c.keyframe_min_gap)
        if "audio" in kinds:
            participant.audio_out = MixTrack()
            pc.addTransceiver(participant.audio_out, direction="sendrecv")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        if "video" in kinds:  # aiortc made the receiver's track: the offer sends video
            participant.sends_video = transceiver.receiver.track is not None
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
        """None: every participant in join order (first 9); with a screen share (an id ending in the config's
        `screen_suffix`), the screen large on top and the others in a strip below. A list: those spots in
        order, "" for an empty one. `rects` (left, top, width, height) place the spots instead of the grid — a
        presentation layout, a pixel map; later ones are drawn over earlier ones."""
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
        """The auto layout's spots: screen shares first, then the participants in join order, then the playbacks
        with a spot of their own."""
        screens = [pid for pid in self._members if pid.endswith(self.config.screen_suffix)]
        people = [pid for pid in self._members if pid not in screens]
        return [*screens, *people, *own_spots(self._members, self._playbacks)]

    def _placed(self) -> list[tuple[str, Rect]]:
        c, order = self.config, self._order()
        if self._custom is None and self._rects is None and order and order[0].endswith(c.screen_suffix):
            return list(zip(order, presentation_rects(len(order), c.width, c.height), strict=False))
        return place(order, self._custom, self._rects, c.width, c.height)

    def podium(self) -> list[Spot]:
        """The spots: `user_id` is the layout's id of the spot ("" empty); `play_id` is there when a playback
        shows in it (in place of that user, or in its own spot, whose `user_id` is then the play id).
        The composite's spots, also while receivers get video forwarded (:meth:`forwarding`)."""
        spots = []
        replaced = replacing(self._playbacks)
        for spot_id, r in self._placed():
            spot = Spot(user_id=spot_id, left=r.left, top=r.top, width=r.width, height=r.height)
            playback = spot_playback(spot_id, self._members, self._playbacks, replaced)
            if playback is not None:
                spot["play_id"] = playback.id
            spots.append(spot)
        return spots

    def forwarding(self) -> dict[str, str]:
        """Who gets whose video forwarded (receiver id → source id), or {} while everyone gets the composite: as
        the room is now; the switches follow within a tick (each completes on its source's next keyframe) and
        an event "forwarding" tells of every change."""
        return self._switchboard.plan_for(self._members, self._needs_composer())

    def participants(self) -> list[ParticipantInfo]:
        now, within = time.monotonic(), self.config.stall_seconds
        return [
            ParticipantInfo(
                id=p.id,
                name=p.name,
                connected=p.connected,
                receiving_video=p.receiving_video(now, within),
                receiving_audio=p.receiving_audio(now, within),
                stalled=p.stalled,
            )
            for p in self._members.values()
        ]

    def stats(self) -> McuStats:
        composer = self._composer
        encoder = composer.encoder if composer else None
        tracks = [p.video_out for p in self._members.values() if p.video_out is not None]
        return McuStats(
            frames_composed=composer.composed if composer else 0,
            frames_encoded=encoder.frames if encoder else 0,
            keyframes=encoder.keyframes if encoder else 0,
            participants=len(self._members),
            frames_forwarded=sum(t.forwarded for t in tracks),
            forwarding=bool(self._switchboard.plan),
        )

    def tap(self, *, pictures: bool = False) -> McuTap:
        """The composite's encoded packets (or, with `pictures`, its composed frames) and the full audio mix,
        for a recorder or broadcaster. While a tap is open the room composes for everyone (no forwarding).

        With ``shared_encoder=False`` the room encodes once more while a packet tap is open."""
        self._check_open()
        tap = McuTap(self._keyframes.request, self._taps.remove, pictures=pictures)
        self._taps.append(tap)
        return tap

    def source_tap(self, participant_id: str, kinds: Collection[str] = FEED_KINDS) -> McuFeed:
        """One participant's own media as it comes (feed.py): its VP8 frames as its browser encoded them and its
        voice, not the mix. Opening one changes nothing of what the room decodes or composes. It ends when the
        participant leaves or reconnects. McuNotFoundError when no connected participant has that id."""
        self._check_open()
        participant = self._members.get(participant_id)
        if participant is None or not participant.connected:
            raise McuNotFoundError(f"no participant {participant_id} is connected")
        return self._feeds.open(participant, kinds, lambda: participant.ask_keyframe(time.monotonic()))

    def playback_tap(self, play_id: str, kinds: Collection[str] = FEED_KINDS) -> McuFeed:
        """A playback's decoded pictures and sound (feed.py), until it ends. McuNotFoundError when none plays by
        that id."""
        self._check_open()
        playback = self._playbacks.get(play_id)
        if playback is None:
            raise McuNotFoundError(f"no playback {play_id} plays")
        return self._feeds.open(playback, kinds, None)

    def picture(self) -> VideoFrame | None:
        """The last composed picture of the room (a snapshot), None before the first. While every receiver
        gets video forwarded the room composes nothing: see :meth:`fresh_picture`."""
        return self._last_picture

    async def fresh_picture(self, within: float = 2.0) -> VideoFrame | None:
        """A picture of the room now: the last one while the room composes, else one composed for this (the
        decoders, paused while forwarding, catch up first); what there is after `within` s, or None."""
        if self._switchboard.composing and self._last_ready:
            return self._last_picture
        self._check_open()
        waiter = asyncio.get_running_loop().create_future()
        self._fresh.append(waiter)
        try:
            await asyncio.wait_for(waiter, within)
        except TimeoutError:
            pass
        finally:
            self._fresh.remove(waiter)
        return self._last_picture

    def _needs_composer(self) -> bool:
        """Something only the composite shows: a tap, a layer, a playback, a layout of chosen spots."""
        return bool(self._taps or self._playbacks or self._foreground or self._background) or (
            self._custom is not None or self._rects is not None
        )

    # -- forwarding: a participant's encoded frames, as they come (on the loop, from its receiver)

    def _forward(self, source: Participant, data: bytes, pts: int, keyframe: bool) -> None:
        if self._members.get(source.id) is not source:
            return  # a replaced connection's last frames
        source.saw_video(time.monotonic())
        self._feeds.video(source, data, pts, keyframe)
        for member in self._members.values():
            track = member.video_out
            if track is not None and source.id in (track.source, track.target):
                track.forward(source.id, data, pts, keyframe)

    def _keyframe_for(self, source: str, start: bool) -> None:
        """A receiver needs a keyframe of its source: the shared encoder's, or the forwarded participant's."""
        if source == COMPOSITE:
            self._keyframes.request(start)
            return
        member = self._members.get(source)
        if member is not None:
            member.ask_keyframe(time.monotonic())

    # -- the video loop: steer, snapshot on the loop, compose and encode in the video thread, hand out on the loop

    async def _video_tick(self, now: float) -> None:
        assert self._composer is not None
        if not self._switchboard.steer(self._members, self._needs_composer(), bool(self._fresh), now):
            return  # everyone gets video forwarded: nothing to compose
        ready = self._switchboard.ready(self._members)
        tiles = self._tiles(now)
        encode = self._encoding()
        keyframe = encode and self._keyframes.due(now)
        layers = (self._background, self._foreground)
        frame, packets = await self._composer.make(tiles, layers, self._show_names, now, encode, keyframe)
        deliver(self._members.values(), self._taps, frame, packets)
        self._last_picture, self._last_ready = frame, ready
        if ready:
            for waiter in self._fresh:
                if not waiter.done():
                    waiter.set_result(None)

    def _encoding(self) -> bool:
        """Whether anyone reads the shared encoder's packets: a tap, or a receiver whose sender reads them."""
        members = self._members.values()
        taps = any(not tap.pictures for tap in self._taps)
        return taps or any(p.video_out is not None and p.video_out.started_encoded for p in members)

    def _tiles(self, now: float) -> list[Tile]:
        within = self.config.stall_seconds
        tiles = []
        replaced = replacing(self._playbacks)
        for user_id, rect in self._placed():
            participant = self._members.get(user_id) if user_id else None
            playback = spot_playback(user_id, self._members, self._playbacks, replaced)
            if playback is not None:
                name = playback.spec.name or (participant.name if participant is not None else playback.id)
                tiles.append(Tile(rect, PLAYBACK_VOICE + playback.id, name, playback.live_frame(now, within)))
            elif participant is not None:  # an empty spot, or someone not here, shows the background
                tiles.append(Tile(rect, user_id, participant.name, participant.live_frame(now, within)))
        return tiles

    def _mix(self, pts: int) -> None:
        voices = mix_room(self._members, self._muted, self._playbacks, self._taps, pts)
        self._feeds.tick(self._members, self._playbacks, voices, pts)

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
