"""The relay benchmark under bench/ starts from a clean checkout: it imports and parses its options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench"


def test_the_relay_benchmark_shows_its_options() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "rig_relay.py"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:") and "--quick" in done.stdout and "--streams" in done.stdout
