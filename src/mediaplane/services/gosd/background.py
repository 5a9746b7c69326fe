"""What gosd runs beside the API in a serving process: the embedded MQTT broker (when no external one is
configured) and the presence watcher that keeps each node's online state and status."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from mediaplane.core.runtime import Runtime
from mediaplane.kit.mqtt import EmbeddedBroker
from mediaplane.services.gosd.mqtt.authority import GosdAuthority
from mediaplane.services.gosd.mqtt.client import cancel_all
from mediaplane.services.gosd.mqtt.presence import PresenceWatcher, reset_presence
from mediaplane.services.gosd.mqtt.settings import embedded, enabled

log = logging.getLogger(__name__)
PRESENCE_KEY = "gosd.presence"  # runtime.extras: the running PresenceWatcher
BROKER_KEY = "gosd.broker"  # runtime.extras: the embedded broker this process runs, if any


async def start_broker(runtime: Runtime) -> EmbeddedBroker | None:
    """The embedded broker on mqtt_host:mqtt_port, or None when that address is taken (by another serving
    process on this host, say: the watcher then uses that process's broker)."""
    settings = runtime.settings
    broker = EmbeddedBroker(settings.mqtt_host or settings.host, settings.mqtt_port, GosdAuthority(runtime))
    try:
        await broker.start()
    except OSError as exc:
        log.error("gosd: the embedded MQTT broker is not started: %s", exc)
        return None
    return broker


async def _stop(task: asyncio.Task[None]) -> None:
    await cancel_all([task])
    with contextlib.suppress(asyncio.CancelledError):
        await task


@asynccontextmanager
async def gosd_background(runtime: Runtime) -> AsyncIterator[None]:
    """Nothing without MQTT; otherwise the broker (if embedded), then the presence watcher, until the
    process stops (watcher first, then the broker)."""
    if not enabled(runtime.settings):
        yield
        return
    async with AsyncExitStack() as stack:
        if embedded(runtime.settings):
            broker = await start_broker(runtime)
            if broker is not None:
                stack.push_async_callback(broker.stop)
                runtime.extras[BROKER_KEY] = broker
                stack.callback(runtime.extras.pop, BROKER_KEY, None)
                try:
                    went = await reset_presence(runtime)
                    if went:
                        log.info("gosd: %d nodes marked offline until they connect to the new broker", went)
                except Exception:
                    log.exception("gosd: marking the nodes offline failed")
        watcher = PresenceWatcher(runtime)
        runtime.extras[PRESENCE_KEY] = watcher
        stack.callback(runtime.extras.pop, PRESENCE_KEY, None)
        stack.push_async_callback(_stop, asyncio.create_task(watcher.run(), name="gosd-presence"))
        yield
