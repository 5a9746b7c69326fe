"""eyeson's Forward API (upstream §1.2): a room's media to a WHIP endpoint (RFC 9725) over WebRTC.

- `mcu`: the composed "one view" — the shared encoder's VP8 packets as they are, and the full audio mix.
- `source`: one participant as it sends — its VP8 frames as they arrive, before anything decodes them, only
  packetized again; its own voice (not the mix), encoded to Opus once for the forward.
- `playback`: a running playback's decoded pictures and sound, encoded (VP8, Opus) once for the forward.

A forward lives in the process that holds the meeting's media, like the room itself; it stops on DELETE, when
its source goes (the participant leaves, the playback ends) and when the meeting ends — the WHIP session's
`Location` is DELETEd each time."""

from __future__ import annotations

from mediaplane.services.eyeson.forward.registry import Forwards, forwards
from mediaplane.services.eyeson.forward.whip import ForwardError

__all__ = ["ForwardError", "Forwards", "forwards"]
