"""Growatt datalogger frames: header, XOR scrambling, CRC and a streaming decoder.

Wire format (verified on the real captures in ``tests/fixtures/growatt``, published by
vnbaaij/GrowattMonitor, sciurius/Growatt-WiFi-Tools, johanmeijer/grott, bremme/shine2mqtt,
Resident-X/go-grott, hsmade/growatt-sniffer and aaronjbrown/PyGrowatt)::

    offset 0  seq       u16 big-endian   sequence number, echoed by the answer
    offset 2  protocol  u16 big-endian   2 (plain), 5 or 6 (scrambled + CRC)
    offset 4  length    u16 big-endian   bytes after offset 5, CRC excluded
    offset 6  unit      u8               device address, 0x01 in every capture
    offset 7  function  u8               record type (see :class:`Function`)
    offset 8  payload   length - 2 bytes
    (5/6)     crc       u16 big-endian   CRC-16/MODBUS of every byte before it

Protocols 5 and 6 XOR the payload with the ASCII key ``Growatt``, the key index restarting
at offset 8. Protocol 2 has neither scrambling nor CRC.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from fastcrc import crc16

HEADER_SIZE: Final = 8
"""Bytes before the payload: seq, protocol, length, unit, function."""

CRC_SIZE: Final = 2
XOR_KEY: Final = b"Growatt"
"""Scrambling key of protocols 5 and 6 (every capture of those protocols)."""

MAX_LENGTH: Final = 4096
"""Largest accepted header length field. Real records are at most 577 (protocol 6, two
register groups of 125); hybrids with four groups stay near 1100. Anything larger is
treated as garbage so one bad header cannot make the decoder buffer without bound."""

MIN_LENGTH: Final = 2
"""Smallest length field: unit and function with an empty payload."""

_crc16_modbus = crc16.modbus
"""CRC-16/MODBUS (width 16, poly 0x8005 reflected, init 0xFFFF, no final XOR; check value
0x4B37 for ``b"123456789"`` in Greg Cook's "Catalogue of parametrised CRC algorithms").
fastcrc (maintained, Rust, binary wheels) rather than crcmod 1.7 (last released 2010, source
only: without a compiler it silently runs its pure-Python fallback, about 100x slower)."""
_KEY_STREAM = XOR_KEY * ((MAX_LENGTH + 6) // len(XOR_KEY) + 1)
"""The key repeated over the longest payload, sliced per frame."""
_MAX_KEY_INTS: Final = 64
_key_ints: dict[int, int] = {}
"""The key stream as an integer, by payload size (a datalogger sends a few sizes)."""


class Protocol(IntEnum):
    """Protocol field of the header (offset 2)."""

    PLAIN = 2
    """Old ShineWiFi firmware: no scrambling, no CRC."""
    SCRAMBLED = 5
    """ShineWiFi-S and ShineLAN: XOR ``Growatt`` and CRC-16/MODBUS, 10-byte serials."""
    EXTENDED = 6
    """ShineWiFi-X and newer: as 5, with serials NUL-padded to 30 bytes."""


class Function(IntEnum):
    """Function (record type) byte of the header (offset 7)."""

    ANNOUNCE = 0x03
    """Holding registers of the inverter, sent after connecting."""
    DATA = 0x04
    """Live input registers."""
    READ_REGISTERS = 0x05
    """Read holding registers of an inverter (server -> datalogger) and the answer."""
    WRITE_REGISTER = 0x06
    """Write one holding register of an inverter, and the answer."""
    WRITE_REGISTERS = 0x10
    """Write a range of holding registers of an inverter, and the answer."""
    PING = 0x16
    """Keep-alive carrying the datalogger serial; the server echoes it unchanged."""
    SET_CONFIG = 0x18
    """Datalogger configuration item write (server -> datalogger), e.g. item 0x1f clock."""
    GET_CONFIG = 0x19
    """Datalogger configuration item query (server -> datalogger) and its answers."""
    METER = 0x20
    """Smart-meter record from a meter wired to the inverter."""
    BUFFERED_DATA = 0x50
    """Input registers recorded while the server was unreachable, original timestamp."""


KNOWN_PROTOCOLS: Final = frozenset(int(p) for p in Protocol)


class FrameError(Exception):
    """Base class of every error the frame decoder raises or reports."""


class UnknownProtocolError(FrameError):
    """The protocol field is not 2, 5 or 6."""


class BadLengthError(FrameError):
    """The length field is out of range or disagrees with the bytes given."""


class BadCrcError(FrameError):
    """The CRC-16/MODBUS of a protocol 5/6 frame does not match its last two bytes."""


class BadPayloadError(FrameError):
    """A protocol 2 frame (no CRC to check) whose payload cannot be a Growatt payload.

    Every protocol 2 payload is either an acknowledgement (one byte 0x00) or starts with
    the 10-character ASCII datalogger serial (every protocol 2 capture); anything else is
    garbage that happened to look like a header.
    """


def crc16_modbus(data: bytes) -> int:
    """Return the CRC-16/MODBUS (poly 0x8005 reflected, init 0xFFFF) of ``data``."""
    return _crc16_modbus(data)


def scramble(payload: bytes) -> bytes:
    """XOR ``payload`` with the key ``Growatt`` (index 0 = first payload byte).

    The operation is its own inverse, so it both scrambles and descrambles.
    """
    size = len(payload)
    key = _key_ints.get(size)
    if key is None:
        stream = _KEY_STREAM if size <= len(_KEY_STREAM) else XOR_KEY * (size // 7 + 1)
        key = int.from_bytes(stream[:size], "big")
        if len(_key_ints) < _MAX_KEY_INTS:
            _key_ints[size] = key
    # One big-integer XOR instead of a Python loop per byte (about 50x faster).
    return (int.from_bytes(payload, "big") ^ key).to_bytes(size, "big")


def has_crc(protocol: int) -> bool:
    """Whether frames of ``protocol`` carry scrambling and a CRC (5 and 6 do, 2 does not)."""
    return protocol != Protocol.PLAIN


@dataclass(slots=True)
class Frame:
    """One decoded frame (treat it as read-only; not frozen, for speed).

    ``payload`` is the plaintext (descrambled) body between header and CRC; ``raw`` is the
    frame exactly as it travelled, so a proxy or a ping echo can forward it unchanged.
    """

    seq: int
    protocol: int
    unit: int
    function: int
    payload: bytes
    raw: bytes

    @property
    def serial_width(self) -> int:
        """Width of serial fields in this frame's records: 30 on protocol 6, else 10."""
        return 30 if self.protocol == Protocol.EXTENDED else 10


def encode_frame(seq: int, protocol: int, unit: int, function: int, payload: bytes) -> bytes:
    """Build the wire bytes of a frame from its plaintext payload.

    Raises:
        UnknownProtocolError: ``protocol`` is not 2, 5 or 6.
        BadLengthError: the payload would exceed :data:`MAX_LENGTH`.
    """
    if protocol not in KNOWN_PROTOCOLS:
        raise UnknownProtocolError(f"unknown protocol {protocol}")
    length = len(payload) + 2
    if length > MAX_LENGTH:
        raise BadLengthError(f"payload of {len(payload)} bytes is too long")
    header = (
        seq.to_bytes(2, "big")
        + protocol.to_bytes(2, "big")
        + length.to_bytes(2, "big")
        + bytes((unit, function))
    )
    if not has_crc(protocol):
        return header + payload
    body = header + scramble(payload)
    return body + crc16_modbus(body).to_bytes(2, "big")


def frame_size(header: bytes | bytearray) -> int:
    """Return the total wire size of the frame whose first six bytes are ``header``.

    Raises:
        UnknownProtocolError: the protocol field is not 2, 5 or 6.
        BadLengthError: the length field is below 2 or above :data:`MAX_LENGTH`.
    """
    protocol = int.from_bytes(header[2:4], "big")
    if protocol not in KNOWN_PROTOCOLS:
        raise UnknownProtocolError(f"unknown protocol {protocol:#06x}")
    length = int.from_bytes(header[4:6], "big")
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise BadLengthError(f"length field {length} out of range")
    return 6 + length + (CRC_SIZE if has_crc(protocol) else 0)


def decode_frame(data: bytes) -> Frame:
    """Decode exactly one complete frame.

    Raises:
        BadLengthError: ``data`` is shorter or longer than the header says.
        UnknownProtocolError: the protocol field is not 2, 5 or 6.
        BadCrcError: the CRC of a protocol 5/6 frame does not match.
        BadPayloadError: a protocol 2 payload is neither an ack nor serial-led.
    """
    if len(data) < HEADER_SIZE:
        raise BadLengthError(f"{len(data)} bytes is shorter than a header")
    size = frame_size(data)
    if len(data) != size:
        raise BadLengthError(f"header says {size} bytes, got {len(data)}")
    return _decode_sized(bytes(data))


def _decode_sized(data: bytes) -> Frame:
    """Decode ``data``, whose size :func:`frame_size` has already confirmed."""
    protocol = data[2] << 8 | data[3]
    if protocol != Protocol.PLAIN:
        end = len(data) - CRC_SIZE
        if _crc16_modbus(data[:end]) != (data[end] << 8 | data[end + 1]):
            raise BadCrcError("CRC-16/MODBUS mismatch")
        payload = scramble(data[HEADER_SIZE:end])
    else:
        payload = data[HEADER_SIZE:]
        if not _plausible_plain_payload(payload):
            raise BadPayloadError("protocol 2 payload is neither an ack nor serial-led")
    return Frame(data[0] << 8 | data[1], protocol, data[6], data[7], payload, data)


def _plausible_size(stream: bytes | bytearray, pos: int) -> int | FrameError:
    """Wire size of the frame whose header starts at ``stream[pos]``, or why there is none."""
    protocol = stream[pos + 2] << 8 | stream[pos + 3]
    length = stream[pos + 4] << 8 | stream[pos + 5]
    if protocol in KNOWN_PROTOCOLS and MIN_LENGTH <= length <= MAX_LENGTH:
        return 6 + length + (CRC_SIZE if protocol != Protocol.PLAIN else 0)
    try:
        frame_size(stream[pos : pos + 6])
    except FrameError as err:
        return err
    raise AssertionError("unreachable")  # pragma: no cover


def _plausible_plain_payload(payload: bytes) -> bool:
    if payload == b"\x00":
        return True
    head = payload[:10]
    return len(head) == 10 and all(0x20 <= b < 0x7F for b in head)


class FrameDecoder:
    """Streaming decoder: feed it TCP reads of any size, get whole frames back.

    A TCP read may hold part of a frame, several frames, or garbage between frames. The
    decoder buffers at most one maximal frame (:attr:`max_buffer` bytes) and resynchronises
    after any fault by dropping bytes up to the next plausible header, so one corrupt frame
    never costs the frames after it. Faults are returned in order, as values, beside the
    frames (they are never raised), so the caller can count and log them.

    Plausible header: protocol field 2, 5 or 6 and a length within range. For protocols 5
    and 6 the CRC confirms the frame; protocol 2 frames, which have no CRC, must carry an
    ack or a serial-led payload (:class:`BadPayloadError`).
    """

    __slots__ = ("_buffer", "bytes_dropped", "max_buffer")

    def __init__(self, max_length: int = MAX_LENGTH) -> None:
        """Create a decoder accepting frames whose length field is at most ``max_length``."""
        self._buffer = bytearray()
        self.max_buffer = 6 + max_length + CRC_SIZE
        self.bytes_dropped = 0
        """Bytes discarded while resynchronising (garbage and bad frames)."""

    @property
    def buffered(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        """Add ``data`` and return every frame (and fault) it completes, in stream order."""
        held = self._buffer
        if held:
            held += data
            stream: bytes | bytearray = held
        else:
            stream = bytes(data)  # the usual case: whole frames, nothing held back
        out: list[Frame | FrameError] = []
        pos = 0
        skipped = 0
        pending_error: FrameError | None = None
        while len(stream) - pos >= 6:
            size = _plausible_size(stream, pos)
            frame: Frame | FrameError
            if isinstance(size, FrameError):
                frame = size
            elif len(stream) - pos < size:
                break  # wait for the rest of the frame
            else:
                raw = stream if pos == 0 and size == len(stream) else stream[pos : pos + size]
                try:
                    frame = _decode_sized(bytes(raw))
                except FrameError as err:
                    frame = err
            if isinstance(frame, FrameError):
                # Not a frame here: skip a byte, report the first fault of this garbage run.
                pending_error = pending_error or frame
                pos += 1
                skipped += 1
                continue
            if pending_error is not None:
                out.append(pending_error)
                pending_error = None
            out.append(frame)
            pos += len(frame.raw)
        if pending_error is not None:
            out.append(pending_error)
        self._keep(stream, pos)
        self.bytes_dropped += skipped
        return out

    def _keep(self, stream: bytes | bytearray, pos: int) -> None:
        """Hold back ``stream[pos:]`` (the start of an incomplete frame)."""
        held = self._buffer
        if stream is held:
            del held[:pos]
        elif pos < len(stream):
            held += stream[pos:]
        if len(held) > self.max_buffer:  # pragma: no cover - frame_size bounds the wait
            self.bytes_dropped += len(held)
            held.clear()

    def flush(self) -> bytes:
        """Return and forget the bytes of an incomplete frame (e.g. when the peer closed)."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest
