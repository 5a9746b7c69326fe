"""Runs the server exactly as `mediaplane serve` does, with the test-only `notes` service registered.

No service ships yet and an entry point needs an install, so the tests register one by hand:
    python tests/cli/serve_with_test_service.py --host 127.0.0.1 --port 0 --data DIR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.fixtures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()

    from mediaplane.cli.errors import CliError
    from mediaplane.cli.server import run_server
    from mediaplane.cli.state import load_settings
    from mediaplane.core.catalog import Registry
    from tests.fixtures.services import notes_spec

    settings = load_settings(host=args.host, port=args.port, data_dir=args.data, log_level="WARNING")
    try:
        run_server(settings, registry=Registry([notes_spec()]))
    except CliError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
