"""run_ffmpeg against the real binary, on lavfi test sources."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from tests.fixtures.media import h264_output_args, lavfi_input_args
from tests.fixtures.required import require_or_skip

from mediaplane.kit.ffmpeg import FFmpegCancelled, FFmpegError, Progress, probe, run_ffmpeg


def ffmpeg_children() -> list[int]:
    """Our child processes that are ffmpeg (Linux /proc); any left over would be a leak."""
    pids: list[int] = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            pids += [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            continue
    found = []
    for pid in pids:
        try:
            if b"ffmpeg" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


@pytest.fixture
def needs_proc() -> None:
    """Child processes are found through Linux's /proc: skipped without it, a failure when CI=true."""
    if not Path("/proc/self/task").is_dir():
        require_or_skip("Linux /proc")


class TestRun:
    async def test_encode_reports_progress_to_100_percent(self, tmp_path: Path) -> None:
        output = tmp_path / "out.mp4"
        reports: list[Progress] = []

        async def on_progress(progress: Progress) -> None:
            reports.append(progress)

        result = await run_ffmpeg(
            [*lavfi_input_args(2, audio=True), *h264_output_args(output, audio=True)],
            duration=2.0,
            on_progress=on_progress,
        )
        assert result.returncode == 0
        assert result.argv[1:6] == ["-hide_banner", "-nostdin", "-nostats", "-progress", "pipe:1"]
        assert reports and reports[-1] is result.progress
        assert reports[-1].done
        assert reports[-1].percent == 100.0
        assert reports[-1].out_time == pytest.approx(2.0, abs=0.1)
        assert reports[-1].frame == 50
        percents = [p.percent for p in reports if p.percent is not None]
        assert percents == sorted(percents)
        assert all(not p.done for p in reports[:-1])

        info = await probe(output)
        assert info.duration == pytest.approx(2.0, abs=0.1)
        assert info.video is not None
        assert (info.video.codec, info.video.width, info.video.height) == ("h264", 320, 240)
        assert info.video.fps == pytest.approx(25)
        assert info.audio is not None and info.audio.codec == "aac"

    async def test_plain_callback_and_no_duration(self, tmp_path: Path) -> None:
        reports: list[Progress] = []
        result = await run_ffmpeg(
            [*lavfi_input_args(1), "-f", "null", "-"],
            on_progress=reports.append,
        )
        assert reports[-1].done
        assert reports[-1].percent is None
        assert result.progress is reports[-1]

    async def test_failure_raises_with_stderr_tail(self, tmp_path: Path) -> None:
        missing = tmp_path / "missing.mp4"
        with pytest.raises(FFmpegError) as caught:
            await run_ffmpeg(["-i", str(missing), "-f", "null", "-"])
        error = caught.value
        assert error.returncode != 0
        assert "No such file or directory" in error.stderr_tail
        assert str(missing) in error.argv
        assert "No such file or directory" in str(error)

    @pytest.mark.usefixtures("needs_proc")
    async def test_callback_errors_stop_ffmpeg(self, tmp_path: Path) -> None:
        def explode(progress: Progress) -> None:
            raise RuntimeError("progress sink broke")

        with pytest.raises(RuntimeError, match="progress sink broke"):
            await run_ffmpeg(
                ["-stats_period", "0.1", "-re", *lavfi_input_args(30), "-f", "null", "-"], on_progress=explode
            )
        assert ffmpeg_children() == []


class TestCancel:
    @pytest.mark.usefixtures("needs_proc")
    async def test_cancel_event_stops_ffmpeg(self, tmp_path: Path) -> None:
        cancel = asyncio.Event()
        reports: list[Progress] = []

        def on_progress(progress: Progress) -> None:
            reports.append(progress)
            cancel.set()

        # -re reads the source in real time: 30 s of work that would outlast the test.
        with pytest.raises(FFmpegCancelled) as caught:
            await run_ffmpeg(
                ["-stats_period", "0.1", "-re", *lavfi_input_args(30), *h264_output_args(tmp_path / "out.mp4")],
                duration=30,
                on_progress=on_progress,
                cancel=cancel,
            )
        assert caught.value.returncode is not None  # the process was reaped
        assert caught.value.progress is reports[-1]
        assert reports[-1].percent is not None and reports[-1].percent < 100
        assert not any(p.done for p in reports)  # a stopped run never reports completion
        assert ffmpeg_children() == []

    async def test_already_cancelled_does_not_start(self) -> None:
        cancel = asyncio.Event()
        cancel.set()
        with pytest.raises(FFmpegCancelled):
            await run_ffmpeg([*lavfi_input_args(1), "-f", "null", "-"], cancel=cancel)

    @pytest.mark.usefixtures("needs_proc")
    async def test_cancelling_the_task_stops_ffmpeg(self) -> None:
        started = asyncio.Event()
        task = asyncio.create_task(
            run_ffmpeg(
                ["-stats_period", "0.1", "-re", *lavfi_input_args(30), "-f", "null", "-"],
                on_progress=lambda p: started.set(),
            )
        )
        await asyncio.wait_for(started.wait(), 10)
        assert len(ffmpeg_children()) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ffmpeg_children() == []

    @pytest.mark.usefixtures("needs_proc")
    async def test_cancelled_while_ffmpeg_stops_it_still_waits_for_the_exit(self, tmp_path: Path) -> None:
        """A task cancelled while FFmpeg finishes (slow to honour SIGTERM) returns only once it is gone."""
        slow = tmp_path / "ffmpeg"  # its name makes it an ffmpeg child for ffmpeg_children()
        slow.write_text("#!/bin/sh\ntrap '' TERM\necho progress=continue\nwhile :; do sleep 0.1; done\n")
        slow.chmod(0o755)
        cancel, started = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(
            run_ffmpeg([], ffmpeg=str(slow), cancel=cancel, grace=1.0, on_progress=lambda p: started.set())
        )
        await asyncio.wait_for(started.wait(), 10)
        cancel.set()
        await asyncio.sleep(0.2)  # now in the SIGTERM grace
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ffmpeg_children() == []
