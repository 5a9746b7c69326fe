from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import imageio_ffmpeg
import pytest

from mediaplane.kit.ffmpeg import FFmpegNotFound, find_ffmpeg, find_ffprobe


def fake_binary(path: Path, script: str = "exit 0") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


class TestFindFFmpeg:
    def test_default_is_the_bundled_binary(self) -> None:
        found = find_ffmpeg()
        assert found == imageio_ffmpeg.get_ffmpeg_exe()
        assert os.access(found, os.X_OK)

    def test_configured_path_wins(self, tmp_path: Path) -> None:
        custom = fake_binary(tmp_path / "bin" / "ffmpeg")
        assert find_ffmpeg(str(custom)) == str(custom)

    def test_configured_name_is_looked_up_on_path(self) -> None:
        assert find_ffmpeg("sh") == shutil.which("sh")

    @pytest.mark.parametrize("configured", ["/nonexistent/ffmpeg", "no-such-ffmpeg-binary"])
    def test_configured_but_missing_is_an_error(self, configured: str) -> None:
        with pytest.raises(FFmpegNotFound) as caught:
            find_ffmpeg(configured)
        assert caught.value.status_code == 503

    def test_configured_but_not_executable(self, tmp_path: Path) -> None:
        plain = tmp_path / "ffmpeg"
        plain.write_text("not a program")
        with pytest.raises(FFmpegNotFound):
            find_ffmpeg(str(plain))


class TestFindFFprobe:
    def test_beside_the_ffmpeg_in_use(self, tmp_path: Path) -> None:
        ffmpeg = fake_binary(tmp_path / "ffmpeg")
        ffprobe = fake_binary(tmp_path / "ffprobe")
        assert find_ffprobe(ffmpeg=str(ffmpeg)) == str(ffprobe)

    def test_configured(self, tmp_path: Path) -> None:
        ffprobe = fake_binary(tmp_path / "probe-tool")
        assert find_ffprobe(str(ffprobe)) == str(ffprobe)
        with pytest.raises(FFmpegNotFound):
            find_ffprobe(str(tmp_path / "missing"))

    def test_none_or_on_path(self, tmp_path: Path) -> None:
        ffmpeg = fake_binary(tmp_path / "ffmpeg")
        assert find_ffprobe(ffmpeg=str(ffmpeg)) == shutil.which("ffprobe")


def test_public_api() -> None:
    import mediaplane.kit.ffmpeg as ffmpeg

    assert sorted(ffmpeg.__all__) == [
        "FFmpegCancelled",
        "FFmpegError",
        "FFmpegNotFound",
        "FFmpegResult",
        "MediaInfo",
        "Progress",
        "ProgressCallback",
        "ProgressReader",
        "StreamInfo",
        "find_ffmpeg",
        "find_ffprobe",
        "parse_ffmpeg_info",
        "parse_ffprobe_json",
        "parse_progress_block",
        "probe",
        "run_ffmpeg",
    ]
    assert all(hasattr(ffmpeg, name) for name in ffmpeg.__all__)
