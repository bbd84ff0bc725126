"""Framing and server messages on every captured Growatt frame."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import datetime
import random

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.pv_monitor.growatt_local.protocol import messages
from custom_components.pv_monitor.growatt_local.protocol.framing import (
    MAX_LENGTH,
    BadCrcError,
    BadLengthError,
    BadPayloadError,
    Frame,
    FrameDecoder,
    FrameError,
    UnknownProtocolError,
    crc16_modbus,
    decode_frame,
    encode_frame,
    frame_size,
    scramble,
)
from custom_components.pv_monitor.growatt_local.protocol.records import (
    RecordError,
    encode_record_payload,
    parse_record,
)

from .fixtures import capture, captures, frames

FRAMES = frames()


@pytest.mark.parametrize("cap", FRAMES, ids=[c.name for c in FRAMES])
def test_every_capture_decodes_and_reencodes(cap) -> None:
    """Length, CRC and scrambling hold on every real frame; re-encoding is byte-exact."""
    frame = decode_frame(cap.raw)
    assert frame.raw == cap.raw
    assert frame_size(cap.raw[:6]) == len(cap.raw)
    assert int.from_bytes(cap.raw[4:6], "big") == len(frame.payload) + 2
    if frame.protocol in (5, 6):
        assert crc16_modbus(cap.raw[:-2]) == int.from_bytes(cap.raw[-2:], "big")
    assert encode_frame(frame.seq, frame.protocol, frame.unit, frame.function, frame.payload) == (
        cap.raw
    )


def test_capture_set_covers_protocols_and_functions() -> None:
    """The fixtures hold what the issue names: protocols 2/5/6 and the record functions."""
    assert {c.protocol for c in FRAMES} == {2, 5, 6}
    assert {0x03, 0x04, 0x16, 0x18, 0x19, 0x20, 0x50} <= {c.function for c in FRAMES}
    assert len(captures()) >= 160


def test_malformed_capture_is_rejected() -> None:
    """The glued go-grott line: wrong length for decode_frame, CRC faults in the stream."""
    (bad,) = captures("malformed")
    with pytest.raises(BadLengthError):
        decode_frame(bad.raw)
    decoder = FrameDecoder()
    out = decoder.feed(bad.raw)
    assert not [item for item in out if isinstance(item, Frame)]
    assert any(isinstance(item, BadCrcError) for item in out)
    # A good frame right after the garbage still comes through.
    good = capture("gogrott_v6_0104_data_line01").raw
    out = decoder.feed(good)
    assert [item.raw for item in out if isinstance(item, Frame)] == [good]


@pytest.mark.parametrize(
    ("record", "ack"),
    [
        ("gm_data1_v5_0103_announce_from_logger_04", "gm_data1_v5_0103_ack_from_server_05"),
        ("gm_data1_v5_0104_data_from_logger_23", None),
        ("gm_data1_v5_0104_data_from_logger_26", None),
        ("gm_data1_v5_0150_data2_from_logger_28", "gm_data1_v5_0150_ack_from_server_31"),
        ("vromans_v2_0103_announce_02", "vromans_v2_0103_announce_ack_03"),
        ("vromans_v2_0104_data_19", "vromans_v2_0104_data_ack_20"),
    ],
)
def test_ack_is_byte_exact(record: str, ack: str | None) -> None:
    """Our acks equal the Growatt server's captured acks (same seq, payload 0x00/0x47)."""
    frame = decode_frame(capture(record).raw)
    ours = messages.ack(frame)
    if ack is not None:
        assert ours == capture(ack).raw
    assert decode_frame(ours).payload == b"\x00"
    assert ours[:2] == capture(record).raw[:2]


def test_data_acks_match_server_for_seq() -> None:
    """The two captured data acks (seq 2 and 3) are what we send for those seqs."""
    data = decode_frame(capture("gm_data1_v5_0104_data_from_logger_23").raw)
    for name in ("gm_data1_v5_0104_ack_from_server_25", "gm_data1_v5_0104_ack_from_server_29"):
        server = capture(name).raw
        seq = int.from_bytes(server[:2], "big")
        ours = encode_frame(seq, data.protocol, data.unit, data.function, messages.ACK_PAYLOAD)
        assert ours == server


