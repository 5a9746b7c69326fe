"""A multipoint control unit (MCU) for WebRTC rooms, on aiortc.

Every participant sends one stream (VP8 video, Opus audio) and receives one composed picture of the room and a
mix of everyone's audio but their own (mix-minus):

    async with McuRoom(McuConfig(width=1280, height=960, fps=15), on_event=report) as room:
        answer_sdp = await room.connect("user-1", "Jane Doe", offer_sdp)   # non-trickle offer/answer
        room.set_layout(["user-2", "", "user-1"])                          # or None: everyone, in join order

The picture is composed at a fixed rate in a worker thread from the latest decoded frame of each participant
(a placeholder when there is none), encoded once by one VP8 encoder, and the same packets go to every
receiver; aiortc's senders only packetize them. :func:`restrict_ice_hosts` limits the addresses ICE offers;
:meth:`McuRoom.tap` gives the encoded picture and the full mix to a recorder or broadcaster;
:meth:`McuRoom.source_tap` one participant's own media as it came (its VP8 frames undecoded, its voice) and
:meth:`McuRoom.playback_tap` a playback's pictures and sound, to forward one source.

Besides the participants a room shows layers (:meth:`McuRoom.set_layer`: a picture over or under the tiles, or a
text insert from :func:`render_insert`) and plays files (:meth:`McuRoom.play`: in place of a participant's
picture or in a spot of its own, with their audio in the mix when wanted); :meth:`McuRoom.set_muted` leaves a
participant out of everyone's mix.

With ``McuConfig(forwarding="pairs")`` two participants get each other's video as it came (the SFU shortcut:
their encoded VP8 frames are forwarded before aiortc decodes them, nothing is decoded, composed or encoded);
``"screen"`` forwards a lone screen share to everyone. The room switches to the composer, and back, without
renegotiating when a third joins or something needs the picture (a tap, a layer, a playback, a custom layout):
:meth:`McuRoom.forwarding` tells who gets whose video, the event "forwarding" each change.
"""

from __future__ import annotations

from mediaplane.kit.mcu.config import Forwarding, McuConfig
from mediaplane.kit.mcu.errors import (
    McuClosedError,
    McuConflictError,
    McuError,
    McuLayoutError,
    McuNotFoundError,
    McuOfferError,
    McuSourceError,
)
from mediaplane.kit.mcu.events import EventCallback, EventKind, McuEvent, McuStats, ParticipantInfo, Spot
from mediaplane.kit.mcu.feed import McuFeed
from mediaplane.kit.mcu.ice import restrict_ice_hosts
from mediaplane.kit.mcu.layout import MAX_SPOTS, Rect, presentation_rects, tile_rects
from mediaplane.kit.mcu.overlay import BACKGROUND, FOREGROUND, TextInsert, render_insert
from mediaplane.kit.mcu.room import McuRoom
from mediaplane.kit.mcu.source import PlaybackInfo, PlaybackSpec
from mediaplane.kit.mcu.tap import McuTap

__all__ = [
    "BACKGROUND",
    "FOREGROUND",
    "MAX_SPOTS",
    "EventCallback",
    "EventKind",
    "Forwarding",
    "McuClosedError",
    "McuConfig",
    "McuConflictError",
    "McuError",
    "McuEvent",
    "McuFeed",
    "McuLayoutError",
    "McuNotFoundError",
    "McuOfferError",
    "McuRoom",
    "McuSourceError",
    "McuStats",
    "McuTap",
    "ParticipantInfo",
    "PlaybackInfo",
    "PlaybackSpec",
    "Rect",
    "Spot",
    "TextInsert",
    "presentation_rects",
    "render_insert",
    "restrict_ice_hosts",
    "tile_rects",
]
