"""RTMP for mediaplane: a small asyncio client, and relays that send one live stream to many destinations.

    relay = Relay("rtmp://127.0.0.1:1935/live/key", [Sink("yt", "rtmp://a.rtmp.youtube.com/live2/KEY")],
                  on_state=report)
    await relay.run()            # until the publisher leaves, or relay.stop()

:class:`Relay` reads the stream once and fans its RTMP messages out to every sink; :class:`FFmpegRelay`
runs one FFmpeg stream copy per sink instead. Both keep per-sink state, reconnect with backoff, and
restart a destination that stopped taking data. :class:`RtmpConnection` publishes or plays one stream.
"""

from __future__ import annotations

from mediaplane.kit.rtmp.chunks import ChunkReader, ChunkWriter, Message, encode_message
from mediaplane.kit.rtmp.client import RtmpConnection
from mediaplane.kit.rtmp.errors import RtmpConnectionError, RtmpError, RtmpProtocolError, RtmpUrlError
from mediaplane.kit.rtmp.ffmpeg_relay import FFmpegRelay
from mediaplane.kit.rtmp.relay import Relay, SourceStats
from mediaplane.kit.rtmp.sinks import RetryPolicy, Sink, SinkState, StateCallback, Status
from mediaplane.kit.rtmp.url import RtmpUrl, parse_rtmp_url

__all__ = [
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