@pytest.mark.parametrize(
    "name",
    [
        "gm_data1_v5_0116_ping_both_echo_01",
        "grott_test_v6_0116_ping_XGD6CF42W6",
        "vromans_v2_0116_ping_01",
    ],
)
def test_ping_echo(name: str) -> None:
    """The ping answer is the ping itself."""
    frame = decode_frame(capture(name).raw)
    assert messages.ping_echo(frame) == capture(name).raw


def test_clock_set_is_byte_exact() -> None:
    """0x18 item 0x1f from the GrowattMonitor capture (protocol 5)."""
    server = capture("gm_data1_v5_0118_config_item1f_from_server_27").raw
    ours = messages.set_clock(1, 5, 1, "JPC492227A", datetime(2020, 1, 27, 16, 57, 45))
    assert ours == server


def test_config_query_is_byte_exact() -> None:
    """0x19 items 0x04..0x15 from the GrowattMonitor (p5) and Growatt-WiFi-Tools (p2) logs."""
    assert messages.get_config(1, 5, 1, "JPC492227A") == (
        capture("gm_data1_v5_0119_identify_item04_from_server_02").raw
    )
    assert messages.get_config(1, 2, 1, "AH44460477") == (
        capture("vromans_v2_0119_identify_item04_04").raw
    )


def test_protocol6_messages_use_30_byte_serials() -> None:
    """On protocol 6 the serial field is NUL-padded to 30 bytes, as in the 0x19 answers."""
    frame = decode_frame(messages.get_config(7, 6, 1, "XGD4A49AGC"))
    assert frame.payload[:30] == b"XGD4A49AGC".ljust(30, b"\x00")
    assert frame.payload[30:] == bytes.fromhex("00040015")


def test_parse_config_answers() -> None:
    """Datalogger answers to 0x19: data interval, firmware, server name (p2, p5, p6)."""
    cases = {
        "gm_data1_v5_0119_identify_item04_from_logger_03": (0x04, "1"),
        "gm_data1_v5_0119_identify_item15_from_logger_22": (0x15, "1.7.6.8"),
        "vromans_v2_0119_identify_item13_17": (0x13, "server.growatt.com"),
        "shine2mqtt_v6_0119_get_config_response_12": (0x0B, "##192.168.3.35/app/xml/#8081#"),
        "shine2mqtt_v6_0119_get_config_response_9": (0x08, "XGD4A49AGC"),
    }
    for name, expected in cases.items():
        assert messages.parse_config_item(decode_frame(capture(name).raw)) == expected
    # The server's query carries no value.
    query = decode_frame(capture("gm_data1_v5_0119_identify_item13_from_server_20").raw)
    assert messages.parse_config_item(query) == (0x13, "")
    short = Frame(seq=1, protocol=5, unit=1, function=0x19, payload=b"JPC", raw=b"")
    assert messages.parse_config_item(short) is None
    assert messages.parse_set_config_item(short) is None
    truncated = Frame(1, 5, 1, 0x19, b"JPC492227A\x00\x04\x00\x05ab", b"")
    assert messages.parse_config_item(truncated) is None


def test_parse_set_config_item() -> None:
    """The item of a 0x18 write: 0x13 server name (p2) and 0x1f clock (p5)."""
    assert (
        messages.parse_set_config_item(
            decode_frame(capture("vromans_v2_0118_config_item13_26").raw)
        )
        == 0x13
    )
    assert (
        messages.parse_set_config_item(
            decode_frame(capture("gm_data1_v5_0118_config_item1f_from_server_27").raw)
        )
        == 0x1F
    )


