"""`GET /api/v2/agent`: what a node agent needs to start (`mediaplane gosd-agent`), for the node that signs in.

HTTP Basic: the username is the node id, the password the node secret (only its SHA-256 is stored). A wrong
secret, an unknown node and a node without a secret all answer the same 401, so ids cannot be probed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.kit.security import sha256_hex
from mediaplane.services.gosd import live
from mediaplane.services.gosd.deps import GosdInstance
from mediaplane.services.gosd.errors import GosdError
from mediaplane.services.gosd.models import GosdNode
from mediaplane.services.gosd.mqtt.settings import agent_broker_url, enabled
from mediaplane.services.gosd.points import type_name
from mediaplane.services.gosd.repository import NodeRepository, PointRepository
from mediaplane.services.gosd.routes import PREFIX

router = APIRouter(prefix=PREFIX, tags=["agent"])
# The live point types an agent can push over RTMP; livestream_img and the WebRTC ones cannot be ingested.
PUSHED_TYPES = frozenset({"livestream_flv", "livestream_hls"})


def node_unauthorized() -> GosdError:
    return GosdError(401, "Access Unauthorized", headers={"WWW-Authenticate": 'Basic realm="gosd node"'})


def basic_credentials(request: Request) -> tuple[int, str]:
    """(node id, secret) from `Authorization: Basic base64(id:secret)`."""
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic" or not value or len(value) > 1024:
        raise node_unauthorized()
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise node_unauthorized() from None
    user, sep, secret = decoded.partition(":")
    if not sep or not user.isdigit() or len(user) > 18 or not secret:
        raise node_unauthorized()
    return int(user), secret


Credentials = Annotated[tuple[int, str], Depends(basic_credentials)]


async def signed_in_node(instance: GosdInstance, session: SessionDep, credentials: Credentials) -> GosdNode:
    node_id, secret = credentials
    node = await NodeRepository(session).get_in(instance.id, node_id)
    # Compare even for an unknown node, so the answer takes as long either way.
    stored = node.secret_hash if node is not None and node.secret_hash else "0" * 64
    if not hmac.compare_digest(sha256_hex(secret), stored) or node is None or not node.secret_hash:
        raise node_unauthorized()
    return node


@router.get("/api/v2/agent", summary="For a node agent: its node, the MQTT broker, its points (HTTP Basic id:secret)")
async def bootstrap(
    instance: GosdInstance,
    session: SessionDep,
    runtime: RuntimeDep,
    node: Annotated[GosdNode, Depends(signed_in_node)],
    credentials: Credentials,
    response: Response,
) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"  # the publish URLs carry the secret
    settings = runtime.settings
    points = await PointRepository(session).of_nodes(instance.id, [node.id])
    listed = []
    for p in points:
        item: dict[str, Any] = {"id": p.id, "name": p.name, "type": type_name(p.point_type_id)}
        if item["type"] in PUSHED_TYPES:
            item["publish_url"] = live.publish_url(settings, p.id, credentials[1])
        listed.append(item)
    mqtt = None
    if enabled(settings):
        mqtt = {
            "url": agent_broker_url(settings),
            "username": str(node.id),
            "topic_prefix": settings.mqtt_topic_prefix,
        }
    return {
        "node": {"id": node.id, "name": node.name, "type_name": node.type_name},
        "mqtt": mqtt,
        "points": listed,
    }
