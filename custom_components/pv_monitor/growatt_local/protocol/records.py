"""Register records: the payload of announce (0x03), data (0x04) and buffered data (0x50).

Layout of the plaintext payload (verified on every such capture in
``tests/fixtures/growatt``, protocols 2, 5 and 6)::

    datalogger serial   ``serial_width`` bytes (10 on protocols 2/5, 30 NUL-padded on 6)
    inverter serial     ``serial_width`` bytes
    timestamp           6 bytes: year - 2000, month, day, hour, minute, second
                        (datalogger clock; all zero on protocol 2 and in protocol 5 announces)
    group count         u8
    groups              ``group count`` times: start u16, end u16, (end - start + 1) u16 values

All integers are big-endian. Announces carry *holding* registers, data and buffered data carry
*input* registers; a buffered record is a data record that was stored while the server was
unreachable and keeps its original timestamp.

Example: a protocol 5 data record of a single-phase TL inverter is 10 + 10 + 6 + 1 bytes of
header and three groups 0-44, 45-89, 90-134; a protocol 6 record of a TL-X inverter is
30 + 30 + 6 + 1 bytes and two groups 3000-3124, 3125-3249.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
import struct
from typing import Final

from .framing import Frame, FrameError, Function

RECORD_FUNCTIONS: Final = frozenset(
    {int(Function.ANNOUNCE), int(Function.DATA), int(Function.BUFFERED_DATA)}
)
"""Functions whose payload is a register record."""

TIMESTAMP_SIZE: Final = 6
_GROUP_HEADER: Final = struct.Struct(">HH")
_STRIP: Final = b"\x00 "

_MAX_CACHED_STRUCTS: Final = 64
_MAX_CACHED_LAYOUTS: Final = 64

type _Layout = tuple[
    tuple[tuple[int, int, int], ...], tuple[tuple[int, int], ...], tuple[tuple[int, bytes], ...]
]
"""``(layout, groups, (offset, 4 header bytes) of every group after the first)``."""
_layouts: dict[tuple[int, int, bytes], _Layout] = {}
"""Checked group layouts by (count byte offset, payload size, count byte and first group
header). The layout depends only on those and the later group headers, which a hit compares
byte for byte: a datalogger repeats one layout, whose checks then cost one dict look-up."""
_value_structs: dict[int, struct.Struct] = {}
"""Compiled ``>nH`` unpackers by value count (real records use a handful: 45, 125)."""


class PayloadRegisters(Mapping[int, int]):
    """Read-only ``register -> raw u16`` view of a record payload, unpacked on first use.

    A record is parsed (its layout checked) on every frame, but most consumers read only
    the few registers a value needs straight from the payload (see
    :func:`.reading.decode_record`); the full mapping is built only when something asks
    for it (device info of an announce, family detection by values, tests).

    Attributes:
        payload: the plaintext record payload.
        layout: ``(start, end, byte offset of the first value)`` per group, payload order.
    """

    __slots__ = ("_map", "layout", "payload")

    def __init__(self, payload: bytes, layout: tuple[tuple[int, int, int], ...]) -> None:
        """View the groups ``layout`` of ``payload`` (as checked by :func:`parse_record`)."""
        self.payload = payload
        self.layout = layout
        self._map: dict[int, int] | None = None

    def _registers(self) -> dict[int, int]:
        registers = self._map
        if registers is None:
            registers = {}
            for start, end, offset in self.layout:
                count = end - start + 1
                values = _unpacker(count).unpack_from(self.payload, offset)
                registers.update(zip(range(start, end + 1), values, strict=True))
            self._map = registers
        return registers

    def __getitem__(self, register: int) -> int:
        """The raw value of ``register``; KeyError when no group carries it."""
        return self._registers()[register]

    def __iter__(self) -> Iterator[int]:
        """Register numbers in payload order."""
        return iter(self._registers())

    def __len__(self) -> int:
        """Number of registers in the record."""
        return sum(end - start + 1 for start, end, _ in self.layout)

    def __repr__(self) -> str:
        """Like the dict it stands for."""
        return repr(self._registers())


def _unpacker(count: int) -> struct.Struct:
    unpacker = _value_structs.get(count)
    if unpacker is None:
        unpacker = struct.Struct(f">{count}H")
        if len(_value_structs) < _MAX_CACHED_STRUCTS:
            _value_structs[count] = unpacker
    return unpacker


class RecordError(FrameError):
    """The payload of a record frame does not follow the record layout.

    Raised for a non-record function, a payload too short for its serials and timestamp, a
    truncated group, a group whose end register is below its start, overlapping groups, or
    bytes left over after the announced number of groups.
    """


@dataclass(slots=True)
class Record:
    """One decoded register record (treat it as read-only; not frozen, for speed).

    Attributes:
        function: 0x03 (announce, holding registers), 0x04 (data, input registers) or 0x50
            (buffered data, input registers).
        protocol: frame protocol (2, 5 or 6).
        datalogger_serial: ASCII serial of the datalogger, NULs and spaces stripped.
        inverter_serial: ASCII serial of the inverter, NULs and spaces stripped.
        timestamp: naive datalogger clock of the record, or ``None`` when the field is all
            zero (protocol 2, protocol 5 announces) or not a valid date.
        registers: register number -> raw unsigned 16-bit value (read-only mapping; a
            :class:`PayloadRegisters` view for parsed records).
        groups: ``(start, end)`` register ranges in payload order, ends inclusive.
    """

    function: int
    protocol: int
    datalogger_serial: str
    inverter_serial: str
    timestamp: datetime | None
    registers: Mapping[int, int]
    groups: tuple[tuple[int, int], ...] = ()

    @property
    def buffered(self) -> bool:
        """Whether this is a buffered (0x50) record sent after a server outage."""
        return self.function == Function.BUFFERED_DATA

    @property
    def holding(self) -> bool:
        """Whether the registers are holding registers (announce, 0x03)."""
        return self.function == Function.ANNOUNCE


def _serial(raw: bytes) -> str:
    return raw.strip(_STRIP).decode("ascii", errors="replace")


def _timestamp(raw: bytes) -> datetime | None:
    if not any(raw):
        return None
    year, month, day, hour, minute, second = raw
    try:
        return datetime(2000 + year, month, day, hour, minute, second)
    except ValueError:
        return None


def _overlap(layout: list[tuple[int, int, int]]) -> bool:
    previous_end = -1
    for start, end, _ in sorted(layout):
        if start <= previous_end:
            return True
        previous_end = end
    return False


def parse_record(frame: Frame) -> Record:
    """Parse the payload of an announce, data or buffered-data frame.

    Args:
        frame: a decoded frame of function 0x03, 0x04 or 0x50 (plaintext payload).

    Returns:
        The record, with every register of every group in ``registers``.

    Raises:
        RecordError: the function is not a record function or the payload does not follow
            the record layout (see :class:`RecordError`). No other exception is raised.
    """
    function = frame.function
    if function not in RECORD_FUNCTIONS:
        raise RecordError(f"function {function:#04x} does not carry a register record")
    payload = frame.payload
    size = len(payload)
    width = 30 if frame.protocol == 6 else 10  # Frame.serial_width
    pos = 2 * width + TIMESTAMP_SIZE
    if size < pos + 1:
        raise RecordError(f"record payload of {size} bytes is shorter than its header")
    key = (pos, size, payload[pos : pos + 5])  # group count and first group header
    cached = _layouts.get(key)
    if cached is not None:
        for at, header in cached[2]:
            if payload[at : at + 4] != header:
                cached = None
                break
    if cached is None:
        cached = _parse_groups(payload, pos)
        if len(_layouts) >= _MAX_CACHED_LAYOUTS:  # hostile layouts must not grow it unbounded
            _layouts.clear()
        _layouts[key] = cached
    layout, groups, _ = cached
    return Record(
        function,
        frame.protocol,
        _serial(payload[:width]),
        _serial(payload[width : 2 * width]),
        _timestamp(payload[2 * width : 2 * width + TIMESTAMP_SIZE]),
        PayloadRegisters(payload, layout),
        groups,
    )


def _parse_groups(payload: bytes, pos: int) -> _Layout:
    """Check and locate the register groups of ``payload`` (count byte at ``pos``).

    Raises:
        RecordError: see :func:`parse_record`.
    """
    size = len(payload)
    group_count = payload[pos]
    pos += 1
    layout: list[tuple[int, int, int]] = []
    headers: list[tuple[int, bytes]] = []
    unpack_header = _GROUP_HEADER.unpack_from
    ascending, previous_end = True, -1
    for index in range(group_count):
        if size - pos < 4:
            raise RecordError(f"group {index} header truncated at byte {pos}")
        start, end = unpack_header(payload, pos)
        headers.append((pos, payload[pos : pos + 4]))
        pos += 4
        if end < start:
            raise RecordError(f"group {index} ends at register {end} before its start {start}")
        count = end - start + 1
        if size - pos < 2 * count:
            raise RecordError(
                f"group {index} ({start}-{end}) needs {2 * count} bytes, {size - pos} left"
            )
        layout.append((start, end, pos))
        pos += 2 * count
        ascending = ascending and start > previous_end
        previous_end = end
    if pos != size:
        raise RecordError(
            f"{size - pos} bytes left after {group_count} groups: count inconsistent with length"
        )
    if not ascending and _overlap(layout):  # groups in register order cannot overlap
        raise RecordError("register groups overlap")
    groups = tuple((start, end) for start, end, _ in layout)
    return tuple(layout), groups, tuple(headers[1:])


def encode_record_payload(record: Record) -> bytes:
    """Build the plaintext payload of ``record`` (the inverse of :func:`parse_record`).

    Serial fields take the width of ``record.protocol`` (30 bytes on protocol 6, else 10);
    the timestamp is written as six bytes (all zero when ``record.timestamp`` is None); the
    groups are ``record.groups`` (or one group per run of consecutive registers when the
    record has none). Used by the replay script, the benchmarks and tests that need records
    with chosen times and values.

    Raises:
        RecordError: a register of a group is missing, or a value does not fit in 16 bits.
    """
    width = 30 if record.protocol == 6 else 10
    out = bytearray()
    out += record.datalogger_serial.encode("ascii")[:width].ljust(width, b"\x00")
    out += record.inverter_serial.encode("ascii")[:width].ljust(width, b"\x00")
    ts = record.timestamp
    if ts is None:
        out += bytes(TIMESTAMP_SIZE)
    else:
        out += bytes((ts.year - 2000, ts.month, ts.day, ts.hour, ts.minute, ts.second))
    groups = record.groups or _runs(sorted(record.registers))
    out.append(len(groups))
    for start, end in groups:
        out += _GROUP_HEADER.pack(start, end)
        try:
            out += struct.pack(
                f">{end - start + 1}H", *(record.registers[r] for r in range(start, end + 1))
            )
        except (KeyError, struct.error) as err:
            raise RecordError(f"group {start}-{end} cannot be encoded: {err}") from err
    return bytes(out)


def _runs(registers: list[int]) -> tuple[tuple[int, int], ...]:
    runs: list[tuple[int, int]] = []
    for register in registers:
        if runs and runs[-1][1] == register - 1:
            runs[-1] = (runs[-1][0], register)
        else:
            runs.append((register, register))
    return tuple(runs)
