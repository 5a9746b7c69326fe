"""What an offer asks for, checked before any peer connection is made."""

from __future__ import annotations

from aiortc import RTCRtpSender
from aiortc.rtcrtpparameters import RTCRtpCodecCapability
from aiortc.sdp import SessionDescription

from mediaplane.kit.mcu.errors import McuOfferError

__all__ = ["offered_kinds", "vp8_preferences"]


def offered_kinds(sdp: str) -> set[str]:
    """The media kinds the offer has ("audio", "video"); McuOfferError when it is no usable offer."""
    if not isinstance(sdp, str) or not sdp.lstrip().startswith("v="):
        raise McuOfferError("the offer is not SDP (it must start with v=)")
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception as exc:  # aiortc's parser raises whatever a malformed line makes it raise
        raise McuOfferError(f"the offer is not valid SDP: {exc}") from exc
    kinds = {media.kind for media in parsed.media if media.port != 0}
    if not kinds & {"audio", "video"}:
        raise McuOfferError("the offer has neither audio nor video")
    for media in parsed.media:
        if media.kind not in ("audio", "video") or media.port == 0:
            continue
        # aiortc accepts an offer without a fingerprint and only fails later, in its connect task
        if media.dtls is None or not media.dtls.fingerprints:
            raise McuOfferError(f"the offer's {media.kind} has no DTLS fingerprint")
        vp8 = any(codec.mimeType.lower() == "video/vp8" for codec in media.rtp.codecs)
        if media.kind == "video" and not vp8:
            raise McuOfferError("the offer's video has no VP8, the only codec the room sends")
    return kinds & {"audio", "video"}


def vp8_preferences() -> list[RTCRtpCodecCapability]:
    """VP8 (and its retransmissions), so the answer names the codec the shared encoder makes."""
    codecs = RTCRtpSender.getCapabilities("video").codecs
    return [c for c in codecs if c.mimeType.lower() in ("video/vp8", "video/rtx")]
