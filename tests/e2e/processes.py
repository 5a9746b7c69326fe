"""Process entry points for the scale-out tests: `serve` (API only) or `worker`, with encore, rig and a test
service.

Settings come from MEDIAPLANE_* variables, exactly as for `mediaplane serve --no-workers` and
`mediaplane worker` on separate machines.
"""

from __future__ import annotations

import sys

import uvicorn

from mediaplane.app import create_app
from mediaplane.cli.worker import run_worker
from mediaplane.config import Settings
from mediaplane.core.catalog import Registry
from mediaplane.services.encore import spec as encore_spec
from mediaplane.services.rig import spec as rig_spec
from tests.fixtures.services import notes_spec


def main() -> None:
    role, registry, settings = sys.argv[1], Registry([notes_spec(), encore_spec, rig_spec]), Settings()
    if role == "serve":
        app = create_app(settings, registry=registry, run_workers=False)
        uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
    else:
        run_worker(settings, 2, registry)


if __name__ == "__main__":
    main()
