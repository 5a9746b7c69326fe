"""The streaming services a destination may name: rig's `YouTube` and `Twitch` (case-sensitive, ingest URL
from the instance options) and `Custom`, any rtmp:// or rtmps:// URL the client gives."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from mediaplane.services.rig.errors import Code, RigError
from mediaplane.services.rig.inputs import Text, read
from mediaplane.services.rig.options import RigOptions

CUSTOM = "Custom"
SERVICES = ("YouTube", "Twitch", CUSTOM)
KEY_MAX = 512
URL_MAX = 1024
_NO_SPACE = re.compile(r"\S*")


def named_base(service: str, options: RigOptions) -> str | None:
    """The ingest URL of a named service, None for an unknown one."""
    return {"YouTube": options.youtube_url, "Twitch": options.twitch_url}.get(service)


def custom_base(value: str) -> str:
    """A client's rtmp(s)://host[:port]/app, checked; 1005 otherwise."""
    invalid = RigError(Code.INVALID_INPUT, details={"rtmpUrl": ["not an rtmp:// or rtmps:// URL"]})
    if not _NO_SPACE.fullmatch(value):
        raise invalid
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise invalid from None
    if parts.scheme not in ("rtmp", "rtmps") or not parts.hostname or parts.query or parts.fragment:
        raise invalid
    return value.rstrip("/")


def check_key(service: str, key: str) -> None:
    """Named services need a key; a custom URL may already hold it."""
    if service != CUSTOM and not key:
        raise RigError(Code.INVALID_INPUT, details={"streamKey": ["zero value"]})
    if not _NO_SPACE.fullmatch(key):
        raise RigError(Code.INVALID_INPUT, details={"streamKey": ["contains white space"]})


def read_new(body: dict[str, Any], options: RigOptions) -> tuple[str, str, str]:
    """(service, base URL, key) from a POST /streams/{id}/destination body."""
    service = read(body, Text("service", max=32))["service"]
    if service == CUSTOM:
        values = read(body, Text("rtmpUrl", max=URL_MAX), Text("streamKey", max=KEY_MAX, required=False))
        base = custom_base(values["rtmpUrl"])
        key = values.get("streamKey", "")
    else:
        key = read(body, Text("streamKey", max=KEY_MAX))["streamKey"]
        known = named_base(service, options)
        if known is None:
            raise RigError(Code.CREATE_FAILED, "Unable to add destination to stream")
        base = known
    check_key(service, key)
    return service, base, key
