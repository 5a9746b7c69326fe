"""Where the broker is, for the platform and for node agents, and the topic names of upstream §2.6."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from mediaplane.config import Settings
from mediaplane.kit.security import derive_key

CLOUD_USER = "mediaplane"
"""The platform's own user on the embedded broker (its password is derived from the secret key)."""


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False


def parse_mqtt_url(url: str) -> BrokerAddress:
    """mqtt://[user[:password]@]host[:port] (1883) or mqtts://… (8883)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError(f"not an MQTT URL: {url!r} (mqtt://host:port)")
    tls = parts.scheme in ("mqtts", "ssl")
    return BrokerAddress(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


def embedded(settings: Settings) -> bool:
    """Whether serve runs the broker itself (no external broker configured)."""
    return not settings.mqtt_url and settings.mqtt_enabled


def enabled(settings: Settings) -> bool:
    return bool(settings.mqtt_url) or settings.mqtt_enabled


def cloud_password(settings: Settings) -> str:
    return derive_key(settings.secret, "gosd-mqtt-cloud").hex()


def cloud_address(settings: Settings) -> BrokerAddress:
    """How the platform's processes (API, workers) reach the broker, with the platform's credentials."""
    if settings.mqtt_url:
        return parse_mqtt_url(settings.mqtt_url)
    host = settings.mqtt_host or settings.host
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return BrokerAddress(host, settings.mqtt_port, CLOUD_USER, cloud_password(settings))


def agent_broker_url(settings: Settings) -> str:
    """What node agents are told to connect to (their user is the node id, their password the node secret)."""
    if settings.mqtt_public_url:
        return settings.mqtt_public_url.rstrip("/")
    address = cloud_address(settings)
    if settings.mqtt_url:
        return f"{'mqtts' if address.tls else 'mqtt'}://{address.host}:{address.port}"
    host = settings.mqtt_host or settings.host
    if host in ("0.0.0.0", "::"):
        host = urlsplit(settings.base_url).hostname or "127.0.0.1"
    return f"mqtt://{host}:{settings.mqtt_port}"


class Topics:
    """gosd's topic names, after the deployment's prefix."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def node(self, node_id: int | str, leaf: str) -> str:
        return f"{self.prefix}nodes/{node_id}/{leaf}"

    def status(self, node_id: int | str) -> str:
        return self.node(node_id, "status")

    def network(self, node_id: int | str) -> str:
        return self.node(node_id, "network")

    def msg(self, node_id: int | str, key: str) -> str:
        return self.node(node_id, f"msg/{key}")

    def rpc_send(self, node_id: int | str) -> str:
        return self.node(node_id, "rpc/send")

    def rpc_recv(self, node_id: int | str) -> str:
        return self.node(node_id, "rpc/recv")

    def node_of(self, topic: str) -> tuple[int, str] | None:
        """(node id, the rest) of a node topic, or None."""
        if not topic.startswith(f"{self.prefix}nodes/"):
            return None
        rest = topic[len(self.prefix) + len("nodes/") :]
        node, _, leaf = rest.partition("/")
        return (int(node), leaf) if node.isdigit() and leaf else None
