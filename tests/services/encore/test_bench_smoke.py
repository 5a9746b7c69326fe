"""The benchmarks under bench/ start from a clean checkout: they import, parse their options, and one runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


@pytest.mark.parametrize(
    "name", ["encore_overhead", "encore_ladder", "encore_queue", "eyeson_room", "eyeson_load", "eyeson_sfu"]
)
def test_each_benchmark_shows_its_options(name: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / f"{name}.py"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:") and "--quick" in done.stdout


def test_the_ladder_benchmark_runs_and_prints_its_ratios(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "encore_ladder.py"), "--quick", "--seconds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "ratio one / per rendition in turn, wall" in done.stdout
    assert "goal <= 0.8" in done.stdout
