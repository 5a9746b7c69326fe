"""The node agent (`mediaplane gosd-agent`): connects a device to a gosd instance over MQTT, with a simulated
drone and depot. It runs on devices, so it imports only light things (aiomqtt, httpx, typer, rich, stdlib).

A device integration fills a `Handlers` registry (or subclasses `Device`) and runs an `Agent`:

    handlers = Handlers()

    @handlers.method("dooropen")
    async def dooropen(params: Params) -> Any: ...

    await Agent(AgentConfig(server, node_id, secret), handlers=handlers).run(stop)
"""

from __future__ import annotations

from mediaplane.services.gosd.agent.device import Device, PlainDevice
from mediaplane.services.gosd.agent.handlers import Handlers, InvalidParams, Params, RpcError
from mediaplane.services.gosd.agent.node import Agent, AgentConfig

__all__ = ["Agent", "AgentConfig", "Device", "Handlers", "InvalidParams", "Params", "PlainDevice", "RpcError"]
