from __future__ import annotations

import subprocess
import sys

import mediaplane.kit.rtmp as rtmp


def test_public_names() -> None:
    assert rtmp.__all__ == [
        "ChunkReader",
        "ChunkWriter",
        "FFmpegRelay",
        "Message",
        "Relay",
        "RetryPolicy",
        "RtmpConnection",
        "RtmpConnectionError",
        "RtmpError",
        "RtmpProtocolError",
        "RtmpUrl",
        "RtmpUrlError",
        "Sink",
        "SinkState",
        "SourceStats",
        "StateCallback",
        "Status",
        "encode_message",
        "parse_rtmp_url",
    ]
    assert all(hasattr(rtmp, name) for name in rtmp.__all__)


def test_domain_free() -> None:
    """kit never reaches into the platform or a service."""
    code = "import sys, mediaplane.kit.rtmp; print(sorted(m for m in sys.modules if m.startswith('mediaplane.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "mediaplane.core" not in loaded and "mediaplane.services" not in loaded


def test_errors_render_with_a_status() -> None:
    assert rtmp.RtmpUrlError("x").status_code == 400
    assert rtmp.RtmpConnectionError("x").status_code == 502
    refused = rtmp.RtmpError.from_status({"code": "NetStream.Publish.BadName", "description": "taken"}, doing="publish")
    assert (refused.rtmp_code, refused.description) == ("NetStream.Publish.BadName", "taken")
    assert str(refused) == "publish refused by the server (NetStream.Publish.BadName: taken)"
