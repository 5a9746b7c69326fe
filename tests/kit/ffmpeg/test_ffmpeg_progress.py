"""parse_progress_block and ProgressReader on blocks captured from FFmpeg's -progress output."""

from __future__ import annotations

import pytest

from mediaplane.kit.ffmpeg import Progress, ProgressReader, parse_progress_block

# Captured from `ffmpeg -progress pipe:1 -nostats -re -f lavfi -i testsrc ... -t 1.2 out.mp4` (FFmpeg 9.0).
RUNNING = """\
frame=22
fps=0.00
stream_0_0_q=16.0
bitrate=   0.4kbits/s
total_size=48
out_time_us=975238
out_time_ms=975238
out_time=00:00:00.975238
dup_frames=0
drop_frames=0
speed=1.95x
progress=continue
"""

END = """\
frame=30
fps=0.00
stream_0_0_q=-1.0
bitrate= 242.0kbits/s
total_size=36294
out_time_us=1200000
out_time_ms=1200000
out_time=00:00:01.200000
dup_frames=0
drop_frames=0
speed=1.63x
progress=end
"""

# The first block of a slow start: nothing is known yet, and out_time is FFmpeg's "no timestamp".
STARTING = """\
frame=0
fps=0.00
stream_0_0_q=0.0
bitrate=N/A
total_size=N/A
out_time_us=N/A
out_time_ms=N/A
out_time=N/A
dup_frames=0
drop_frames=0
speed=N/A
progress=continue
"""

NEGATIVE = """\
frame=0
out_time_us=-9223372036854775807
out_time_ms=-9223372036854775807
out_time=-2562047788:00:54.775807
progress=continue
"""


class TestParseProgressBlock:
    def test_running(self) -> None:
        progress = parse_progress_block(RUNNING, duration=1.2)
        assert progress.frame == 22
        assert progress.fps == 0.0
        assert progress.out_time == pytest.approx(0.975238)
        assert progress.speed == pytest.approx(1.95)
        assert progress.bitrate_kbps == pytest.approx(0.4)
        assert progress.total_size == 48
        assert not progress.done
        assert progress.percent == pytest.approx(81.2698, abs=1e-3)
        assert progress.fields["stream_0_0_q"] == "16.0"

    def test_end_is_100_percent(self) -> None:
        progress = parse_progress_block(END, duration=1.2)
        assert progress.done
        assert progress.percent == 100.0
        assert (progress.frame, progress.total_size, progress.out_time) == (30, 36294, 1.2)
        assert progress.bitrate_kbps == pytest.approx(242.0)

    def test_end_without_duration_has_no_percent(self) -> None:
        progress = parse_progress_block(END)
        assert progress.done
        assert progress.percent is None

    def test_unknown_values_are_none(self) -> None:
        progress = parse_progress_block(STARTING, duration=10)
        assert progress == Progress(frame=0, fps=0.0, percent=None)
        assert progress.fields["bitrate"] == "N/A"

    def test_negative_time_before_first_packet(self) -> None:
        progress = parse_progress_block(NEGATIVE, duration=10)
        assert progress.out_time is None
        assert progress.percent is None

    @pytest.mark.parametrize(
        ("lines", "expected"),
        [
            ("out_time_ms=2500000\n", 2.5),  # microseconds despite the name
            ("out_time=01:02:03.500000\n", 3723.5),
            ("out_time_us=1000000\nout_time=00:00:09.000000\n", 1.0),  # out_time_us wins
        ],
    )
    def test_out_time_sources(self, lines: str, expected: float) -> None:
        assert parse_progress_block(lines + "progress=continue").out_time == pytest.approx(expected)

    def test_percent_is_clamped(self) -> None:
        assert parse_progress_block("out_time_us=5000000\nprogress=continue", duration=2).percent == 100.0
        assert parse_progress_block("out_time_us=0\nprogress=continue", duration=2).percent == 0.0

    def test_accepts_a_mapping_and_ignores_junk(self) -> None:
        assert parse_progress_block({"frame": " 7 ", "progress": "continue"}).frame == 7
        progress = parse_progress_block("garbage line\nframe=abc\n=\nprogress=continue")
        assert progress.frame is None


class TestProgressReader:
    def test_splits_a_stream_into_blocks(self) -> None:
        reader = ProgressReader(duration=1.2)
        reports = [p for line in (RUNNING + END).splitlines(keepends=True) if (p := reader.feed(line))]
        assert [p.frame for p in reports] == [22, 30]
        assert [p.done for p in reports] == [False, True]
        assert reports[-1].percent == 100.0

    def test_keys_do_not_leak_between_blocks(self) -> None:
        reader = ProgressReader()
        assert reader.feed("total_size=100") is None
        first = reader.feed("progress=continue")
        second = reader.feed("progress=continue")
        assert first is not None and first.total_size == 100
        assert second is not None and second.total_size is None
