"""The relay's per-sink pieces: the GOP cache, a destination connection's output, and its clock."""

from __future__ import annotations

import random

from mediaplane.kit.rtmp import ChunkReader, Message, RetryPolicy, RtmpConnectionError, Sink
from mediaplane.kit.rtmp.amf0 import encode
from mediaplane.kit.rtmp.cache import StreamCache
from mediaplane.kit.rtmp.fanout import Output, Timeline, item
from mediaplane.kit.rtmp.media import Kind, kind_of
from mediaplane.kit.rtmp.runner import Notifier, SinkRunner

META = Message(18, 1, 0, encode("@setDataFrame", "onMetaData", {"width": 320.0}))
VCONF = Message(9, 1, 0, b"\x17\x00\x00\x00\x00config")
ACONF = Message(8, 1, 0, b"\xaf\x00\x12\x10")


def key(ts: int, size: int = 10) -> Message:
    return Message(9, 1, ts, b"\x17\x01" + b"k" * size)


def inter(ts: int, size: int = 10) -> Message:
    return Message(9, 1, ts, b"\x27\x01" + b"i" * size)


def aac(ts: int) -> Message:
    return Message(8, 1, ts, b"\xaf\x01aac")


class Counter(SinkRunner):
    async def session(self) -> None:  # never run: only the counters are used
        raise NotImplementedError


def owner() -> Counter:
    return Counter(Sink("s", "rtmp://h/a/s"), policy=RetryPolicy(), notifier=Notifier(None), rng=random.Random())


def fed(cache: StreamCache, *messages: Message) -> None:
    for message in messages:
        cache.add(message, kind_of(message))


class TestStreamCache:
    def test_headers_and_the_gop_from_the_last_key_frame(self) -> None:
        cache = StreamCache()
        fed(cache, META, VCONF, ACONF, key(0), aac(10), inter(40), key(1000), aac(1010), inter(1040))
        assert [m for m, _ in cache.headers()] == [META, VCONF, ACONF]
        assert [m for m, _ in cache.gop()] == [key(1000), aac(1010), inter(1040)]

    def test_latest_headers_win(self) -> None:
        cache = StreamCache()
        newer = Message(9, 1, 5000, b"\x17\x00\x00\x00\x00other")
        fed(cache, VCONF, newer)
        assert cache.video_config == newer

    def test_nothing_before_the_first_key_frame(self) -> None:
        cache = StreamCache()
        fed(cache, inter(0), aac(10))
        assert cache.gop() == []

    def test_bounded_by_bytes_and_by_time(self) -> None:
        by_size = StreamCache(max_bytes=100)
        fed(by_size, key(0, 50), inter(40, 60))
        assert by_size.gop() == []
        by_time = StreamCache(max_ms=1000)
        fed(by_time, key(0), inter(40), inter(1040))
        assert by_time.gop() == []
        fed(by_time, inter(1080), key(2000))
        assert [m for m, _ in by_time.gop()] == [key(2000)]

    def test_audio_only_streams_start_anywhere(self) -> None:
        cache = StreamCache()
        fed(cache, ACONF, aac(0))
        assert cache.is_sync_point(Kind.AUDIO)
        fed(cache, VCONF)
        assert not cache.is_sync_point(Kind.AUDIO) and cache.is_sync_point(Kind.VIDEO_KEY)