def test_decode_errors() -> None:
    """Each fault gets its own typed error."""
    good = capture("gm_data1_v5_0104_data_from_logger_23").raw
    with pytest.raises(BadLengthError):
        decode_frame(good[:5])
    with pytest.raises(BadLengthError):
        decode_frame(good[:-1])
    with pytest.raises(BadCrcError):
        decode_frame(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(UnknownProtocolError):
        decode_frame(good[:3] + b"\x07" + good[4:])
    with pytest.raises(BadLengthError):
        frame_size(b"\x00\x01\x00\x06\xff\xff")
    with pytest.raises(UnknownProtocolError):
        encode_frame(1, 9, 1, 4, b"")
    with pytest.raises(BadLengthError):
        encode_frame(1, 6, 1, 4, bytes(MAX_LENGTH))
    assert scramble(scramble(b"hello world")) == b"hello world"


def test_stream_split_glued_and_garbage() -> None:
    """A real session cut at random points, glued, with garbage between frames."""
    rng = random.Random(5279)
    session = [c.raw for c in FRAMES if c.name.startswith(("gm_data1", "shine2mqtt_v6_01"))]
    stream = bytearray()
    for raw in session:
        if rng.random() < 0.3:
            stream += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20)))
        stream += raw
    decoder = FrameDecoder()
    got: list[bytes] = []
    errors = 0
    pos = 0
    while pos < len(stream):
        step = rng.randrange(1, 700)
        for item in decoder.feed(bytes(stream[pos : pos + step])):
            if isinstance(item, Frame):
                got.append(item.raw)
            else:
                errors += 1
        pos += step
    assert got == session
    assert errors > 0
    assert decoder.buffered == 0
    assert decoder.bytes_dropped > 0


def test_flush_returns_partial_frame() -> None:
    """A partial frame stays buffered until flushed."""
    raw = capture("vromans_v2_0104_data_19").raw
    decoder = FrameDecoder()
    assert decoder.feed(raw[:100]) == []
    assert decoder.buffered == 100
    assert decoder.flush() == raw[:100]
    assert decoder.buffered == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_frame_errors(data: bytes) -> None:
    """decode_frame raises only FrameError; the stream decoder never raises at all."""
    with contextlib.suppress(FrameError):
        decode_frame(data)
    for item in FrameDecoder().feed(data):
        assert isinstance(item, (Frame, FrameError))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_real_frames(data: st.DataObject) -> None:
    """Flipping bytes of real frames yields frames or typed errors, never a crash."""
    cap = data.draw(st.sampled_from(FRAMES))
    raw = bytearray(cap.raw)
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    for item in FrameDecoder().feed(bytes(raw) + cap.raw):
        assert isinstance(item, (Frame, FrameError))


@pytest.mark.parametrize(
    "cap",
    [c for c in FRAMES if c.function in (0x03, 0x04, 0x50) and len(c.raw) > 100],
    ids=lambda c: c.name,
)
def test_record_payload_round_trip(cap) -> None:
    """encode_record_payload rebuilds every captured record payload byte for byte."""
    frame = decode_frame(cap.raw)
    record = parse_record(frame)
    assert encode_record_payload(record) == frame.payload
    regrouped = dataclasses.replace(record, groups=())
    assert (
        parse_record(dataclasses.replace(frame, payload=encode_record_payload(regrouped))).registers
        == record.registers
    )


def test_record_encoding_errors() -> None:
    """A missing register or a value beyond 16 bits is a RecordError."""
    record = parse_record(decode_frame(capture("vromans_v2_0104_data_19").raw))
    with pytest.raises(RecordError):
        encode_record_payload(dataclasses.replace(record, registers={0: 1}))
    with pytest.raises(RecordError):
        encode_record_payload(dataclasses.replace(record, registers={**record.registers, 0: 70000}))
    no_clock = dataclasses.replace(record, timestamp=None, groups=((0, 0),), registers={0: 5})
    assert encode_record_payload(no_clock)[20:27] == bytes(6) + b"\x01"


def test_protocol2_garbage_header_is_rejected() -> None:
    """Without a CRC, a protocol 2 'frame' must carry an ack or a serial-led payload."""
    with pytest.raises(BadPayloadError):
        decode_frame(b"\x16\xbf\x00\x02\x00\x05\x00\x03\x01\x04\x47")


def test_crc16_modbus_catalogue_check_value() -> None:
    """CRC-16/MODBUS of b"123456789" is 0x4B37 (Greg Cook's CRC catalogue), and the empty
    input gives the initial value 0xFFFF; the captures' CRCs are checked above."""
    assert crc16_modbus(b"123456789") == 0x4B37
    assert crc16_modbus(b"") == 0xFFFF
