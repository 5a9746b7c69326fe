"""`mediaplane gosd-agent`: run the node agent in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal

import typer
from rich.logging import RichHandler

from mediaplane.cli.errors import CliError
from mediaplane.services.gosd.agent.bootstrap import Refused
from mediaplane.services.gosd.agent.device import Device
from mediaplane.services.gosd.agent.drone import HOME
from mediaplane.services.gosd.agent.handlers import Handlers
from mediaplane.services.gosd.agent.node import SIMS, Agent, AgentConfig

ENV = "MEDIAPLANE_GOSD_AGENT_"


def load_integration(path: str) -> Handlers | Device:
    """`module:attribute`, a `Handlers` (merged over the simulator's) or a `Device` (instead of it)."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise CliError(f"--handlers must be module:attribute, not {path!r}")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise CliError(f"--handlers {path}: {exc}") from exc
    if not isinstance(found, Handlers | Device):
        raise CliError(f"--handlers {path}: a Handlers or a Device is needed, not {type(found).__name__}")
    return found


def parse_home(value: str) -> tuple[float, float]:
    try:
        lat, lng = (float(part) for part in value.split(","))
    except ValueError:
        raise CliError(f"--home must be LAT,LNG, not {value!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise CliError(f"--home {value}: out of range")
    return lat, lng


def gosd_agent(
    server: str = typer.Option(
        ...,
        "--server",
        envvar=f"{ENV}SERVER",
        help="The instance's gosd base URL, e.g. http://host:8080/gosd/acme-fleet/gosd",
    ),
    node: int = typer.Option(..., "--node", envvar=f"{ENV}NODE", help="The node id"),
    secret: str = typer.Option(
        ..., "--secret", envvar=f"{ENV}SECRET", help="The node secret (POST /api/v1/nodes/{id}/secret); env is safer"
    ),
    mqtt: str | None = typer.Option(None, "--mqtt", help="mqtt://host:port instead of the broker the server names"),
    sim: str | None = typer.Option(None, "--sim", help="drone, depot or none (default: from the node's type_name)"),
    handlers: str | None = typer.Option(None, "--handlers", help="module:attribute of a Handlers or a Device"),
    speed: float = typer.Option(1.0, "--speed", min=0.01, max=1000, help="Simulated seconds per second"),
    telemetry_interval: float = typer.Option(1.0, "--telemetry-interval", min=0.05, help="Seconds between reports"),
    network_interval: float = typer.Option(5.0, "--network-interval", min=0.05, help="Seconds between pings"),
    video: str = typer.Option("lavfi", "--video", help="lavfi (a test pattern), /dev/videoN (V4L2) or none"),
    link_id: int | None = typer.Option(None, "--link-id", help="The paired node (a drone's depot, a depot's drone)"),
    home: str | None = typer.Option(None, "--home", help="LAT,LNG where the simulated device starts"),
    log_level: str = typer.Option("INFO", "--log-level", help="DEBUG, INFO, WARNING or ERROR"),
) -> None:
    """Connect this device to a gosd instance as node NODE: presence, telemetry, RPC, live video."""
    logging.basicConfig(
        level=log_level.upper(), format="%(message)s", handlers=[RichHandler(show_path=False, markup=False)]
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per bootstrap request is noise
    if sim is not None and sim not in SIMS:
        raise CliError(f"--sim must be one of {', '.join(SIMS)}")
    extra = load_integration(handlers) if handlers else None
    try:
        config = AgentConfig(
            server=server,
            node_id=node,
            secret=secret,
            mqtt_url=mqtt,
            sim=sim,
            speed=speed,
            telemetry_interval=telemetry_interval,
            network_interval=network_interval,
            video=video,
            link_id=link_id,
            home=parse_home(home) if home else HOME,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    agent = Agent(
        config,
        device=extra if isinstance(extra, Device) else None,
        handlers=extra if isinstance(extra, Handlers) else None,
    )
    try:
        asyncio.run(run_until_signalled(agent))
    except Refused as exc:
        raise CliError(str(exc)) from None


async def run_until_signalled(agent: Agent) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await agent.run(stop)


def agent_commands() -> dict[str, typer.Typer]:
    """The top-level commands gosd adds: `mediaplane gosd-agent`."""
    app = typer.Typer(add_completion=False)
    app.command(name="gosd-agent")(gosd_agent)
    return {"gosd-agent": app}