class Socket:
    """The connection side of an Output: what it was given, and whether it is full."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.full = False
        self.reader = ChunkReader(4096)

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def messages(self) -> list[Message]:
        data, self.writes = b"".join(self.writes), []
        return self.reader.feed(data)


def output(
    counter: Counter, socket: Socket, *, limit: int = 1000, start: tuple[Message, ...] = (), wait_for_key: bool = False
) -> Output:
    return Output(
        counter,
        write=socket.write,
        congested=lambda: socket.full,
        stream_id=7,
        chunk_size=4096,
        limit=limit,
        start=[item(m, kind_of(m), 4096) for m in start],
        wait_for_key=wait_for_key,
    )


def offer(out: Output, *messages: Message) -> None:
    for message in messages:
        kind = kind_of(message)
        out.offer(item(message, kind, 4096), kind == Kind.VIDEO_KEY)
    out.commit()


def payloads(socket: Socket) -> list[bytes]:
    return [m.payload for m in socket.messages()]


class TestOutput:
    def test_writes_each_read_at_once_on_its_own_clock(self) -> None:
        socket, counter = Socket(), owner()
        out = output(counter, socket)
        offer(out, key(90_000), aac(90_010), inter(90_040))
        assert len(socket.writes) == 1  # one write for the batch
        got = socket.messages()
        assert [(m.type_id, m.stream_id, m.timestamp) for m in got] == [(9, 7, 0), (8, 7, 10), (9, 7, 40)]
        assert counter.status == "live" and counter.frames_out == 2 and counter.bytes_out > 0

    def test_start_burst_goes_first_through_the_queue(self) -> None:
        socket, counter = Socket(), owner()
        out = output(counter, socket, start=(VCONF, key(0)))
        assert out.event.is_set() and socket.writes == []
        offer(out, aac(10), inter(40))  # queued behind the start burst
        assert socket.writes == []
        out.flush()  # the sink's task
        assert payloads(socket) == [VCONF.payload, key(0).payload, aac(10).payload, inter(40).payload]
        offer(out, inter(80))
        assert payloads(socket) == [inter(80).payload]

    def test_waits_for_a_key_frame_when_there_is_no_gop(self) -> None:
        socket, counter = Socket(), owner()
        out = output(counter, socket, wait_for_key=True)
        offer(out, inter(40), aac(50), VCONF, key(1000), aac(1010))
        assert payloads(socket) == [VCONF.payload, key(1000).payload, aac(1010).payload]
        assert counter.dropped == 0  # waiting for the first key frame is not falling behind

    def test_no_inter_frames_before_the_first_key_frame(self) -> None:
        socket = Socket()
        out = output(owner(), socket)
        offer(out, aac(0), inter(40), key(80), inter(120))
        assert payloads(socket) == [aac(0).payload, key(80).payload, inter(120).payload]

    def test_a_full_socket_queues_and_falling_behind_skips_to_the_next_key_frame(self) -> None:
        socket, counter = Socket(), owner()
        out = output(counter, socket, limit=100)
        socket.full = True
        offer(out, key(0, 40))
        assert out.blocked and len(socket.writes) == 1
        offer(out, inter(40, 40), ACONF, inter(80, 40))  # queued: 84 bytes of media
        assert len(socket.writes) == 1 and len(out.queue) == 3
        offer(out, inter(120, 40), aac(130))  # over the bound: the queued media goes, headers stay
        assert [m for m, _, _ in out.queue] == [ACONF] and counter.dropped == 4
        offer(out, key(1000, 40), inter(1040, 10))
        socket.full = False
        out.blocked = False  # drained
        out.flush()
        assert payloads(socket)[1:] == [ACONF.payload, key(1000, 40).payload, inter(1040, 10).payload]
        assert counter.dropped == 4

    def test_a_failed_write_waits_for_the_sink_task(self) -> None:
        counter = owner()

        def broken(data: bytes) -> None:
            raise RtmpConnectionError("gone")

        out = Output(counter, write=broken, congested=lambda: False, stream_id=1, chunk_size=128, limit=1000)
        offer(out, key(0))
        assert isinstance(out.error, RtmpConnectionError) and out.event.is_set()
        offer(out, inter(40))  # the source carries on; the sink's task raises the error
        assert len(out.queue) == 1


class TestBatches:
    """take() and commit(shared): what the relay calls once per read, for every destination."""

    @staticmethod
    def entries(*messages: Message) -> list[tuple[tuple[Message, Kind, bytes], bool]]:
        return [(item(m, kind_of(m), 4096), kind_of(m) == Kind.VIDEO_KEY) for m in messages]

    def test_take_is_offer_for_each_message(self) -> None:
        reads = [(key(0), aac(10), inter(40)), (inter(80), key(2000, 3000), aac(2010))]
        plain_socket, taken_socket = Socket(), Socket()
        plain, taken = output(owner(), plain_socket, limit=2000), output(owner(), taken_socket, limit=2000)
        for read in reads:
            offer(plain, *read)
            batch = self.entries(*read)
            taken.take(batch, max(len(m.payload) for m in read))
            taken.commit()
        assert taken_socket.writes == plain_socket.writes
        assert len(taken_socket.writes) == 2 and taken.owner.frames_out == plain.owner.frames_out == 4

    def test_destinations_on_the_same_clock_share_their_bytes(self) -> None:
        sockets = [Socket(), Socket(), Socket()]
        outs = [output(owner(), s) for s in sockets]
        for out in outs[:2]:
            offer(out, key(1000))
        offer(outs[2], key(1500))  # joined later: its clock starts elsewhere
        shared: list = []
        batch = self.entries(aac(2010), inter(2040))
        for out in outs:
            out.take(batch, 20)
            out.commit(shared)
        assert sockets[0].writes[-1] is sockets[1].writes[-1]  # encoded once
        assert len(shared) == 2
        assert [m.timestamp for m in sockets[1].messages()] == [0, 1010, 1040]
        assert [m.timestamp for m in sockets[2].messages()] == [0, 510, 540]
        assert outs[1].timeline.last == outs[0].timeline.last
        offer(outs[1], inter(2080))
        assert [m.timestamp for m in sockets[1].messages()] == [1080]


class TestTimeline:
    def test_starts_at_zero_with_headers_first(self) -> None:
        timeline = Timeline()
        stamps = [timeline.stamp(m, kind_of(m)) for m in (META, VCONF, key(90_000), aac(90_010), inter(90_040))]
        assert stamps == [0, 0, 0, 10, 40]

    def test_audio_slightly_before_the_first_frame_and_no_going_back(self) -> None:
        timeline = Timeline()
        stamps = [timeline.stamp(m, kind_of(m)) for m in (key(5000), aac(4980), aac(5003), inter(5040), inter(5020))]
        assert stamps == [0, 0, 3, 40, 40]

    def test_across_the_32_bit_wrap(self) -> None:
        timeline = Timeline()
        stamps = [timeline.stamp(m, kind_of(m)) for m in (key(0xFFFFFF00), inter(0xFFFFFFF0), inter(0x30))]
        assert stamps == [0, 0xF0, 0x130]
