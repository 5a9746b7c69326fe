"""RtmpConnection against real nginx-rtmp (and a scripted server for the corners nginx does not show)."""

from __future__ import annotations

import asyncio
import itertools
import ssl
from pathlib import Path

import pytest
from kit_rtmp_support import NginxRtmp, Proxy, ScriptedServer, flv_messages, make_flv
from tests.fixtures.servers import free_port
from tests.fixtures.tls import self_signed

from mediaplane.kit.rtmp import Message, RtmpConnection, RtmpConnectionError, RtmpError
from mediaplane.kit.rtmp.amf0 import decode, encode
from mediaplane.kit.rtmp.client import FLASH_VERSION


async def publish_file(conn: RtmpConnection, messages: list[Message]) -> None:
    """What an encoder sends: metadata as @setDataFrame, then the audio and video tags."""
    for message in messages:
        payload = encode("@setDataFrame") + message.payload if message.type_id == 18 else message.payload
        conn.send(Message(message.type_id, conn.stream_id, message.timestamp, payload))
        await conn.drain()


async def read_all(conn: RtmpConnection) -> list[Message]:
    received = []
    while (message := await conn.read()) is not None:
        received.append(message)
    return received


class TestThroughNginx:
    async def test_publish_and_play(self, nginx: NginxRtmp, tmp_path: Path) -> None:
        sent = flv_messages(make_flv(tmp_path / "in.flv", seconds=2))
        player = await RtmpConnection.open(nginx.url("live", "key"))
        await player.play()  # nginx lets a player wait for the publisher
        reading = asyncio.create_task(read_all(player))

        publisher = await RtmpConnection.open(nginx.url("live", "key"))
        assert publisher.server_info["code"] == "NetConnection.Connect.Success"
        assert await publisher.publish() >= 1
        await publish_file(publisher, sent)
        await asyncio.sleep(0.2)
        await publisher.close()

        received = await asyncio.wait_for(reading, 20)
        assert player.end_reason == "StreamEOF"  # nginx-rtmp's word that the publisher left
        await player.close()
        video_sent = [(m.timestamp, m.payload) for m in sent if m.type_id == 9]
        video_received = [(m.timestamp, m.payload) for m in received if m.type_id == 9]
        assert video_received == video_sent
        audio_sent = [m.payload for m in sent if m.type_id == 8]
        assert [m.payload for m in received if m.type_id == 8] == audio_sent
        metadata = [decode(m.payload) for m in received if m.type_id == 18]
        assert any(values[0] == "onMetaData" and values[1]["width"] == 320.0 for values in metadata)

    async def test_a_second_publisher_is_refused(self, nginx: NginxRtmp) -> None:
        first = await RtmpConnection.open(nginx.url("live", "taken"))
        await first.publish()
        second = await RtmpConnection.open(nginx.url("live", "taken"))
        try:
            with pytest.raises(RtmpError) as caught:
                await second.publish()
            assert caught.value.rtmp_code == "NetStream.Publish.BadName"
            assert "BadName" in str(caught.value)
        finally:
            await second.close()
            await first.close()

    async def test_unknown_application(self, nginx: NginxRtmp) -> None:
        with pytest.raises(RtmpError):
            conn = await RtmpConnection.open(nginx.url("nope", "key"))
            await conn.play(wait=5)

    async def test_rtmps_through_a_tls_proxy(self, nginx: NginxRtmp, tmp_path: Path) -> None:
        cert, key = self_signed(tmp_path)
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_tls.load_cert_chain(cert, key)
        proxy = await Proxy(nginx.port, tls=server_tls).start()
        url = f"rtmps://127.0.0.1:{proxy.port}/live/tls"
        try:
            with pytest.raises(RtmpConnectionError, match=r"TLS|certificate"):
                await RtmpConnection.open(url)  # the system's trust store knows nothing of this certificate
            trusting = ssl.create_default_context(cafile=str(cert))
            publisher = await RtmpConnection.open(url, ssl_context=trusting)
            await publisher.publish()
            player = await RtmpConnection.open(nginx.url("live", "tls"))
            await player.play()
            publisher.send(Message(9, publisher.stream_id, 0, b"\x17\x00\x00\x00\x00\x01\x42"))
            publisher.send(Message(9, publisher.stream_id, 40, b"\x17\x01\x00\x00\x00frame"))
            await publisher.drain()
            message = await asyncio.wait_for(player.read(), 10)
            while message is not None and message.type_id != 9:
                message = await asyncio.wait_for(player.read(), 10)
            assert message is not None and message.payload.startswith(b"\x17\x00")
            await publisher.close()
            await player.close()
        finally:
            await proxy.close()


