"""Frames the server sends to a datalogger: acknowledgements, ping echo, clock, config query.

Every encoder is byte-exact with the server frames captured in ``tests/fixtures/growatt``
(GrowattMonitor protocol 5 log, Growatt-WiFi-Tools protocol 2 log, grott protocol 6 test).
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
import re
from typing import Final

from .framing import Frame, FrameError, Function, Protocol, encode_frame

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
    FTP_CREDENTIALS = 0x0B
    """Firmware download server credentials."""
    DNS = 0x0C
    LOCAL_IP = 0x0E
    LOCAL_PORT = 0x0F
    MAC_ADDRESS = 0x10
    SERVER_IP = 0x11
    SERVER_PORT = 0x12
    SERVER_NAME = 0x13
    DEVICE_TYPE = 0x14
    FIRMWARE_VERSION = 0x15
    NETMASK = 0x19
    GATEWAY = 0x1A
    TIME_ZONE = 0x1E
    CLOCK = 0x1F
    """Datalogger clock, ASCII ``YYYY-MM-DD HH:MM:SS`` (local time)."""
    REBOOT = 0x20
    RESET = 0x21
    WIFI_SSID = 0x38
    WIFI_KEY = 0x39


REDIRECT_ITEMS: Final = frozenset(
    {
        ConfigItem.FTP_CREDENTIALS,
        ConfigItem.DNS,
        ConfigItem.LOCAL_IP,
        ConfigItem.LOCAL_PORT,
        ConfigItem.SERVER_IP,
        ConfigItem.SERVER_PORT,
        ConfigItem.SERVER_NAME,
        ConfigItem.NETMASK,
        ConfigItem.GATEWAY,
        ConfigItem.WIFI_SSID,
        ConfigItem.WIFI_KEY,
    }
)
"""Items that re-point the datalogger (its server, network or firmware source); a proxy
relays them from the cloud only with the "allow redirect" option."""

ALWAYS_RELAYED_ITEMS: Final = frozenset({ConfigItem.CLOCK})
"""The only 0x18 item a proxy relays from the cloud by default: the clock set that the
Growatt server sends after every announce. grott's proxy (``blockcmd``, johanmeijer/grott
``grottproxy.py``) lets exactly this item through and blocks every other configure
command."""

WRITE_REGISTERS: Final = Function.WRITE_REGISTERS
"""Function of the inverter command writing a range of holding registers."""

REGISTER_COMMANDS: Final = frozenset(
    {int(Function.READ_REGISTERS), int(Function.WRITE_REGISTER), int(WRITE_REGISTERS)}
)
"""Inverter register commands (0x05 read, 0x06 write one, 0x10 write a range)."""

SERIAL_SIZE: Final = 10
"""Characters of a datalogger or inverter serial (the rest of a protocol 6 field is NULs)."""


_SERIAL_BYTES: Final = re.compile(rb"[A-Z0-9]{1,10}")


class SerialError(FrameError):
    """A serial field is empty or holds bytes other than ASCII letters and digits."""


def check_serial(field: bytes) -> str:
    """Validate a serial field: uppercase ASCII letters and digits, then only NUL padding.

    Every real serial in the captures (``tests/fixtures/growatt``) is 10 uppercase letters
    and digits, as printed on Growatt's labels. A field starting with NUL or space, holding
    a space, a lowercase letter, a control or non-ASCII byte, or empty, is refused:
    stripping such bytes would let a client pose as another serial, and a serial that is
    not uppercase would escape the allow-list's and the diagnostics' redaction patterns.

    Raises:
        SerialError: the field does not hold a valid serial.
    """
    raw = field[:SERIAL_SIZE].rstrip(b"\x00")
    if not _SERIAL_BYTES.fullmatch(raw) or any(field[SERIAL_SIZE:]):
        # Only the first three bytes: the message reaches logs and diagnostics.
        raise SerialError(f"invalid serial field starting {field[:3]!r}")
    return raw.decode("ascii")


SERIAL_OPTIONAL: Final = frozenset({int(Function.SET_CONFIG), *REGISTER_COMMANDS})
"""Datalogger answers that may be a bare result byte without a serial (captured 0x18
answers ``shine2mqtt_v6_0118_ack_*``)."""


def datalogger_serial(frame: Frame) -> str | None:
    """The datalogger serial a datalogger's frame starts with, None if it carries none.

    Raises:
        SerialError: the frame should carry a serial and its field is not valid.
    """
    payload = frame.payload
    if frame.function in SERIAL_OPTIONAL and len(payload) < SERIAL_SIZE:
        return None
    width = SERIAL_SIZE if len(payload) <= SERIAL_SIZE else frame.serial_width
    return check_serial(payload[:width])


def inverter_serial(frame: Frame) -> str:
    """The inverter serial of a record frame (second serial field), validated.

    Raises:
        SerialError: the field is not a valid serial.
    """
    width = frame.serial_width
    return check_serial(frame.payload[width : 2 * width])


def frame_key(raw: bytes) -> tuple[int, int]:
    """``(function, seq)`` of a wire frame: what its acknowledgement carries."""
    return raw[7], int.from_bytes(raw[0:2], "big")


def is_ack(frame: Frame) -> bool:
    """Whether ``frame`` is a server acknowledgement (a record function, one-byte payload)."""
    return len(frame.payload) == 1 and frame.function in ACKED_FUNCTIONS


class Verdict(IntEnum):
    """What a proxy does with a frame from the Growatt cloud."""

    RELAY = 0
    BLOCK_REDIRECT = 1
    BLOCK_COMMAND = 2


def cloud_verdict(frame: Frame, allow_redirect: bool, allow_commands: bool) -> Verdict:
    """The command policy of a proxy for one frame from the Growatt cloud.

    Relayed always: pings, config queries (0x19) and the clock set (0x18 item 0x1f), what the
    Growatt server needs for normal operation (acks are handled before this). Re-pointing
    items (:data:`REDIRECT_ITEMS`) pass only with ``allow_redirect``; every other 0x18 item
    (data interval, time zone, reboot 0x20, reset 0x21, ...), the register commands 0x05,
    0x06 and 0x10 and any other function pass only with ``allow_commands``.
    """
    function = frame.function
    if function in (Function.PING, Function.GET_CONFIG):
        return Verdict.RELAY
    if function == Function.SET_CONFIG:
        item = parse_set_config_item(frame)
        if item in ALWAYS_RELAYED_ITEMS:
            return Verdict.RELAY
        if item in REDIRECT_ITEMS:
            return Verdict.RELAY if allow_redirect else Verdict.BLOCK_REDIRECT
    return Verdict.RELAY if allow_commands else Verdict.BLOCK_COMMAND


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
