"""The holding registers of each inverter family that Home Assistant may change.

Pure data (no Home Assistant import): what the glue (:mod:`..control`) offers as number,
select and switch entities and what the ``pv_monitor.write_register`` action accepts. A
register not listed here for an inverter's family is never written.

Sources (each register's ``source`` names its document and page):

- **V1.24**: Growatt "Inverter Modbus RTU Protocol" V1.24 (2020), holding registers "first
  group" 0-124 (pp. 9-15, shared by TL-X/MIN, TL3-X/MAX/MID/MAC/MOD and the MIX/SPA/SPH
  storage families) and "six group for storage power" 1000-1124 (pp. 27-34, SPA/SPH).
  V1.20 has the same rows for the registers used here.
- **V3.04**: Growatt "PV Inverter Modbus RTU Protocol II" V3.04/V3.14 (TL inverters,
  holding 0-124): OnOff (0) and Active P Rate (3) as in V1.24.

The rows were read in a text extraction of V1.24 (WouterTuinstra/Homeassistant-Growatt-
Local-Modbus, ``doc/growatt_registers_spec.md``) and checked against public clients that
write them: the Homey Growatt apps (holding 0, 122, 123, 1044, 1070, 1071, 1090, 1091, 1092)
and a Victron VenusOS Growatt module (122 "0...3", 123 in 0.1 %). Where the extraction cut
a range short (1070/1071 "0-10...", 1090/1091 "...-100") the range is the document's
percentage range 0-100.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from .registers import InverterFamily

MAX_READ_SPAN: Final = 125
"""Registers one 0x05 read may ask for (Modbus' own limit for a holding-register read)."""
READ_GAP: Final = 8
"""Registers of a family closer than this are read in one request (fewer round trips)."""


class Control(StrEnum):
    """How a register is shown in Home Assistant."""

    NUMBER = "number"
    SELECT = "select"
    SWITCH = "switch"


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldingRegister:
    """One controllable holding register (raw value: unsigned 16 bits on the wire).

    ``minimum``..``maximum`` is the raw range we write (a subset of the document's where the
    document allows values that make no sense for a home, e.g. a negative export limit);
    ``special`` holds further raw values the document defines (255 = "not limited").
    The shown value is ``raw * scale`` in ``unit``; a select's ``options`` map raw values to
    option keys (translated in ``entity.select.<key>.state``).
    """

    register: int
    key: str
    """Entity key: unique id suffix and translation key."""
    control: Control
    minimum: int = 0
    """Every register here starts at raw 0 (V1.24's ranges)."""
    maximum: int
    scale: float = 1.0
    unit: str | None = None
    special: Mapping[int, float] = field(default_factory=dict)
    """Raw values outside the range the document defines, with the value they show as."""
    options: Mapping[int, str] = field(default_factory=dict)
    risky: bool = False
    """Disabled by default: a wrong value can stop production or harm the battery."""
    source: str

    def allows(self, raw: int) -> bool:
        """Whether ``raw`` may be written (within the range, or a documented special)."""
        if self.options:
            return raw in self.options
        return self.minimum <= raw <= self.maximum or raw in self.special

    def to_native(self, raw: int) -> float | None:
        """The shown number of a raw read-back value.

        None when the document gives the value no meaning (unknown rather than guessed).
        """
        if raw in self.special:
            return self.special[raw]
        if not self.minimum <= raw <= self.maximum:
            return None
        return raw if self.scale == 1 else round(raw * self.scale, 6)

    def to_raw(self, native: float) -> int:
        """The raw value of a number the user set.

        Raises:
            ValueError: ``native`` is not a whole multiple of ``scale`` within the range.
        """
        raw = round(native / self.scale)
        if abs(raw * self.scale - native) > self.scale / 1000 or not self.allows(raw):
            raise ValueError(native)
        return raw

    @property
    def native_min(self) -> float:
        """The smallest number the user can set."""
        return self.minimum * self.scale

    @property
    def native_max(self) -> float:
        """The largest number the user can set."""
        return self.maximum * self.scale


def _switch(register: int, key: str, source: str, *, risky: bool = False) -> HoldingRegister:
    """A 0/1 register: 1 = on (enable), 0 = off (disable)."""
    return HoldingRegister(
        register=register, key=key, control=Control.SWITCH, maximum=1, risky=risky, source=source
    )


def _percent(
    register: int,
    key: str,
    source: str,
    *,
    risky: bool = False,
    special: Mapping[int, float] | None = None,
) -> HoldingRegister:
    """A whole-percent register, 0-100 % (``special``: further documented raw values)."""
    return HoldingRegister(
        register=register,
        key=key,
        control=Control.NUMBER,
        maximum=100,
        unit="%",
        special=special or {},
        risky=risky,
        source=source,
    )


def _select(
    register: int, key: str, options: Mapping[int, str], source: str, *, risky: bool = False
) -> HoldingRegister:
    """An enumerated register; its raw range is that of the document's values ``options``."""
    return HoldingRegister(
        register=register,
        key=key,
        control=Control.SELECT,
        minimum=min(options),
        maximum=max(options),
        options=options,
        risky=risky,
        source=source,
    )


ON_OFF: Final = _switch(
    0,
    "inverter_on",
    'V1.24 pp. 9-15 / V3.04: holding 0 "OnOff", 1 = on, 0 = off (standby: no production)',
    risky=True,
)
ACTIVE_POWER_RATE: Final = _percent(
    3,
    "active_power_rate",
    'V1.24 pp. 9-15 / V3.04: holding 3 "Active P Rate", 0-100 %, 255 = power not limited',
    special={255: 100},
)
EXPORT_LIMIT_MODE: Final = _select(
    122,
    "export_limit_mode",
    {0: "disabled", 1: "rs485_meter", 2: "rs232_meter", 3: "ct"},
    'V1.24 pp. 9-15: holding 122 "ExportLimit_En/dis", 0 = disabled, 1 = RS485 meter, '
    "2 = RS232 meter, 3 = CT",
    risky=True,
)
EXPORT_LIMIT_RATE: Final = HoldingRegister(
    register=123,
    key="export_limit_rate",
    control=Control.NUMBER,
    maximum=1000,
    scale=0.1,
    unit="%",
    source='V1.24 pp. 9-15: holding 123 "ExportLimitPowerRate", 0.1 %, -1000..1000 (we write '
    "0..1000: a negative export limit is not a home's setting)",
)
PRIORITY: Final = _select(
    1044,
    "priority_mode",
    {0: "load_first", 1: "battery_first", 2: "grid_first"},
    'V1.24 pp. 27-34: holding 1044 "Priority", Load first (default) / Bat first / Grid first',
)
GRID_FIRST_DISCHARGE_RATE: Final = _percent(
    1070,
    "grid_first_discharge_rate",
    'V1.24 pp. 27-34: holding 1070 "GridFirstDischargePowerRate", 1 %, 0-100',
)
GRID_FIRST_STOP_SOC: Final = _percent(
    1071,
    "grid_first_stop_soc",
    'V1.24 pp. 27-34: holding 1071 "GridFirstStopSOC", stop discharge SOC, 1 %, 0-100',
    risky=True,
)
BATTERY_FIRST_CHARGE_RATE: Final = _percent(
    1090,
    "battery_first_charge_rate",
    'V1.24 pp. 27-34: holding 1090 "BatFirstPowerRate", charge power rate, 1 %, 0-100',
)
BATTERY_FIRST_STOP_SOC: Final = _percent(
    1091,
    "battery_first_stop_soc",
    'V1.24 pp. 27-34: holding 1091 "wBatFirst stop SOC", stop charge SOC, 1 %, 0-100',
    risky=True,
)
AC_CHARGE: Final = _switch(
    1092,
    "ac_charge",
    'V1.24 pp. 27-34: holding 1092 "AcChargeEnable" (battery first), 1 = enable, 0 = disable',
)

FAMILY_CONTROLS: Final[Mapping[InverterFamily, tuple[HoldingRegister, ...]]] = {
    InverterFamily.TL: (ON_OFF, ACTIVE_POWER_RATE),
    InverterFamily.TL_X: (ON_OFF, ACTIVE_POWER_RATE, EXPORT_LIMIT_MODE, EXPORT_LIMIT_RATE),
    InverterFamily.TL3_X: (ON_OFF, ACTIVE_POWER_RATE, EXPORT_LIMIT_MODE, EXPORT_LIMIT_RATE),
    InverterFamily.SPH: (
        ON_OFF,
        ACTIVE_POWER_RATE,
        EXPORT_LIMIT_MODE,
        EXPORT_LIMIT_RATE,
        PRIORITY,
        GRID_FIRST_DISCHARGE_RATE,
        GRID_FIRST_STOP_SOC,
        BATTERY_FIRST_CHARGE_RATE,
        BATTERY_FIRST_STOP_SOC,
        AC_CHARGE,
    ),
    InverterFamily.SPF: (),
}
"""The writable registers of each family. SPF off-grid inverters have another holding
map (not in V1.24's groups): nothing is written to them."""

FAMILY_READ_RANGES: Final[Mapping[InverterFamily, tuple[tuple[int, int], ...]]] = {
    InverterFamily.TL: ((0, 124),),
    InverterFamily.TL_X: ((0, 124), (3000, 3124)),
    InverterFamily.TL3_X: ((0, 124), (125, 249)),
    InverterFamily.SPH: ((0, 124), (1000, 1124)),
    InverterFamily.SPF: (),
}
"""Holding ranges the ``pv_monitor.read_registers`` action may read, per family: the groups
V1.24 (its list of register ranges per type) and V3.04 document for it. Reads change nothing,
but a register outside the documented groups may answer garbage or stall a datalogger."""


def controls_of_kind(control: Control) -> dict[str, HoldingRegister]:
    """Every family's registers shown as ``control``, by key (one entry per key)."""
    return {
        reg.key: reg
        for registers in FAMILY_CONTROLS.values()
        for reg in registers
        if reg.control is control
    }


def family_controls(family: InverterFamily | None) -> tuple[HoldingRegister, ...]:
    """The writable registers of ``family`` (none for an unknown family)."""
    return FAMILY_CONTROLS.get(family, ()) if family is not None else ()


def find_control(family: InverterFamily | None, register: int) -> HoldingRegister | None:
    """The writable register ``register`` of ``family``, or None if it is not allow-listed."""
    return next((reg for reg in family_controls(family) if reg.register == register), None)


def read_allowed(family: InverterFamily | None, first: int, last: int) -> bool:
    """Whether ``first``..``last`` (inclusive) may be read from an inverter of ``family``.

    It must lie within one readable range and span at most :data:`MAX_READ_SPAN` registers.
    """
    if family is None or not 0 <= first <= last or last - first + 1 > MAX_READ_SPAN:
        return False
    return any(lo <= first and last <= hi for lo, hi in FAMILY_READ_RANGES.get(family, ()))


def read_blocks(registers: Iterable[HoldingRegister]) -> list[tuple[int, int]]:
    """``(first, last)`` reads that cover ``registers``, in register order.

    Neighbours within :data:`READ_GAP` share a read of at most :data:`MAX_READ_SPAN`.
    """
    blocks: list[tuple[int, int]] = []
    for number in sorted({reg.register for reg in registers}):
        if blocks:
            first, last = blocks[-1]
            if number - last < READ_GAP and number - first < MAX_READ_SPAN:
                blocks[-1] = (first, number)
                continue
        blocks.append((number, number))
    return blocks
