"""The HLS preview of a live stream, behind a signed, expiring URL that never shows the stream key.

The ingest writes the preview while someone asks for its playlist (core.ingest.preview), under names that
do not show the key; we serve them as `index.m3u8` and `seg-N.ts`, so a preview link can be shared without
handing out the right to publish.
"""

from __future__ import annotations

import html
import re

from mediaplane.core.ingest import preview_playlist, preview_segment, renamed_segments
from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.security import TokenError, TokenSigner
from mediaplane.services.rig.errors import Code, RigError
from mediaplane.services.rig.models import RigStream

APP = "rig"
LIFETIME = 12 * 3600
SEGMENT = re.compile(r"^seg-(\d{1,12})\.ts$")


def _signer(runtime: Runtime, instance: Instance) -> TokenSigner:
    return TokenSigner(runtime.settings.secret, f"rig-preview:{instance.id}", clock=runtime.clock)


def preview_token(runtime: Runtime, instance: Instance, stream: RigStream) -> str:
    return _signer(runtime, instance).sign({"sid": stream.id}, LIFETIME)


def stream_of(runtime: Runtime, instance: Instance, token: str) -> str:
    """The stream id the token was made for; 1003 when it is not valid (here) or has expired."""
    try:
        claims = _signer(runtime, instance).verify(token)
    except TokenError as exc:
        raise RigError(Code.INVALID_CREDENTIALS, "This preview link is not valid or has expired") from exc
    stream_id = claims.get("sid")
    if not isinstance(stream_id, str):
        raise RigError(Code.INVALID_CREDENTIALS, "This preview link is not valid or has expired")
    return stream_id


async def playlist(runtime: Runtime, stream: RigStream) -> str:
    found = await preview_playlist(runtime, APP, stream.stream_key)
    if found is None:
        raise RigError(Code.NOT_FOUND, "The preview is starting; try again in a moment")
    return renamed_segments(*found)


async def segment(runtime: Runtime, stream: RigStream, name: str) -> bytes:
    match = SEGMENT.match(name)
    data = await preview_segment(runtime, APP, stream.stream_key, match[1]) if match else None
    if data is None:
        raise RigError(Code.NOT_FOUND, "No such preview segment (it may have rotated out)")
    return data


PLAYER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Live preview</title>
<style>body{margin:0;background:#111;color:#eee;font:16px system-ui,sans-serif}
video{display:block;width:100%;max-height:calc(100vh - 2.5rem);background:#000}p{margin:.5rem 1rem}</style></head>
<body><video id="video" controls autoplay muted playsinline></video><p id="state" role="status">Connecting…</p>
<script src="/_static/vendor/hls.light.min.js"></script>
<script>
const video = document.getElementById("video"), state = document.getElementById("state");
const source = "__PLAYLIST__";
video.addEventListener("playing", () => { state.textContent = "Live"; });
// The link exists as soon as a publish is admitted, a few seconds before the first playlist is written, and a
// stream may stop and start again: a fatal error starts over after a pause, unless the link itself is refused.
function start() {
  const hls = new Hls({liveSyncDurationCount: 2});
  hls.on(Hls.Events.ERROR, (_, data) => {
    if (!data.fatal) return;
    hls.destroy();
    const code = data.response && data.response.code;
    if (code === 401 || code === 403) { state.textContent = "This preview link is not valid or has expired"; return; }
    state.textContent = "Not live (" + data.details + "), trying again…";
    setTimeout(start, 2000);
  });
  hls.loadSource(source);
  hls.attachMedia(video);
}
if (window.Hls && Hls.isSupported()) {
  start();
} else if (video.canPlayType("application/vnd.apple.mpegurl")) {
  video.src = source;
} else {
  state.textContent = "This browser cannot play HLS";
}
</script></body></html>
"""


REFUSED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Live preview</title><style>body{margin:0;background:#111;color:#eee;font:16px system-ui,sans-serif}
p{margin:1rem}</style></head><body><p role="alert">__MESSAGE__</p></body></html>
"""


def refused_page(message: str) -> str:
    return REFUSED.replace("__MESSAGE__", html.escape(message))


def player_page(playlist_url: str, static_root: str) -> str:
    return PLAYER.replace("__PLAYLIST__", playlist_url).replace("/_static/", f"{static_root}/_static/")
