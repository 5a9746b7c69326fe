"""The node's topics (upstream §2.6), after the deployment's prefix. The server's `mqtt.settings.Topics` has the
same names; this copy keeps the device side free of the server's settings (a test checks they agree)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NodeTopics:
    node_id: int
    prefix: str = ""

    def leaf(self, name: str) -> str:
        return f"{self.prefix}nodes/{self.node_id}/{name}"

    @property
    def status(self) -> str:
        return self.leaf("status")

    @property
    def network(self) -> str:
        return self.leaf("network")

    @property
    def rpc_send(self) -> str:
        return self.leaf("rpc/send")

    @property
    def rpc_recv(self) -> str:
        return self.leaf("rpc/recv")

    @property
    def ping(self) -> str:
        """The agent's own echo topic: the round trip through the broker gives `network.delay` and `loss`."""
        return self.leaf("ping")

    def msg(self, key: str) -> str:
        return self.leaf(f"msg/{key}")
