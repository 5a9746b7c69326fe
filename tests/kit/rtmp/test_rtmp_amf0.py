from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediaplane.kit.rtmp import RtmpProtocolError
from mediaplane.kit.rtmp.amf0 import UNDEFINED, EcmaArray, decode, decode_value, encode, encode_value


class TestEncode:
    def test_number(self) -> None:
        assert encode_value(1.5) == b"\x00\x3f\xf8\x00\x00\x00\x00\x00\x00"
        assert encode_value(3) == encode_value(3.0)

    def test_boolean_null_undefined(self) -> None:
        assert encode_value(True) == b"\x01\x01"
        assert encode_value(False) == b"\x01\x00"
        assert encode_value(None) == b"\x05"
        assert encode_value(UNDEFINED) == b"\x06"

    def test_string_and_long_string(self) -> None:
        assert encode_value("ab") == b"\x02\x00\x02ab"
        long = "x" * 70_000
        raw = encode_value(long)
        assert raw[:5] == b"\x0c\x00\x01\x11\x70"
        assert decode_value(raw) == (long, len(raw))

    def test_object_ends_with_the_end_marker(self) -> None:
        assert encode_value({"a": 1.0}) == b"\x03\x00\x01a\x00" + b"\x3f\xf0" + b"\x00" * 6 + b"\x00\x00\x09"

    def test_ecma_array_carries_its_count(self) -> None:
        raw = encode_value(EcmaArray(width=320.0, height=240.0))
        assert raw[:5] == b"\x08\x00\x00\x00\x02"
        assert raw.endswith(b"\x00\x00\x09")

    def test_strict_array_and_date(self) -> None:
        assert encode_value([1.0, "a"]) == b"\x0a\x00\x00\x00\x02" + encode_value(1.0) + encode_value("a")
        when = datetime(2024, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC)
        raw = encode_value(when)
        assert raw[0] == 0x0B and len(raw) == 11
        assert decode_value(raw)[0] == when

    def test_a_connect_command(self) -> None:
        """The bytes every RTMP client sends first (as FFmpeg writes them)."""
        raw = encode("connect", 1, {"app": "live"})
        assert raw == (
            b"\x02\x00\x07connect"
            + b"\x00\x3f\xf0\x00\x00\x00\x00\x00\x00"
            + b"\x03\x00\x03app\x02\x00\x04live\x00\x00\x09"
        )
        assert decode(raw) == ["connect", 1.0, {"app": "live"}]

    @pytest.mark.parametrize("value", [object(), b"bytes", {1: "a"}, datetime(2024, 1, 1)])
    def test_what_amf0_cannot_hold(self, value: Any) -> None:
        with pytest.raises((TypeError, ValueError)):
            encode_value(value)


class TestDecode:
    def test_typed_object_xml_and_unsupported(self) -> None:
        typed = b"\x10\x00\x03Foo" + b"\x00\x01a\x05" + b"\x00\x00\x09"
        assert decode(typed) == [{"a": None}]
        assert decode(b"\x0f\x00\x00\x00\x03<a>") == ["<a>"]
        assert decode(b"\x0d") == [None]

    def test_ecma_array_decodes_as_ecma_array(self) -> None:
        value = decode_value(encode_value(EcmaArray(a="b")))[0]
        assert isinstance(value, EcmaArray) and value == {"a": "b"}

    def test_ecma_array_count_is_only_a_hint(self) -> None:
        """nginx-rtmp and others write 0 as the count; the end marker decides."""
        raw = b"\x08\x00\x00\x00\x00" + b"\x00\x01a\x01\x01" + b"\x00\x00\x09"
        assert decode(raw) == [{"a": True}]

    @pytest.mark.parametrize(
        "raw",
        [
            b"\x00\x3f\xf0",  # a number cut short
            b"\x02\x00\x05ab",  # a string cut short
            b"\x03\x00\x01a\x05",  # an object without its end marker
            b"\x09",  # an end marker on its own
            b"\x07\x00\x01",  # a reference
            b"\x11",  # switch to AMF3
            b"\x0a\xff\xff\xff\xff",  # a strict array longer than the data
        ],
    )
    def test_malformed_data_is_a_protocol_error(self, raw: bytes) -> None:
        with pytest.raises(RtmpProtocolError):
            decode(raw)

    def test_nesting_is_bounded(self) -> None:
        raw = b"\x0a\x00\x00\x00\x01" * 200 + b"\x05"
        with pytest.raises(RtmpProtocolError):
            decode(raw)


keys = st.text(max_size=12)
leaves = st.one_of(
    st.none(),
    st.just(UNDEFINED),
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
    ),
)
values = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(keys, children, max_size=5),
        st.dictionaries(keys, children, max_size=5).map(EcmaArray),
    ),
    max_leaves=20,
)


@given(values)
def test_round_trip(value: Any) -> None:
    raw = encode_value(value)
    decoded, end = decode_value(raw)
    assert end == len(raw)
    assert decoded == value
    assert type(decoded) is type(value) or isinstance(value, int | float | tuple)
    assert encode_value(decoded) == raw


@settings(max_examples=50)
@given(st.lists(values, max_size=4))
def test_values_back_to_back(items: list[Any]) -> None:
    assert decode(encode(*items)) == items


def test_infinity_and_negative_zero() -> None:
    assert decode_value(encode_value(math.inf))[0] == math.inf
    assert math.copysign(1, decode_value(encode_value(-0.0))[0]) == -1