class TestScripted:
    async def test_connect_refused_by_the_server(self) -> None:
        server = await ScriptedServer(
            connect_error={"level": "error", "code": "NetConnection.Connect.Rejected", "description": "bad app"}
        ).start()
        try:
            with pytest.raises(RtmpError) as caught:
                await RtmpConnection.open(server.url())
            assert caught.value.rtmp_code == "NetConnection.Connect.Rejected"
            assert caught.value.description == "bad app"
        finally:
            await server.close()

    async def test_connect_command(self) -> None:
        server = await ScriptedServer().start()
        try:
            conn = await RtmpConnection.open(server.url("live2", "secret?x=1"), chunk_size=8192)
            await conn.publish()
            await conn.close()
            await asyncio.sleep(0.1)
        finally:
            await server.close()
        assert server.received[0].type_id == 1 and server.received[0].payload == (8192).to_bytes(4, "big")
        commands = server.commands()
        assert commands[0] == [
            "connect",
            1.0,
            {
                "app": "live2",
                "type": "nonprivate",
                "flashVer": FLASH_VERSION,
                "tcUrl": f"rtmp://127.0.0.1:{server.port}/live2",
            },
        ]
        names = [c[0] for c in commands]
        assert names[:5] == ["connect", "releaseStream", "FCPublish", "createStream", "publish"]
        assert commands[4][3:] == ["secret?x=1", "live"]
        assert names[-2:] == ["FCUnpublish", "deleteStream"]

    async def test_bad_name_status(self) -> None:
        server = await ScriptedServer(publish_status="NetStream.Publish.BadName").start()
        try:
            conn = await RtmpConnection.open(server.url())
            with pytest.raises(RtmpError) as caught:
                await conn.publish()
            assert caught.value.rtmp_code == "NetStream.Publish.BadName"
            await conn.close()
        finally:
            await server.close()

    async def test_acknowledgements_pings_and_the_end(self) -> None:
        frame = Message(9, 1, 0, b"\x27\x01" + b"v" * 3000)
        media = [Message(9, 1, 40 * i, frame.payload) for i in range(20)]
        server = await ScriptedServer(window=10_000, ping=1234, media=media, end_with="NetStream.Play.Stop").start()
        try:
            conn = await RtmpConnection.open(server.url())
            await conn.play()
            received = await asyncio.wait_for(read_all(conn), 10)
            assert conn.end_reason == "NetStream.Play.Stop"
            await conn.close()
            await asyncio.sleep(0.1)
        finally:
            await server.close()
        assert [m.timestamp for m in received] == [m.timestamp for m in media]
        acks = [int.from_bytes(m.payload, "big") for m in server.received if m.type_id == 3]
        # Never a whole window (10 KB) of the 60 KB of media left unacknowledged, never more often than half of one.
        assert acks and acks[-1] >= 60_000 - 10_000
        assert all(later - earlier >= 5_000 for earlier, later in itertools.pairwise(acks))
        pongs = [m.payload for m in server.received if m.type_id == 4 and m.payload[:2] == b"\x00\x07"]
        assert pongs == [b"\x00\x07" + (1234).to_bytes(4, "big")]

    async def test_nothing_listening(self) -> None:
        with pytest.raises(RtmpConnectionError, match="cannot connect"):
            await RtmpConnection.open(f"rtmp://127.0.0.1:{free_port()}/live/key")
