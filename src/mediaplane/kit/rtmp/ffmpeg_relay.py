"""The FFmpeg relay: one ``ffmpeg -c copy`` process per destination, supervised like :class:`Relay`'s sinks.

Each process plays the source itself and stream-copies it to its destination::

    ffmpeg -rw_timeout … -i <source> -c copy -f flv -rw_timeout … <destination> -progress pipe:1

Bytes, frames and the stale watchdog come from FFmpeg's progress reports (``total_size``, ``frame``).
It costs one process and one read of the source per destination, which :class:`Relay` avoids; it is
here for those who prefer FFmpeg's RTMP stack, and as the reference in benchmarks.

The source's end reaches :meth:`run` when an FFmpeg process finishes cleanly, which it does when the
server says so with ``NetStream.Play.Stop`` or ``UnpublishNotify`` (nginx-rtmp: ``publish_notify on`` or
``play_restart on``), or when its owner calls :meth:`stop` (nginx-rtmp's ``on_publish_done``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable

from mediaplane.kit.ffmpeg import FFmpegCancelled, Progress, find_ffmpeg, run_ffmpeg
from mediaplane.kit.rtmp.runner import SinkRunner
from mediaplane.kit.rtmp.sinks import RetryPolicy, Sink, StateCallback
from mediaplane.kit.rtmp.supervision import RelayBase

__all__ = ["FFmpegRelay"]


class _FFmpegSink(SinkRunner):
    def __init__(self, sink: Sink, relay: FFmpegRelay, **kwargs: object) -> None:
        super().__init__(sink, **kwargs)  # type: ignore[arg-type]
        self.relay = relay

    async def session(self) -> None:
        relay = self.relay
        written = 0
        frames_before = self.frames_out

        def progress(report: Progress) -> None:
            nonlocal written
            if report.total_size is not None and report.total_size > written:
                self.sent(report.total_size - written)
                written = report.total_size
                if self.status != "live":
                    self.mark_live()
            if report.frame is not None:
                self.frames_out = frames_before + report.frame

        try:
            await run_ffmpeg(
                relay.arguments(self.sink.url),
                on_progress=progress,
                cancel=self.stopping,
                ffmpeg=relay.ffmpeg,
                grace=2.0,
            )
        except FFmpegCancelled:
            return
        # A clean exit: FFmpeg read the source to its end.
        relay._source_ended()
        await self.stopping.wait()


class FFmpegRelay(RelayBase):
    """Relays ``source_url`` to every sink with one FFmpeg process each; same interface as :class:`Relay`."""

    def __init__(
        self,
        source_url: str,
        sinks: Iterable[Sink] = (),
        *,
        on_state: StateCallback | None = None,
        policy: RetryPolicy = RetryPolicy(),
        stale_after: float = 10.0,
        stats_interval: float = 5.0,
        connect_timeout: float = 20.0,
        rw_timeout: float | None = None,
        ffmpeg: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """``rw_timeout``: FFmpeg's own limit on a read or write that makes no progress (``stale_after``
        by default); ``ffmpeg``: the binary, or a configured name for :func:`find_ffmpeg`.
        """
        self.source_url = source_url
        self.rw_timeout = rw_timeout if rw_timeout is not None else stale_after
        self.ffmpeg = find_ffmpeg(ffmpeg)
        self._ended = asyncio.Event()
        super().__init__(
            sinks,
            on_state=on_state,
            policy=policy,
            stale_after=stale_after,
            stats_interval=stats_interval,
            connect_timeout=connect_timeout,
            rng=rng,
        )

    def arguments(self, destination: str) -> list[str]:
        """FFmpeg's arguments for one destination (``run_ffmpeg`` adds ``-progress pipe:1``)."""
        timeout = str(int(self.rw_timeout * 1_000_000))
        return [
            "-loglevel",
            "warning",
            "-rw_timeout",
            timeout,
            "-i",
            self.source_url,
            "-c",
            "copy",
            "-f",
            "flv",
            "-rw_timeout",
            timeout,
            destination,
        ]

    def _make_runner(self, sink: Sink) -> SinkRunner:
        return _FFmpegSink(sink, self, policy=self.policy, notifier=self._notifier, rng=self._rng)

    async def _serve(self) -> None:
        self._start_sinks()
        await self._ended.wait()

    def _source_ended(self) -> None:
        self._ended.set()

    def _stopping(self) -> None:
        self._ended.set()
