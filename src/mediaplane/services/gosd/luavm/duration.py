"""Go's time.ParseDuration, which gosd's sleep("1m30s") uses."""

from __future__ import annotations

import re

UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Seconds in "300ms", "-1.5h", "2h45m" (a unit on every number; "0" alone is allowed)."""
    body = text[1:] if text[:1] in "+-" else text
    sign = -1.0 if text.startswith("-") else 1.0
    if body == "0":
        return 0.0
    total, at = 0.0, 0
    while at < len(body):
        part = _PART.match(body, at)
        if part is None:
            break
        total += float(part.group(1)) * UNITS[part.group(2)]
        at = part.end()
    if not body or at != len(body):
        raise ValueError(f'time: invalid duration "{text}"')
    return sign * total
