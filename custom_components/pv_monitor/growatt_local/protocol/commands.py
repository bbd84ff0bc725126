"""Inverter register commands through the datalogger: 0x05 read, 0x06 write one, 0x10 write a range.

The server sends these on the datalogger's own connection; the datalogger passes them to the
inverter on its RS-485 bus (Modbus RTU) and answers on the same connection. Layouts (every
integer big-endian, after the frame header of :mod:`.framing`; ``serial`` is the datalogger
serial, 10 bytes, NUL-padded to 30 on protocol 6, as :func:`.messages.serial_field`)::

    0x05 request   serial, first u16, last u16
    0x05 answer    serial, first u16, last u16, (last - first + 1) x value u16
                   (no values at all: the inverter did not answer the datalogger)
    0x06 request   serial, register u16, value u16
    0x06 answer    serial, register u16, result u8, value u16
    0x10 request   serial, first u16, last u16, (last - first + 1) x value u16
    0x10 answer    serial, first u16, last u16, result u8

The header's unit byte addresses the inverter: the unit of that inverter's announce (grott
``grottserver.py`` sends its "inverterno", the announce's unit byte, for 0x05/0x06/0x10).
Result byte 0x00 means done, anything else failed (0x01 in bremme/shine2mqtt
``protocol/messages/constants.py``; 0x00 in the captured successful 0x06 answer of
JonasMH/Growatt2Mqtt). The datalogger echoes the request's sequence number in its answer
(bremme/shine2mqtt matches answers by function and sequence number,
``protocol/session/response_tracker.py``; its captured 0x05 answers carry the numbers it
sent, and JonasMH/Growatt2Mqtt's captured request and answer both carry 1).

Sources of the layouts: johanmeijer/grott ``grottserver.py`` (requests and the offsets it
reads answers at, protocols 2, 5 and 6), bremme/shine2mqtt
``protocol/messages/read_register`` and ``write_register`` (protocol 6), JonasMH/Growatt2Mqtt
``Telegrams/GrowattInverterCommandTelegram.cs`` and ``GrowattInverterQueryTelegram.cs``
(protocol 6), and the captures in ``tests/fixtures/growatt`` (sources in each file).
Protocol 2 frames have the same payload, neither scrambled nor CRC-protected (grott).

No Home Assistant import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from .framing import Frame, FrameError, Function, encode_frame
from .messages import serial_field

RESULT_OK: Final = 0x00
"""Result byte of a 0x06/0x10 answer for a write the inverter accepted."""

MAX_READ: Final = 125
"""Most registers one 0x05 may read: Modbus function 0x03's limit (Modbus Application
Protocol Specification V1.1b3, section 6.3), which the datalogger forwards; Growatt's own
records carry register groups of 125."""
MAX_WRITE: Final = 123
"""Most registers one 0x10 may write: Modbus function 0x10's limit (same specification,
section 6.12)."""
MAX_REGISTER: Final = 0xFFFF
MAX_VALUE: Final = 0xFFFF
"""Registers and values are unsigned 16-bit on the wire."""

REGISTER_FUNCTIONS: Final = frozenset(
    {int(Function.READ_REGISTERS), int(Function.WRITE_REGISTER), int(Function.WRITE_REGISTERS)}
)
"""Functions of the register commands and of their answers."""


@dataclass(frozen=True, slots=True)
class RegisterValues:
    """A datalogger's answer to 0x05 (read holding registers).

    ``values[i]`` is register ``first + i`` (u16, raw: scale and unit are the register
    document's). An empty ``values`` means the datalogger answered without values: its
    inverter did not answer it (grott ``grottserver.py`` calls this "empty register get
    response").
    """

    first: int
    last: int
    values: tuple[int, ...]

    @property
    def complete(self) -> bool:
        """Whether every register from ``first`` to ``last`` has its value."""
        return len(self.values) == self.last - self.first + 1

    def as_dict(self) -> dict[int, int]:
        """``{register: value}`` for every register read."""
        return dict(zip(range(self.first, self.last + 1), self.values, strict=False))


@dataclass(frozen=True, slots=True)
class WriteResult:
    """A datalogger's answer to 0x06 (one register) or 0x10 (a range).

    ``function`` is 0x06 or 0x10; ``first``..``last`` the registers written (equal for
    0x06); ``ok`` whether the result byte said done (0x00); ``values`` the values the
    answer echoes (0x06 carries the register's value; 0x10 carries none: ``()``).
    """

    function: int
    first: int
    last: int
    ok: bool
    values: tuple[int, ...]


class CommandAnswerError(FrameError):
    """A 0x05/0x06/0x10 answer whose payload does not have the layout of its function."""


def _check_range(first: int, last: int, most: int) -> None:
    """Raise ValueError unless ``first..last`` is a range of at most ``most`` registers."""
    if not 0 <= first <= last <= MAX_REGISTER:
        raise ValueError(f"register range {first}..{last} is not within 0..{MAX_REGISTER}")
    if last - first + 1 > most:
        raise ValueError(f"{last - first + 1} registers; at most {most} per command")


def _check_value(value: int) -> None:
    if not 0 <= value <= MAX_VALUE:
        raise ValueError(f"value {value} is not an unsigned 16-bit integer")


def check_request(
    function: int, first: int, values: Sequence[int] = (), last: int | None = None
) -> int:
    """Check a command's registers and values before anything is queued or sent.

    ``function`` 0x05 reads ``first``..``last``; 0x06 writes ``values[0]`` into ``first``;
    0x10 writes ``values`` from ``first`` on. Returns the last register addressed.

    Raises:
        ValueError: a register or value beyond u16, an empty range, more than
            :data:`MAX_READ` registers read or :data:`MAX_WRITE` written, or not exactly one
            value for 0x06, or a function that is not a register command.
    """
    if function == Function.READ_REGISTERS:
        end = first if last is None else last
        _check_range(first, end, MAX_READ)
        return end
    if function == Function.WRITE_REGISTER:
        if len(values) != 1:
            raise ValueError(f"0x06 writes one value, not {len(values)}")
        _check_range(first, first, 1)
    elif function == Function.WRITE_REGISTERS:
        _check_range(first, first + len(values) - 1, MAX_WRITE)
    else:
        raise ValueError(f"function {function:#04x} is not a register command")
    for value in values:
        _check_value(value)
    return first + len(values) - 1


def _u16(*numbers: int) -> bytes:
    return b"".join(n.to_bytes(2, "big") for n in numbers)


def read_registers(
    seq: int, protocol: int, unit: int, datalogger: str, first: int, last: int
) -> bytes:
    """Wire bytes of a 0x05 request reading holding registers ``first``..``last``.

    Raises:
        ValueError: the range is empty, beyond 0..65535 or longer than :data:`MAX_READ`.
        UnknownProtocolError: ``protocol`` is not 2, 5 or 6.
    """
    check_request(Function.READ_REGISTERS, first, last=last)
    payload = serial_field(datalogger, protocol) + _u16(first, last)
    return encode_frame(seq, protocol, unit, Function.READ_REGISTERS, payload)


def write_register(
    seq: int, protocol: int, unit: int, datalogger: str, register: int, value: int
) -> bytes:
    """Wire bytes of a 0x06 request writing ``value`` (u16) into holding ``register``.

    Raises:
        ValueError: ``register`` or ``value`` is not an unsigned 16-bit integer.
        UnknownProtocolError: ``protocol`` is not 2, 5 or 6.
    """
    check_request(Function.WRITE_REGISTER, register, (value,))
    payload = serial_field(datalogger, protocol) + _u16(register, value)
    return encode_frame(seq, protocol, unit, Function.WRITE_REGISTER, payload)


def write_registers(
    seq: int, protocol: int, unit: int, datalogger: str, first: int, values: Sequence[int]
) -> bytes:
    """Wire bytes of a 0x10 request writing ``values`` into registers from ``first`` on.

    Raises:
        ValueError: no values, more than :data:`MAX_WRITE`, a value or register beyond u16.
        UnknownProtocolError: ``protocol`` is not 2, 5 or 6.
    """
    last = check_request(Function.WRITE_REGISTERS, first, values)
    payload = serial_field(datalogger, protocol) + _u16(first, last, *values)
    return encode_frame(seq, protocol, unit, Function.WRITE_REGISTERS, payload)


def parse_answer(frame: Frame) -> RegisterValues | WriteResult:
    """Decode a datalogger's answer to 0x05, 0x06 or 0x10 (layouts in the module docstring).

    The datalogger serial field is not checked here (the listener checks it against the
    connection's before anything else).

    Raises:
        CommandAnswerError: not a register function, or the payload's size does not fit.
    """
    body = frame.payload[frame.serial_width :]
    function = frame.function
    if function == Function.READ_REGISTERS:
        return _parse_read(body)
    if function == Function.WRITE_REGISTER:
        if len(body) != 5:
            raise CommandAnswerError(f"0x06 answer of {len(body)} bytes after the serial")
        register = int.from_bytes(body[0:2], "big")
        value = int.from_bytes(body[3:5], "big")
        return WriteResult(function, register, register, body[2] == RESULT_OK, (value,))
    if function == Function.WRITE_REGISTERS:
        if len(body) != 5:
            raise CommandAnswerError(f"0x10 answer of {len(body)} bytes after the serial")
        first, last = int.from_bytes(body[0:2], "big"), int.from_bytes(body[2:4], "big")
        if first > last:
            raise CommandAnswerError(f"0x10 answer for registers {first}..{last}")
        return WriteResult(function, first, last, body[4] == RESULT_OK, ())
    raise CommandAnswerError(f"function {function:#04x} is not a register command")


def _parse_read(body: bytes) -> RegisterValues:
    """The part of a 0x05 answer after the serial: first, last, then the values."""
    if len(body) < 4:
        raise CommandAnswerError(f"0x05 answer of {len(body)} bytes after the serial")
    first, last = int.from_bytes(body[0:2], "big"), int.from_bytes(body[2:4], "big")
    count = last - first + 1
    data = body[4:]
    if not 0 < count <= MAX_READ or len(data) not in (0, 2 * count):
        raise CommandAnswerError(
            f"0x05 answer for registers {first}..{last} with {len(data)} bytes of values"
        )
    values = tuple(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    return RegisterValues(first, last, values)
