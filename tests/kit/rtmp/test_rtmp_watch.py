"""Readers of a relayed stream in this process (kit.rtmp.watch) and the FLV they make (kit.rtmp.flv)."""

from __future__ import annotations

from mediaplane.kit.rtmp import Message
from mediaplane.kit.rtmp.amf0 import decode, encode
from mediaplane.kit.rtmp.flv import FlvWriter, file_header, tag
from mediaplane.kit.rtmp.media import Kind, kind_of
from mediaplane.kit.rtmp.watch import Watcher

META = Message(18, 1, 0, encode("@setDataFrame", "onMetaData", {"width": 320.0, "videocodecid": 7.0}))
VCONF = Message(9, 1, 0, b"\x17\x00\x00\x00\x00config")
ACONF = Message(8, 1, 0, b"\xaf\x00\x12\x10")


def key(ts: int, size: int = 10) -> Message:
    return Message(9, 1, ts, b"\x17\x01" + b"k" * size)


def inter(ts: int, size: int = 10) -> Message:
    return Message(9, 1, ts, b"\x27\x01" + b"i" * size)


def aac(ts: int) -> Message:
    return Message(8, 1, ts, b"\xaf\x01aac")


def offer(watcher: Watcher, *messages: Message) -> None:
    for message in messages:
        kind = kind_of(message)
        watcher.offer(message, kind, kind == Kind.VIDEO_KEY)
    watcher.wake()


def tags(data: bytes) -> list[tuple[int, int, bytes]]:
    found, offset = [], 13
    while offset < len(data):
        size = int.from_bytes(data[offset + 1 : offset + 4], "big")
        stamp = int.from_bytes(data[offset + 4 : offset + 7], "big") | data[offset + 7] << 24
        found.append((data[offset], stamp, data[offset + 11 : offset + 11 + size]))
        assert int.from_bytes(data[offset + 11 + size : offset + 15 + size], "big") == 11 + size
        offset += 15 + size
    return found


class TestWatcher:
    async def test_starts_with_what_the_relay_holds_then_follows(self) -> None:
        watcher = Watcher()
        watcher.begin([(META, Kind.DATA), (VCONF, Kind.VIDEO_CONFIG), (key(0), Kind.VIDEO_KEY)], wait_for_key=False)
        offer(watcher, inter(40), aac(50))
        assert [m for m, _ in await watcher.next_batch()] == [META, VCONF, key(0), inter(40), aac(50)]
        watcher.close()
        assert await watcher.next_batch() == []

    async def test_waits_for_a_key_frame_when_joining_without_a_gop(self) -> None:
        watcher = Watcher()
        watcher.begin([(VCONF, Kind.VIDEO_CONFIG)], wait_for_key=True)
        offer(watcher, inter(40), aac(50), key(80), inter(120))
        assert [m for m, _ in await watcher.next_batch()] == [VCONF, key(80), inter(120)]

    async def test_a_reader_behind_skips_to_the_next_key_frame(self) -> None:
        watcher = Watcher(limit=100)
        watcher.begin([(VCONF, Kind.VIDEO_CONFIG)], wait_for_key=False)
        offer(watcher, key(0, 40), inter(40, 40), inter(80, 40), inter(120, 40), key(160, 40), inter(200, 40))
        assert [m for m, _ in await watcher.next_batch()] == [VCONF, key(160, 40), inter(200, 40)]
        assert watcher.dropped == 2


class TestFlvWriter:
    def test_header_metadata_and_tags_from_the_first_key_frame(self) -> None:
        writer = FlvWriter()
        assert writer.write([(META, Kind.DATA), (VCONF, Kind.VIDEO_CONFIG), (ACONF, Kind.AUDIO_CONFIG)]) == b""
        data = writer.write([(key(5000), Kind.VIDEO_KEY), (aac(5010), Kind.AUDIO), (inter(5040), Kind.VIDEO)])
        assert data[:13] == file_header(audio=True, video=True) == b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"
        found = tags(data)
        assert [(t, stamp) for t, stamp, _ in found] == [(18, 0), (9, 0), (8, 0), (9, 0), (8, 10), (9, 40)]
        assert decode(found[0][2])[0] == "onMetaData"  # @setDataFrame taken off, as in an FLV file
        more = writer.write([(inter(5080), Kind.VIDEO)])
        assert tags(b"\x00" * 13 + more) == [(9, 80, inter(5080).payload)]

    def test_media_before_the_first_key_frame_is_left_out(self) -> None:
        writer = FlvWriter()
        data = writer.write([(VCONF, Kind.VIDEO_CONFIG), (aac(977), Kind.AUDIO), (ACONF, Kind.AUDIO_CONFIG)])
        data += writer.write([(aac(1000), Kind.AUDIO), (key(1000), Kind.VIDEO_KEY), (aac(1023), Kind.AUDIO)])
        assert [(t, stamp) for t, stamp, _ in tags(data)] == [(9, 0), (8, 0), (9, 0), (8, 23)]

    def test_video_only_header_and_extended_timestamps(self) -> None:
        writer = FlvWriter()
        data = writer.write([(VCONF, Kind.VIDEO_CONFIG), (key(0), Kind.VIDEO_KEY)])
        assert data[4] == 0x01  # video, no audio
        assert tag(9, 0x12345678, b"ab")[4:8] == b"\x34\x56\x78\x12"
