"""`GET {server}/api/v2/agent` with the node's id and secret (HTTP Basic): the node, the broker, the points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class BootstrapError(Exception):
    """The server could not be asked (down, unreachable, an odd answer): worth trying again later."""


class Refused(BootstrapError):
    """The server refused the node id or secret: trying again will not help."""


@dataclass(frozen=True)
class Point:
    id: int
    name: str
    type: str
    publish_url: str | None = None  # rtmp://…/gosd/<point id>?secret=… for the live points the agent pushes


@dataclass(frozen=True)
class Bootstrap:
    node_id: int
    name: str
    type_name: str
    mqtt_url: str | None  # None: the server has no broker (then --mqtt must say where one is)
    mqtt_username: str
    topic_prefix: str
    points: tuple[Point, ...]


def agent_url(server: str) -> str:
    """The bootstrap URL of the instance whose gosd base URL (…/gosd) is `server`."""
    return f"{server.rstrip('/')}/api/v2/agent"


def parse(body: Any) -> Bootstrap:
    try:
        node = body["node"]
        mqtt = body.get("mqtt") or {}
        points = tuple(
            Point(int(p["id"]), str(p["name"]), str(p["type"]), p.get("publish_url") or None) for p in body["points"]
        )
        return Bootstrap(
            node_id=int(node["id"]),
            name=str(node["name"]),
            type_name=str(node["type_name"]),
            mqtt_url=mqtt.get("url") or None,
            mqtt_username=str(mqtt.get("username") or node["id"]),
            topic_prefix=str(mqtt.get("topic_prefix") or ""),
            points=points,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BootstrapError(f"the server's answer is not a node agent bootstrap: {exc!r}") from exc


async def fetch(server: str, node_id: int, secret: str, *, wait: float = 10.0) -> Bootstrap:
    """`wait`: seconds for each step of the request (connect, read)."""
    url = agent_url(server)
    try:
        async with httpx.AsyncClient(timeout=wait, auth=(str(node_id), secret)) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        raise BootstrapError(f"{url}: {exc or type(exc).__name__}") from exc
    if response.status_code in (401, 403):
        raise Refused(f"{url}: the server refused node {node_id} and its secret ({response.status_code})")
    if response.status_code == 404:
        raise Refused(f"{url}: not found; --server is the instance's gosd base URL (…/gosd/<tenant>-<name>/gosd)")
    if response.status_code != 200:
        raise BootstrapError(f"{url}: HTTP {response.status_code} {response.text[:200]}")
    try:
        body = response.json()
    except ValueError as exc:
        raise BootstrapError(f"{url}: the answer is not JSON") from exc
    return parse(body)
