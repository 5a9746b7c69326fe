from __future__ import annotations

import pytest

from mediaplane.kit.rtmp import Message
from mediaplane.kit.rtmp.amf0 import EcmaArray, decode, encode
from mediaplane.kit.rtmp.media import (
    Kind,
    audio_codec,
    is_metadata,
    kind_of,
    metadata_fields,
    publishable_data,
    split_aggregate,
    video_codec,
)


def video(payload: bytes) -> Message:
    return Message(9, 1, 0, payload)


def audio(payload: bytes) -> Message:
    return Message(8, 1, 0, payload)


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (b"\x17\x00\x00\x00\x00", Kind.VIDEO_CONFIG),  # AVC sequence header
        (b"\x17\x01\x00\x00\x00", Kind.VIDEO_KEY),
        (b"\x27\x01\x00\x00\x00", Kind.VIDEO),
        (b"\x17\x02\x00\x00\x00", Kind.VIDEO_OTHER),  # end of sequence
        (b"\x1c\x00\x00\x00\x00", Kind.VIDEO_CONFIG),  # HEVC as codec id 12
        (b"\x52\x00", Kind.VIDEO_OTHER),  # a command frame
        (b"\x90hvc1", Kind.VIDEO_CONFIG),  # Enhanced RTMP: sequence start
        (b"\x91hvc1", Kind.VIDEO_KEY),  # coded frames
        (b"\xa3av01", Kind.VIDEO),  # inter, coded frames X
        (b"\x94hvc1", Kind.VIDEO_OTHER),  # metadata
        (b"\x12", Kind.VIDEO_KEY),  # Sorenson H.263 key frame
        (b"", Kind.VIDEO_OTHER),
    ],
)
def test_video_kinds(payload: bytes, kind: Kind) -> None:
    assert kind_of(video(payload)) == kind


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (b"\xaf\x00\x12\x10", Kind.AUDIO_CONFIG),
        (b"\xaf\x01\x21", Kind.AUDIO),
        (b"\x2f\xff", Kind.AUDIO),  # MP3
        (b"\x90Opus", Kind.AUDIO_CONFIG),  # Enhanced RTMP audio sequence start
        (b"\x91Opus", Kind.AUDIO),
    ],
)
def test_audio_kinds(payload: bytes, kind: Kind) -> None:
    assert kind_of(audio(payload)) == kind


def test_codecs() -> None:
    assert video_codec(b"\x17\x00") == "h264"
    assert video_codec(b"\x90hvc1") == "hevc"
    assert video_codec(b"\x90av01") == "av1"
    assert audio_codec(b"\xaf\x00") == "aac"
    assert audio_codec(b"\x90Opus") == "opus"
    assert audio_codec(b"\x2f") == "mp3"


def test_played_metadata_becomes_set_data_frame() -> None:
    played = Message(18, 1, 0, encode("onMetaData", EcmaArray(width=320.0, height=240.0)))
    published = publishable_data(played)
    assert published is not None and is_metadata(published)
    assert decode(published.payload) == ["@setDataFrame", "onMetaData", {"width": 320.0, "height": 240.0}]
    assert metadata_fields(published) == {"width": 320.0, "height": 240.0}
    assert publishable_data(published) == published


def test_sample_access_is_for_players_only() -> None:
    assert publishable_data(Message(18, 1, 0, encode("|RtmpSampleAccess", True, True))) is None


def test_other_data_passes_as_is() -> None:
    cue = Message(18, 1, 0, encode("onCuePoint", {"name": "ad"}))
    assert publishable_data(cue) == cue
    assert kind_of(cue) == Kind.DATA and not is_metadata(cue)


def test_split_aggregate() -> None:
    def tag(type_id: int, ts: int, body: bytes) -> bytes:
        header = bytes((type_id,)) + len(body).to_bytes(3, "big") + (ts & 0xFFFFFF).to_bytes(3, "big")
        return header + bytes((ts >> 24,)) + b"\x00\x00\x00" + body + (11 + len(body)).to_bytes(4, "big")

    payload = tag(9, 5000, b"\x17\x01key") + tag(8, 5010, b"\xaf\x01aac") + tag(9, 5040, b"\x27\x01int")
    parts = split_aggregate(Message(22, 1, 100, payload))
    assert parts == [
        Message(9, 1, 100, b"\x17\x01key"),
        Message(8, 1, 110, b"\xaf\x01aac"),
        Message(9, 1, 140, b"\x27\x01int"),
    ]
    assert split_aggregate(Message(22, 1, 100, payload[:-10])) == parts[:2]  # a cut-off last tag is left out
