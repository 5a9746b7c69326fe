"""The RTMP error tree; each is a MediaplaneError so an API can render it in its own format.

RtmpError               (502) the RTMP server refused: ``rtmp_code`` (e.g. ``NetStream.Publish.BadName``)
                              and ``description`` as the server sent them
├── RtmpUrlError        (400) not an rtmp:// or rtmps:// URL with an application and a stream name
├── RtmpConnectionError (502) could not connect, TLS failed, timed out, or the connection was lost
└── RtmpProtocolError   (502) the peer sent bytes that are not RTMP
"""

from __future__ import annotations

from mediaplane.kit.errors import MediaplaneError

__all__ = ["RtmpConnectionError", "RtmpError", "RtmpProtocolError", "RtmpUrlError"]


class RtmpError(MediaplaneError):
    status_code = 502
    code = "rtmp_error"

    def __init__(self, message: str, *, rtmp_code: str | None = None, description: str | None = None) -> None:
        super().__init__(message)
        self.rtmp_code = rtmp_code
        self.description = description

    @classmethod
    def from_status(cls, info: object, *, doing: str) -> RtmpError:
        """From the info object of an ``_error`` or an error ``onStatus`` (``code``, ``description``)."""
        code = description = None
        if isinstance(info, dict):
            code = str(info["code"]) if info.get("code") is not None else None
            description = str(info["description"]) if info.get("description") is not None else None
        detail = ": ".join(part for part in (code, description) if part) or "no reason given"
        return cls(f"{doing} refused by the server ({detail})", rtmp_code=code, description=description)


class RtmpUrlError(RtmpError):
    status_code = 400
    code = "rtmp_bad_url"


class RtmpConnectionError(RtmpError):
    code = "rtmp_connection_failed"


class RtmpProtocolError(RtmpError):
    code = "rtmp_protocol_error"
