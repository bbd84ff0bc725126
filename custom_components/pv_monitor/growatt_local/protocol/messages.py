"""Frames the server sends to a datalogger: acknowledgements, ping echo, clock, config query.

Every encoder is byte-exact with the server frames captured in ``tests/fixtures/growatt``
(GrowattMonitor protocol 5 log, Growatt-WiFi-Tools protocol 2 log, grott protocol 6 test).
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Final

from .framing import Frame, Function, Protocol, encode_frame

ACK_PAYLOAD: Final = b"\x00"
"""Plaintext payload of a server acknowledgement (0x47 on the wire for protocols 5/6)."""

ACKED_FUNCTIONS: Final = frozenset(
    {Function.ANNOUNCE, Function.DATA, Function.METER, Function.BUFFERED_DATA}
)
"""Records the Growatt server acknowledges; a datalogger resends those it gets no ack for."""

CLOCK_FORMAT: Final = "%Y-%m-%d %H:%M:%S"


class ConfigItem(IntEnum):
    """Datalogger configuration items (function 0x18 set / 0x19 get).

    Numbers and meanings from the item table in Johan Vromans' "Growatt WiFi module
    protocol" notes (sciurius/Growatt-WiFi-Tools) and the captured 0x19 answers.
    """

    DATA_INTERVAL = 0x04
    """Minutes between data records, ASCII digits."""
    DATALOGGER_SERIAL = 0x08
    LOCAL_IP = 0x0E
    MAC_ADDRESS = 0x10
    SERVER_IP = 0x11
    SERVER_PORT = 0x12
    SERVER_NAME = 0x13
    DEVICE_TYPE = 0x14
    FIRMWARE_VERSION = 0x15
    CLOCK = 0x1F
    """Datalogger clock, ASCII ``YYYY-MM-DD HH:MM:SS`` (local time)."""


REDIRECT_ITEMS: Final = frozenset(
    {ConfigItem.SERVER_IP, ConfigItem.SERVER_PORT, ConfigItem.SERVER_NAME}
)
"""Items that re-point the datalogger to another server; a proxy blocks them by default."""

QUERY_FIRST_ITEM: Final = ConfigItem.DATA_INTERVAL
QUERY_LAST_ITEM: Final = ConfigItem.FIRMWARE_VERSION
"""The Growatt server queries items 0x04..0x15 after an announce (captured 0x19 frames)."""


def serial_field(serial: str, protocol: int) -> bytes:
    """Encode a serial as its record field: 10 bytes, NUL-padded to 30 on protocol 6."""
    raw = serial.encode("ascii")[:10]
    width = 30 if protocol == Protocol.EXTENDED else 10
    return raw.ljust(width, b"\x00")


def ack(frame: Frame) -> bytes:
    """Acknowledgement of a record: same seq, protocol, unit and function, payload 0x00."""
    return encode_frame(frame.seq, frame.protocol, frame.unit, frame.function, ACK_PAYLOAD)


def ping_echo(frame: Frame) -> bytes:
    """Answer to a ping (0x16): the frame unchanged."""
    return frame.raw


def set_config(seq: int, protocol: int, unit: int, serial: str, item: int, value: str) -> bytes:
    """Config item write (0x18): serial field, item u16, value length u16, ASCII value."""
    data = value.encode("ascii")
    payload = (
        serial_field(serial, protocol)
        + item.to_bytes(2, "big")
        + len(data).to_bytes(2, "big")
        + data
    )
    return encode_frame(seq, protocol, unit, Function.SET_CONFIG, payload)


def set_clock(seq: int, protocol: int, unit: int, serial: str, now: datetime) -> bytes:
    """Set the datalogger clock (0x18 item 0x1f) to ``now`` (local wall-clock time)."""
    return set_config(seq, protocol, unit, serial, ConfigItem.CLOCK, now.strftime(CLOCK_FORMAT))


def get_config(
    seq: int,
    protocol: int,
    unit: int,
    serial: str,
    first: int = QUERY_FIRST_ITEM,
    last: int = QUERY_LAST_ITEM,
) -> bytes:
    """Config query (0x19) for items ``first``..``last``; the datalogger answers per item."""
    payload = serial_field(serial, protocol) + first.to_bytes(2, "big") + last.to_bytes(2, "big")
    return encode_frame(seq, protocol, unit, Function.GET_CONFIG, payload)


def parse_config_item(frame: Frame) -> tuple[int, str] | None:
    """Decode a datalogger's answer to a config query or write: ``(item, value)``.

    Layout: serial field (10 or 30 bytes by protocol), item u16, length u16, value. Returns
    None when the frame holds no value (a write acknowledgement or a truncated answer).
    """
    width = frame.serial_width
    body = frame.payload
    if len(body) < width + 4:
        return None
    item = int.from_bytes(body[width : width + 2], "big")
    length = int.from_bytes(body[width + 2 : width + 4], "big")
    value = body[width + 4 : width + 4 + length]
    if len(value) != length:
        return None
    return item, value.decode("ascii", "replace").strip("\x00 ")


def parse_set_config_item(frame: Frame) -> int | None:
    """Item number that a 0x18 frame (server write or datalogger answer) addresses."""
    width = frame.serial_width
    if len(frame.payload) < width + 2:
        return None
    return int.from_bytes(frame.payload[width : width + 2], "big")
