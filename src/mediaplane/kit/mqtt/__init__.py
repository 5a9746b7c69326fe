"""An embedded MQTT 3.1.1 broker whose clients are checked by an Authority:

    class Nodes:
        async def authenticate(self, client_id, username, password) -> Principal | None: ...
        def allowed(self, principal, action, topic) -> bool: ...

    async with EmbeddedBroker("127.0.0.1", 1884, Nodes()) as broker:
        ...

A :class:`Principal` with `roots` may use only the topics under them (`allowed_by_roots`).
"""

from __future__ import annotations

from mediaplane.kit.mqtt.broker import Action, Authority, EmbeddedBroker, Principal, allowed_by_roots, within

__all__ = ["Action", "Authority", "EmbeddedBroker", "Principal", "allowed_by_roots", "within"]
