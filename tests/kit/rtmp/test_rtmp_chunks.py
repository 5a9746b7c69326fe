from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediaplane.kit.rtmp import ChunkReader, ChunkWriter, Message, RtmpProtocolError, encode_message


def basic(fmt: int, csid: int) -> bytes:
    if csid < 64:
        return bytes((fmt << 6 | csid,))
    if csid < 320:
        return bytes((fmt << 6, csid - 64))
    return bytes((fmt << 6 | 1, (csid - 64) & 0xFF, (csid - 64) >> 8))


def u24(value: int) -> bytes:
    return value.to_bytes(3, "big")


def fmt0(csid: int, ts: int, length: int, type_id: int, stream_id: int) -> bytes:
    field = min(ts, 0xFFFFFF)
    header = basic(0, csid) + u24(field) + u24(length) + bytes((type_id,)) + struct.pack("<I", stream_id)
    return header + (struct.pack(">I", ts) if field == 0xFFFFFF else b"")


def fmt1(csid: int, delta: int, length: int, type_id: int) -> bytes:
    field = min(delta, 0xFFFFFF)
    header = basic(1, csid) + u24(field) + u24(length) + bytes((type_id,))
    return header + (struct.pack(">I", delta) if field == 0xFFFFFF else b"")


def fmt2(csid: int, delta: int) -> bytes:
    return basic(2, csid) + u24(delta)


def feed_bytewise(reader: ChunkReader, data: bytes) -> list[Message]:
    out: list[Message] = []
    for i in range(len(data)):
        out += reader.feed(data[i : i + 1])
    return out


class TestReader:
    def test_one_message_in_one_chunk(self) -> None:
        data = fmt0(3, 1000, 5, 20, 0) + b"hello"
        assert ChunkReader().feed(data) == [Message(20, 0, 1000, b"hello")]

    def test_a_message_across_chunks_and_calls(self) -> None:
        payload = bytes(range(256)) + b"xyz"
        data = fmt0(6, 40, len(payload), 9, 1) + payload[:128] + basic(3, 6) + payload[128:256]
        data += basic(3, 6) + payload[256:]
        reader = ChunkReader()
        assert feed_bytewise(reader, data) == [Message(9, 1, 40, payload)]
        assert reader.buffered == 0

    def test_formats_1_2_3_reuse_the_previous_header(self) -> None:
        """The specification's example 1: audio messages with a constant delta."""
        data = fmt0(4, 1000, 3, 8, 1) + b"aaa"
        data += fmt2(4, 20) + b"bbb"  # same length and type, delta 20
        data += basic(3, 4) + b"ccc"  # everything as before, delta 20 again
        data += fmt1(4, 30, 2, 9) + b"dd"  # new length and type, delta 30
        data += basic(3, 4) + b"ee"
        assert ChunkReader().feed(data) == [
            Message(8, 1, 1000, b"aaa"),
            Message(8, 1, 1020, b"bbb"),
            Message(8, 1, 1040, b"ccc"),
            Message(9, 1, 1070, b"dd"),
            Message(9, 1, 1100, b"ee"),
        ]

    def test_format_3_after_format_0_repeats_the_timestamp_as_delta(self) -> None:
        """As FFmpeg and nginx-rtmp read it: the delta of a type 0 header is its timestamp."""
        data = fmt0(4, 10, 1, 8, 1) + b"a" + basic(3, 4) + b"b"
        assert [m.timestamp for m in ChunkReader().feed(data)] == [10, 20]

    def test_a_message_across_chunks_in_one_read(self) -> None:
        payload = bytes(range(256)) * 3
        reader = ChunkReader()
        data = encode_message(Message(9, 1, 40, payload), 128, 6) + encode_message(Message(8, 1, 41, b"a"), 128, 4)
        assert reader.feed(data + b"\x06") == [Message(9, 1, 40, payload), Message(8, 1, 41, b"a")]
        assert reader.buffered == 1

    def test_chunk_streams_interleave(self) -> None:
        video = b"V" * 200
        data = fmt0(6, 0, 200, 9, 1) + video[:128]
        data += fmt0(4, 5, 3, 8, 1) + b"aud"
        data += basic(3, 6) + video[128:]
        assert ChunkReader().feed(data) == [Message(8, 1, 5, b"aud"), Message(9, 1, 0, video)]

    def test_two_and_three_byte_chunk_stream_ids(self) -> None:
        data = fmt0(100, 1, 1, 8, 1) + b"a" + fmt0(40000, 2, 1, 9, 1) + b"v"
        data += fmt2(100, 1) + b"b" + basic(3, 40000) + b"w"
        assert feed_bytewise(ChunkReader(), data) == [
            Message(8, 1, 1, b"a"),
            Message(9, 1, 2, b"v"),
            Message(8, 1, 2, b"b"),
            Message(9, 1, 4, b"w"),
        ]

    def test_extended_timestamp_in_every_chunk_of_a_message(self) -> None:
        ts = 0x01234567
        payload = b"x" * 300
        data = fmt0(6, ts, 300, 9, 1) + payload[:128]
        data += basic(3, 6) + struct.pack(">I", ts) + payload[128:256]
        data += basic(3, 6) + struct.pack(">I", ts) + payload[256:]
        assert feed_bytewise(ChunkReader(), data) == [Message(9, 1, ts, payload)]

    def test_extended_timestamp_left_out_of_continuation_chunks(self) -> None:
        """Some encoders do not repeat it; the 4 bytes are payload then."""
        ts = 0x01000000
        payload = b"y" * 200
        data = fmt0(6, ts, 200, 9, 1) + payload[:128] + basic(3, 6) + payload[128:]
        assert ChunkReader().feed(data) == [Message(9, 1, ts, payload)]

    def test_extended_delta(self) -> None:
        data = fmt0(4, 5, 1, 8, 1) + b"a" + fmt1(4, 0x1000000, 1, 8) + b"b"
        data += basic(3, 4) + struct.pack(">I", 0x1000000) + b"c"  # a new message repeats the extended delta
        assert [m.timestamp for m in ChunkReader().feed(data)] == [5, 5 + 0x1000000, 5 + 0x2000000]

    def test_timestamps_wrap_at_32_bits(self) -> None:
        data = fmt0(4, 0xFFFFFFF0, 1, 8, 1) + b"a" + fmt2(4, 0x20) + b"b"
        assert [m.timestamp for m in ChunkReader().feed(data)] == [0xFFFFFFF0, 0x10]

    def test_set_chunk_size_from_the_peer_applies_to_what_follows(self) -> None:
        payload = b"z" * 1000
        data = fmt0(2, 0, 4, 1, 0) + struct.pack(">I", 4096)
        data += fmt0(6, 0, 1000, 9, 1) + payload  # one chunk now
        reader = ChunkReader()
        messages = reader.feed(data)
        assert reader.chunk_size == 4096
        assert messages == [Message(1, 0, 0, struct.pack(">I", 4096)), Message(9, 1, 0, payload)]

    def test_abort_discards_a_partial_message(self) -> None:
        data = fmt0(6, 0, 200, 9, 1) + b"p" * 128
        data += fmt0(2, 0, 4, 2, 0) + struct.pack(">I", 6)  # Abort chunk stream 6
        data += fmt0(6, 40, 3, 9, 1) + b"new"
        messages = ChunkReader().feed(data)
        assert messages[-1] == Message(9, 1, 40, b"new")
        assert all(m.type_id != 9 or m.payload == b"new" for m in messages)

    def test_empty_message(self) -> None:
        assert ChunkReader().feed(fmt0(3, 0, 0, 20, 0)) == [Message(20, 0, 0, b"")]

    @pytest.mark.parametrize(
        "data",
        [
            fmt1(4, 1, 1, 8) + b"a",  # a chunk stream that starts without a type 0 header
            fmt0(6, 0, 200, 9, 1) + b"p" * 128 + fmt0(6, 0, 1, 9, 1) + b"q",  # a new header mid-message
            fmt0(6, 0, 0xFFFFFF, 9, 1),  # larger than allowed
            fmt0(2, 0, 4, 1, 0) + b"\x00\x00\x00\x00",  # chunk size 0
        ],
    )
    def test_protocol_errors(self, data: bytes) -> None:
        with pytest.raises(RtmpProtocolError):
            ChunkReader(max_message_size=1 << 20).feed(data)


