"""Snapshots with real media: two aiortc peers in their own colours; POST /rooms/:access_key/snapshot stores a JPEG of
the composed picture, its download (a signed local link, or S3's presigned URL) decodes to the tiles' colours;
observers get a snapshot_update with the new snapshot, the webhook a signed one; reading, listing, deleting."""

from __future__ import annotations

import hashlib
import hmac
import io
import re
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import numpy as np
import pytest
from PIL import Image

from mediaplane.config import Settings
from mediaplane.kit.mcu import tile_rects
from mediaplane.services.eyeson.media import media_rooms
from tests.fixtures.receiver import Receiver, webhook_receiver
from tests.fixtures.s3 import S3_ACCESS_KEY_ID, S3_REGION, S3_SECRET_ACCESS_KEY
from tests.fixtures.webrtc import BACKGROUND, GREEN, RED, Peer, centre, colour_at, forwarded, near
from tests.services.eyeson.conftest import Eyeson, connect, error_of, eyeson_settings, online
from tests.services.eyeson.test_recordings import observe

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("loopback_ice")]


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what is tested here is media."""
    return sqlite_database_url


W, H = 320, 240


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as made:
        yield made


def picture_of(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (W, H)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


async def test_a_snapshot_of_the_room(eyeson: Eyeson, peers: list[Peer], receiver: Receiver) -> None:
    eyeson.runtime.jobs.start_workers(1)
    await eyeson.ok("POST", "/webhooks", 201, key=eyeson.key, data={"url": receiver.url, "types": "snapshot_update"})
    ann = await eyeson.room("Ann", id="snap", **{"user[id]": "ann"})
    bob = await eyeson.room("Bob", id="snap", **{"user[id]": "bob"})
    for room, colour in ((ann, RED), (bob, GREEN)):
        peers.append(await connect(eyeson, Peer(colour), room["access_key"]))
    await online(eyeson, "snap", {"ann", "bob"})
    tiles = tile_rects(2, W, H)
    both = [(tiles[0], RED), (tiles[1], GREEN)]
    await peers[0].wait_for(forwarded(GREEN), within=20)  # two: nothing composed (sfu_mode ptp), a snapshot composes

    (meeting_id,) = media_rooms(eyeson.runtime).rooms
    async with observe(eyeson, meeting_id) as observer:
        snap = await eyeson.ok("POST", f"/rooms/{bob['access_key']}/snapshot", 201)
    assert re.fullmatch(r"[0-9a-f]{24}", snap["id"]) and snap["name"].isdigit()
    assert snap["creator"]["id"] == "bob" and snap["room"]["id"] == "snap" and snap["created_at"].endswith("Z")
    (event,) = observer.of("snapshot_update")
    assert [s["id"] for s in event["snapshots"]] == [snap["id"]]

    r = await eyeson.client.get(snap["links"]["download"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    picture = picture_of(r.content)
    for rect, colour in both:
        assert near(colour_at(picture, *centre(rect)), colour, tolerance=30), colour_at(picture, *centre(rect))

    (hook,) = await receiver.wait_for(["snapshot_update"])
    assert hook["snapshot"]["id"] == snap["id"] and hook["snapshot"]["creator"]["id"] == "bob"
    expected = hmac.new(eyeson.key.encode(), receiver.raw[0], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(receiver.headers[0]["x-eyeson-signature"], expected)

    by_user = await eyeson.ok("GET", f"/rooms/{ann['access_key']}/snapshots/{snap['id']}")
    by_key = await eyeson.ok("GET", f"/snapshots/{snap['id']}", key=eyeson.key)
    assert by_user["id"] == by_key["id"] == snap["id"] and by_key["links"]["download"]
    listed = await eyeson.ok("GET", "/rooms/snap/snapshots", key=eyeson.key)
    assert [s["id"] for s in listed] == [snap["id"]]
    forged = snap["links"]["download"].replace("signature=", "signature=f")
    assert error_of(await eyeson.client.get(forged))[0] == 403

    await eyeson.ok("DELETE", f"/snapshots/{snap['id']}", key=eyeson.key)
    assert error_of(await eyeson.request("GET", f"/snapshots/{snap['id']}", key=eyeson.key))[0] == 404
    assert error_of(await eyeson.client.get(snap["links"]["download"]))[0] == 404
    assert await eyeson.ok("GET", "/rooms/snap/snapshots", key=eyeson.key) == []


async def test_snapshot_rules(eyeson: Eyeson) -> None:
    one = await eyeson.room("Ann", id="one")
    other = await eyeson.room("Bob", id="other")
    snap = await eyeson.ok("POST", f"/rooms/{one['access_key']}/snapshot", 201)
    path = f"/snapshots/{snap['id']}"
    assert error_of(await eyeson.request("GET", f"/rooms/{other['access_key']}{path}"))[0] == 404
    assert error_of(await eyeson.request("GET", path))[0] == 401
    assert error_of(await eyeson.request("DELETE", path))[0] == 401
    assert error_of(await eyeson.request("POST", "/rooms/nosuchaccesskey0000000000/snapshot"))[0] == 404
    assert error_of(await eyeson.request("GET", "/rooms/nosuchroom/snapshots", key=eyeson.key))[0] == 404
    assert error_of(await eyeson.request("GET", f"{path}/download?expires=99999999999&signature=00"))[0] == 403
    await eyeson.ok("DELETE", f"/rooms/{one['access_key']}", 204)
    assert error_of(await eyeson.request("POST", f"/rooms/{one['access_key']}/snapshot"))[0] == 410
    assert error_of(await eyeson.request("GET", f"/rooms/{one['access_key']}{path}"))[0] == 410
    # The meeting ended; its snapshot stays, found by the API key.
    assert (await eyeson.ok("GET", path, key=eyeson.key))["room"]["shutdown"] is True


class TestOnS3:
    @pytest.fixture
    def settings(self, tmp_path: Path, database_url: str, s3_server: str) -> Settings:
        return eyeson_settings(
            tmp_path,
            database_url,
            storage="s3",
            s3_endpoint=s3_server,
            s3_bucket=f"eyeson-{uuid4().hex[:12]}",
            s3_region=S3_REGION,
            s3_access_key_id=S3_ACCESS_KEY_ID,
            s3_secret_access_key=S3_SECRET_ACCESS_KEY,
        )

    async def test_the_download_is_the_buckets_presigned_url(self, eyeson: Eyeson, s3_server: str) -> None:
        room = await eyeson.room("Ann", id="bucket")
        snap = await eyeson.ok("POST", f"/rooms/{room['access_key']}/snapshot", 201)
        url = snap["links"]["download"]
        assert url.startswith(s3_server) and "Signature=" in url, url
        async with httpx.AsyncClient() as plain:
            r = await plain.get(url)
        assert r.status_code == 200, r.text
        picture = picture_of(r.content)
        assert near(colour_at(picture, W // 2, H // 2), BACKGROUND, tolerance=20)
