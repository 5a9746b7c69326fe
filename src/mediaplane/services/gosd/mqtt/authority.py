"""Who may use the embedded broker: the platform (every topic) and each node (only its own topics)."""

from __future__ import annotations

import hmac

from sqlalchemy import select

from mediaplane.core.runtime import Runtime
from mediaplane.kit.mqtt import Action, Principal, allowed_by_roots
from mediaplane.kit.security import sha256_hex
from mediaplane.services.gosd.models import GosdNode
from mediaplane.services.gosd.mqtt.settings import CLOUD_USER, Topics, cloud_password

MAX_NODE_ID = 2**31 - 1  # node ids are 32-bit integers in the database
NO_SECRET = "0" * 64


def node_id_of(username: str) -> int | None:
    """The node id a username names: a decimal number as written by str(id), else None."""
    if not username.isascii() or not username.isdigit() or len(username) > 10:
        return None
    node_id = int(username)
    return node_id if str(node_id) == username and 0 < node_id <= MAX_NODE_ID else None


class GosdAuthority:
    """The platform signs in as CLOUD_USER; a node as its id with its secret, checked against the database on
    every CONNECT (so a rotated secret or a deleted node stops working at the next connection)."""

    def __init__(self, runtime: Runtime) -> None:
        self.db = runtime.db
        self.topics = Topics(runtime.settings.mqtt_topic_prefix)
        self._cloud_password = cloud_password(runtime.settings).encode()

    async def authenticate(self, client_id: str, username: str, password: str) -> Principal | None:
        if username == CLOUD_USER:
            return Principal(CLOUD_USER) if hmac.compare_digest(password.encode(), self._cloud_password) else None
        node_id = node_id_of(username)
        if node_id is None or not password:
            return None
        async with self.db.session() as session:
            secret_hash = await session.scalar(select(GosdNode.secret_hash).where(GosdNode.id == node_id))
        # Compared even for a node without a secret, so the time taken does not tell which ids exist.
        stored = (secret_hash or NO_SECRET).encode()
        if not hmac.compare_digest(sha256_hex(password).encode(), stored) or not secret_hash:
            return None
        return Principal(username, roots=(self.topics.node(node_id, ""),))

    def allowed(self, principal: Principal, action: Action, topic: str) -> bool:
        return allowed_by_roots(principal, topic)