class TestWriter:
    def test_type_0_then_type_3(self) -> None:
        payload = b"a" * 10
        assert encode_message(Message(9, 1, 40, payload), 4, 6) == (
            fmt0(6, 40, 10, 9, 1) + b"aaaa" + basic(3, 6) + b"aaaa" + basic(3, 6) + b"aa"
        )

    def test_extended_timestamp_in_every_chunk(self) -> None:
        """What FFmpeg writes, and nginx-rtmp reads."""
        ts = 0x12345678
        data = encode_message(Message(8, 1, ts, b"abcdef"), 4, 4)
        ext = struct.pack(">I", ts)
        assert data == fmt0(4, ts, 6, 8, 1) + b"abcd" + basic(3, 4) + ext + b"ef"

    def test_large_chunk_stream_ids(self) -> None:
        data = encode_message(Message(8, 1, 0, b"a"), 128, 300)
        assert data[:2] == bytes((0, 300 - 64))
        data = encode_message(Message(8, 1, 0, b"a"), 128, 1000)
        assert data[:3] == bytes((1, (1000 - 64) & 0xFF, (1000 - 64) >> 8))
        with pytest.raises(ValueError):
            encode_message(Message(8, 1, 0, b"a"), 128, 1)

    def test_writer_keeps_its_chunk_size(self) -> None:
        writer = ChunkWriter(4096)
        data = writer.encode(Message(9, 1, 0, b"v" * 5000), 6)
        assert data.count(basic(3, 6)) >= 1
        reader = ChunkReader(4096)
        assert reader.feed(data) == [Message(9, 1, 0, b"v" * 5000)]


messages = st.builds(
    Message,
    type_id=st.sampled_from([8, 9, 18, 20]),
    stream_id=st.integers(0, 5),
    timestamp=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=700),
)


@settings(max_examples=60)
@given(st.lists(messages, max_size=8), st.sampled_from([1, 7, 128, 4096]), st.integers(1, 97), st.data())
def test_write_then_read_round_trip(items: list[Message], chunk_size: int, step: int, data: st.DataObject) -> None:
    csids = [data.draw(st.sampled_from([2, 3, 63, 64, 319, 320, 65599])) for _ in items]
    wire = b"".join(encode_message(m, chunk_size, csid) for m, csid in zip(items, csids, strict=True))
    reader = ChunkReader(chunk_size)
    out: list[Message] = []
    for i in range(0, len(wire), step):
        out += reader.feed(wire[i : i + step])
    assert out == items


@settings(max_examples=60)
@given(st.lists(messages, max_size=8), st.sampled_from([1, 7, 128, 4096]), st.data())
def test_whole_messages_in_one_read(items: list[Message], chunk_size: int, data: st.DataObject) -> None:
    """Every message's chunks back to back in one read: put together in one go (interleaved ones too)."""
    csids = [data.draw(st.sampled_from([2, 3, 63, 64, 320])) for _ in items]
    wire = b"".join(encode_message(m, chunk_size, csid) for m, csid in zip(items, csids, strict=True))
    reader = ChunkReader(chunk_size)
    assert reader.feed(wire) == items
    assert reader.buffered == 0
