"""FFmpegRelay end to end: one FFmpeg stream copy per destination, with the same supervision as Relay."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kit_rtmp_support import FFmpegReceiver, NginxRtmp, StateLog, eventually, probe, publisher, stop_process

from mediaplane.kit.rtmp import FFmpegRelay, RetryPolicy, Sink


def status(relay: FFmpegRelay, sink_id: str) -> str | None:
    return next((s.status for s in relay.states() if s.id == sink_id), None)


async def test_two_receivers_one_killed_and_started_again(nginx: NginxRtmp, tmp_path: Path) -> None:
    receiver = await FFmpegReceiver(tmp_path / "before.flv").start()
    log = StateLog()
    sinks = [Sink("ffmpeg", receiver.url), Sink("nginx", nginx.url("recv", "copy"))]
    policy = RetryPolicy(initial=1.5, factor=2.0, cap=5.0, jitter=0.0)
    # The "notify" application tells players when the publisher leaves, which is how FFmpeg sees the end.
    relay = FFmpegRelay(nginx.url("notify", "key"), sinks, on_state=log, policy=policy, stats_interval=1.0)
    source = publisher(nginx.url("notify", "key"), seconds=9)
    running = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: status(relay, "ffmpeg") == "live" and status(relay, "nginx") == "live")
        await asyncio.sleep(1.0)
        receiver.kill()
        await eventually(lambda: status(relay, "ffmpeg") == "error")
        again = await FFmpegReceiver(tmp_path / "after.flv", port=receiver.port).start()
        await eventually(lambda: status(relay, "ffmpeg") == "live")
        await asyncio.wait_for(running, 30)  # the source ends: FFmpeg exits cleanly, the relay returns
        assert await again.finished() == 0
    finally:
        stop_process(source)

    assert log.statuses("ffmpeg") == ["connecting", "live", "error", "connecting", "live", "idle"]
    assert log.statuses("nginx") == ["connecting", "live", "idle"]
    error = next(s for s in log.of("ffmpeg") if s.status == "error")
    assert error.last_error is not None and "ffmpeg exited" in error.last_error and error.retry_in == 1.5
    states = {s.id: s for s in relay.states()}
    assert states["ffmpeg"].reconnects == 1 and states["nginx"].reconnects == 0
    assert states["nginx"].frames_out > 150 and states["nginx"].bytes_out > 200_000
    assert any(s.status == "live" and s.bitrate_kbps > 100 for s in log.of("nginx"))

    whole = probe(nginx.record("copy"))
    assert (whole.video_codec, whole.audio_codec) == ("h264", "aac")
    assert whole.video_frames >= 215 and whole.first_video_is_key and whole.monotonic
    after = probe(again.out)
    assert after.video_frames >= 25 and after.first_video_is_key and after.monotonic


async def test_stop_kills_the_processes(nginx: NginxRtmp) -> None:
    relay = FFmpegRelay(nginx.url("live", "key"), [Sink("out", nginx.url("recv", "out"))])
    source = publisher(nginx.url("live", "key"), seconds=20)
    running = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: status(relay, "out") == "live")
        await relay.stop()
        await asyncio.wait_for(running, 10)
    finally:
        stop_process(source)
    assert relay.states()[0].status == "idle"
    assert probe(nginx.record("out")).video_frames > 0
