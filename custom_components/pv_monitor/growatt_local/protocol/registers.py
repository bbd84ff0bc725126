"""Register maps of Growatt inverter families: raw registers -> named values in SI/HA units.

The family is recognised from the register ranges a record carries (no per-model setting),
except off-grid SPF inverters, which use the same input ranges as single-phase TL inverters
and need a per-inverter override (see :func:`detect_family`).

Sources (Growatt's own Modbus documents, as published in public projects; every table below
was written from the document's register list, cross-checked against the real captures in
``tests/fixtures/growatt``):

* ``TL`` - "Growatt PV Inverter Modbus RS485 RTU Protocol" V3.04 (2013-02-28) / V3.14
  (2016-09-27), input registers 0-65 (the layout that Growatt's "protocol II" TL inverters
  and ShineWiFi-S / ShineLAN dataloggers send as groups 0-44, 45-89, 90-134). The captures
  match this layout (Pac at 11-12, Fac at 13) and *not* the 0-124 layout of V1.2x.
* ``TL_X`` - "Growatt Inverter Modbus RTU Protocol" V1.24 (2020), input registers
  3000-3124 and 3125-3249 ("TL-X/TL-XH/TL-XH US (MIN type)", also MOD TL3-XH).
* ``TL3_X`` and ``SPH`` - the same V1.24 document, input registers 0-124 (common map of
  TL3-X MAX/MID/MAC and MIX/SPH storage) plus, for storage, 1000-1124 and 1125-1249.
* ``SPF`` - "Growatt OffGrid SPF5000 Modbus RS485 RTU Protocol" V0.11 (2017-08-09), input
  registers 0-82.

32-bit values occupy two registers, high word first. Values are scaled to W, VA, var, V, A,
Hz, kWh, kvarh, degC, % and h and rounded to 3 decimals, so 0.1-scaled values compare equal
to their decimal text (``round(229 * 0.1, 3) == 22.9``).

Plausibility: a datalogger occasionally sends a garbage register block (seen on an SPF at
night, ``grott_test_v6_0104_spf_night_invalid1``: PV2 power 393 MW, buck current 6000 A).
Every spec therefore has a physical limit derived from the family's largest model; a value
beyond it is dropped from the result instead of being reported, and an impossible power or
current discards the whole register block it came from (see :data:`BLOCKS`).

The V1.24 document also gives the SPH 1000-range and the TL3-X 0-124 input maps; the
SPH and TL3-X tables are written from it but no capture of those families was available
to check them against, unlike TL, TL-X and SPF.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from .codes import (
    SPF_FAULT_NAMES,
    SPF_WARNING_BITS,
    TL_FAULT_NAMES,
    TL_WARNING_BITS,
    UNDOCUMENTED,
    CodeTable,
    code_text,
    states,
)


class InverterFamily(StrEnum):
    """Register map family of an inverter."""

    TL = "tl"
    """Single/three-phase TL, V3.x "protocol II" input registers 0-134."""
    TL_X = "tl_x"
    """TL-X / TL-XH: MIN, MIC, MOD, MID; V1.24 input registers 3000-3249."""
    TL3_X = "tl3_x"
    """TL3-X MAX/MID/MAC; V1.24 input registers 0-124 and 125-249."""
    SPH = "sph"
    """SPH / SPA hybrids: V1.24 input registers 0-124 plus 1000-1249 (battery, grid, load)."""
    SPF = "spf"
    """Off-grid SPF: same ranges as TL (0-134), only selectable by override."""


# ---------------------------------------------------------------------------------------
# Units

W: Final = "W"
VA: Final = "VA"
VAR: Final = "var"
V: Final = "V"
A: Final = "A"
HZ: Final = "Hz"
KWH: Final = "kWh"
KVARH: Final = "kvarh"
CELSIUS: Final = "°C"
PERCENT: Final = "%"
HOURS: Final = "h"


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    """One value in a register map.

    Attributes:
        key: value name in the result of :func:`decode_values`.
        register: first register (the high word for 32-bit values).
        words: 1 (16-bit) or 2 (32-bit, high word first).
        scale: factor from the raw integer to ``unit``; 1 keeps the raw ``int``.
        signed: two's complement value.
        unit: Home Assistant unit of the scaled value, ``None`` for codes.
    """

    key: str
    register: int
    words: int = 1
    scale: float = 1.0
    signed: bool = False
    unit: str | None = None


# Helpers: one per document "type" of value, so the tables read like the documents.


def _code(key: str, register: int) -> RegisterSpec:
    return RegisterSpec(key, register)


def _p32(key: str, register: int, *, signed: bool = False, unit: str = W) -> RegisterSpec:
    """Power, two registers, 0.1 W (or VA / var)."""
    return RegisterSpec(key, register, 2, 0.1, signed, unit)


def _v(key: str, register: int, scale: float = 0.1) -> RegisterSpec:
    return RegisterSpec(key, register, 1, scale, False, V)


def _a(key: str, register: int) -> RegisterSpec:
    return RegisterSpec(key, register, 1, 0.1, False, A)


def _hz(key: str, register: int) -> RegisterSpec:
    return RegisterSpec(key, register, 1, 0.01, False, HZ)


def _e32(key: str, register: int, unit: str = KWH) -> RegisterSpec:
    """Energy, two registers, 0.1 kWh (or kvarh)."""
    return RegisterSpec(key, register, 2, 0.1, False, unit)


def _temp(key: str, register: int) -> RegisterSpec:
    """Temperature, 0.1 degC, read as signed.

    The documents do not say, but an unsigned reading of a sub-zero temperature (0xFFxx)
    would be 6500 degC.
    """
    return RegisterSpec(key, register, 1, 0.1, True, CELSIUS)


def _hours(key: str, register: int) -> RegisterSpec:
    """Work time, two registers, 0.5 s, converted to hours."""
    return RegisterSpec(key, register, 2, 0.5 / 3600, False, HOURS)


def _percent(key: str, register: int, scale: float = 1.0) -> RegisterSpec:
    return RegisterSpec(key, register, 1, scale, False, PERCENT)


def _pv(n: int, voltage: int, current: int, power: int) -> tuple[RegisterSpec, ...]:
    return (
        _v(f"pv{n}_voltage", voltage),
        _a(f"pv{n}_current", current),
        _p32(f"pv{n}_power", power),
    )


def _phase(n: int, voltage: int) -> tuple[RegisterSpec, ...]:
    """Voltage, current, two-register power of AC phase ``n`` at ``voltage``..``voltage+3``.

    The documents give phase power in 0.1 VA ("grid output watt VA"); it is reported as W
    like the publishers' decoders do.
    """
    return (
        _v(f"ac_l{n}_voltage", voltage),
        _a(f"ac_l{n}_current", voltage + 1),
        _p32(f"ac_l{n}_power", voltage + 2),
    )


def _energy_pair(prefix: str, register: int) -> tuple[RegisterSpec, ...]:
    """``<prefix>_today`` at ``register`` and ``<prefix>_total`` at ``register + 2``."""
    return (_e32(f"{prefix}_today", register), _e32(f"{prefix}_total", register + 2))


# ---------------------------------------------------------------------------------------
# Status codes

STATUS_NAMES: Final[dict[InverterFamily, dict[int, str]]] = {
    # V3.x input 0 and V1.24 input 0 / low byte of 3000: 0 waiting, 1 normal, 3 fault.
    InverterFamily.TL: {0: "waiting", 1: "normal", 3: "fault"},
    InverterFamily.TL_X: {0: "waiting", 1: "normal", 3: "fault"},
    InverterFamily.TL3_X: {0: "waiting", 1: "normal", 3: "fault"},
    # V1.24 input 1000 uwSysWorkMode (0-4) and the storage modes listed for 3000 (5, 6);
    # 7 and 8 are the off-grid modes of the storage documents.
    InverterFamily.SPH: {
        0: "waiting",
        1: "self_test",
        2: "reserved",
        3: "fault",
        4: "flash",
        5: "pv_battery_online",
        6: "battery_online",
        7: "pv_offline",
        8: "battery_offline",
    },
    # SPF V0.11 input 0 "System Status".
    InverterFamily.SPF: {
        0: "standby",
        1: "no_use",
        2: "discharge",
        3: "fault",
        4: "flash",
        5: "pv_charge",
        6: "ac_charge",
        7: "combine_charge",
        8: "combine_charge_bypass",
        9: "pv_charge_bypass",
        10: "ac_charge_bypass",
        11: "bypass",
        12: "pv_charge_discharge",
    },
}
"""Status code -> snake_case state name per family; unknown codes decode to ``"unknown"``."""

STATUS_REGISTER: Final[dict[InverterFamily, tuple[int, int]]] = {
    InverterFamily.TL: (0, 0xFFFF),
    # 3000: high byte = storage work mode (TL-XH), low byte = run state.
    InverterFamily.TL_X: (3000, 0x00FF),
    InverterFamily.TL3_X: (0, 0xFFFF),
    InverterFamily.SPH: (1000, 0xFFFF),
    InverterFamily.SPF: (0, 0xFFFF),
}
"""Register holding the status code and the mask applied before looking up its name."""


# ---------------------------------------------------------------------------------------
# Register maps

TL_MAP: Final[tuple[RegisterSpec, ...]] = (
    # Growatt PV Inverter Modbus RS485 RTU Protocol V3.04 / V3.14, input registers.
    _p32("pv_power", 1),
    *_pv(1, 3, 4, 5),
    *_pv(2, 7, 8, 9),
    _p32("ac_power", 11),
    _hz("grid_frequency", 13),
    *_phase(1, 14),
    *_phase(2, 18),
    *_phase(3, 22),
    *_energy_pair("energy", 26),
    _hours("operating_hours", 30),
    _temp("inverter_temperature", 32),
    _code("fault_code", 40),
    _temp("ipm_temperature", 41),
    _v("p_bus_voltage", 42),
    _v("n_bus_voltage", 43),
    *_energy_pair("pv1_energy", 48),
    *_energy_pair("pv2_energy", 52),
    _e32("pv_energy_total", 56),
    _p32("reactive_power", 58, unit=VAR),
    _e32("reactive_energy_today", 60, KVARH),
    _e32("reactive_energy_total", 62, KVARH),
    _code("warning_code", 64),
)
"""TL "protocol II" inverters (V3.x input registers 0-65)."""

_V124_COMMON: Final[tuple[RegisterSpec, ...]] = (
    # Growatt Inverter Modbus RTU Protocol V1.24, input registers 0-124 (TL3-X and storage).
    _p32("pv_power", 1),
    *_pv(1, 3, 4, 5),
    *_pv(2, 7, 8, 9),
    *_pv(3, 11, 12, 13),
    *_pv(4, 15, 16, 17),
    _p32("ac_power", 35),
    _hz("grid_frequency", 37),
    *_phase(1, 38),
    *_phase(2, 42),
    *_phase(3, 46),
    _v("ac_rs_voltage", 50),
    _v("ac_st_voltage", 51),
    _v("ac_tr_voltage", 52),
    *_energy_pair("energy", 53),
    _hours("operating_hours", 57),
    *_energy_pair("pv1_energy", 59),
    *_energy_pair("pv2_energy", 63),
    *_energy_pair("pv3_energy", 67),
    *_energy_pair("pv4_energy", 71),
    _e32("pv_energy_total", 91),
    _temp("inverter_temperature", 93),
    _temp("ipm_temperature", 94),
    _temp("boost_temperature", 95),
    _v("p_bus_voltage", 98),
    _v("n_bus_voltage", 99),
    _code("fault_code", 105),
    _code("warning_code", 112),
)

TL3_X_MAP: Final[tuple[RegisterSpec, ...]] = _V124_COMMON
"""TL3-X MAX/MID/MAC (V1.24 input registers 0-124)."""

SPH_MAP: Final[tuple[RegisterSpec, ...]] = (
    *_V124_COMMON,
    # V1.24 storage input registers 1000-1127 (MIX / SPA / SPH).
    _p32("battery_discharge_power", 1009),
    _p32("battery_charge_power", 1011),
    _v("battery_voltage", 1013),
    _percent("battery_soc", 1014),
    _p32("grid_import_power", 1021),  # PactouserTotal: AC power to user (from grid)
    _p32("grid_export_power", 1029),  # PactogridTotal: AC power to grid
    _p32("load_power", 1037),  # PLocalLoadTotal: inverter power to local load
    _temp("battery_temperature", 1040),
    *_energy_pair("grid_import_energy", 1044),
    *_energy_pair("grid_export_energy", 1048),
    *_energy_pair("battery_discharge_energy", 1052),
    *_energy_pair("battery_charge_energy", 1056),
    *_energy_pair("load_energy", 1060),
    *_energy_pair("ac_charge_energy", 1124),
)
"""SPH / SPA hybrids (V1.24 input registers 0-124 and 1000-1249)."""

TL_X_MAP: Final[tuple[RegisterSpec, ...]] = (
    # Growatt Inverter Modbus RTU Protocol V1.24, input registers 3000-3124.
    _p32("pv_power", 3001),
    *_pv(1, 3003, 3004, 3005),
    *_pv(2, 3007, 3008, 3009),
    *_pv(3, 3011, 3012, 3013),
    *_pv(4, 3015, 3016, 3017),
    _p32("reactive_power", 3021, unit=VAR),
    _p32("ac_power", 3023),
    _hz("grid_frequency", 3025),
    *_phase(1, 3026),
    *_phase(2, 3030),
    *_phase(3, 3034),
    _v("ac_rs_voltage", 3038),
    _v("ac_st_voltage", 3039),
    _v("ac_tr_voltage", 3040),
    _p32("grid_import_power", 3041),  # Ptousertotal: total forward power (meter)
    _p32("grid_export_power", 3043),  # Ptogridtotal: total reverse power (meter)
    _p32("load_power", 3045),  # Ptoloadtotal
    _hours("operating_hours", 3047),
    *_energy_pair("energy", 3049),
    _e32("pv_energy_total", 3053),
    *_energy_pair("pv1_energy", 3055),
    *_energy_pair("pv2_energy", 3059),
    *_energy_pair("pv3_energy", 3063),
    *_energy_pair("grid_import_energy", 3067),  # Etouser
    *_energy_pair("grid_export_energy", 3071),  # Etogrid
    *_energy_pair("load_energy", 3075),  # Eload
    *_energy_pair("pv4_energy", 3079),
    _e32("pv_energy_today", 3083),
    _temp("inverter_temperature", 3093),
    _temp("ipm_temperature", 3094),
    _temp("boost_temperature", 3095),
    _v("p_bus_voltage", 3098),
    _v("n_bus_voltage", 3099),
    _code("fault_code", 3105),
    _code("warning_code", 3106),
)
"""TL-X / TL-XH (V1.24 input registers 3000-3124)."""

TL_XH_BATTERY_MAP: Final[tuple[RegisterSpec, ...]] = (
    # V1.24 input registers 3125-3249 (TL-XH with a battery, "BDC").
    *_energy_pair("battery_discharge_energy", 3125),
    *_energy_pair("battery_charge_energy", 3129),
    *_energy_pair("ac_charge_energy", 3133),
    _v("battery_voltage", 3169, 0.01),
    _percent("battery_soc", 3171),
    _p32("battery_discharge_power", 3178),
    _p32("battery_charge_power", 3180),
)
"""TL-XH battery values; decoded only when a battery converter is reported (3118 BDC
connect state or 3169 battery voltage non-zero), so plain MIC/MIN inverters get none."""

SPF_MAP: Final[tuple[RegisterSpec, ...]] = (
    # Growatt OffGrid SPF5000 Modbus RS485 RTU Protocol V0.11, input registers.
    _v("pv1_voltage", 1),
    _v("pv2_voltage", 2),
    _p32("pv1_power", 3),  # PV1 charge power
    _p32("pv2_power", 5),
    _a("pv1_charge_current", 7),  # Buck1Curr
    _a("pv2_charge_current", 8),
    _p32("output_power", 9),  # OP_Watt
    _p32("output_apparent_power", 11, unit=VA),  # OP_VA
    _p32("ac_charge_power", 13),  # ACChr_Watt
    _v("battery_voltage", 17, 0.01),
    _percent("battery_soc", 18),
    _v("bus_voltage", 19),
    _v("grid_voltage", 20),  # AC input volt
    _hz("grid_frequency", 21),  # AC input frequency
    _v("output_voltage", 22),
    _hz("output_frequency", 23),
    _temp("inverter_temperature", 25),
    _temp("dcdc_temperature", 26),
    _percent("load_percent", 27, 0.1),
    _hours("operating_hours", 30),
    _a("output_current", 34),
    _a("inverter_current", 35),
    _p32("ac_input_power", 36),  # AC_InWatt
    _p32("ac_input_apparent_power", 38, unit=VA),  # AC_InVA
    _code("fault_code", 40),  # Fault bit
    _code("warning_code", 41),  # Warning bit
    *_energy_pair("pv1_energy", 48),
    *_energy_pair("pv2_energy", 52),
    *_energy_pair("ac_charge_energy", 56),
    *_energy_pair("battery_discharge_energy", 60),
    *_energy_pair("ac_discharge_energy", 64),
    _p32("ac_discharge_power", 69),  # AC_DisChrWatt
    _p32("battery_discharge_power", 73),  # Bat_DisChrWatt
    # Bat_Watt: "signed int 32, positive: battery discharge power, negative: charge power".
    _p32("battery_power", 77, signed=True),
)
"""Off-grid SPF (SPF V0.11 input registers 0-82)."""

FAMILY_MAPS: Final[dict[InverterFamily, tuple[RegisterSpec, ...]]] = {
    InverterFamily.TL: TL_MAP,
    InverterFamily.TL_X: TL_X_MAP,
    InverterFamily.TL3_X: TL3_X_MAP,
    InverterFamily.SPH: SPH_MAP,
    InverterFamily.SPF: SPF_MAP,
}


# ---------------------------------------------------------------------------------------
# Plausibility limits

MAX_POWER: Final[dict[InverterFamily, float]] = {
    InverterFamily.TL: 100_000.0,  # V3.x TL/TL3 inverters are at most a few tens of kW
    InverterFamily.TL_X: 150_000.0,  # MID 50KTL3-X
    InverterFamily.TL3_X: 600_000.0,  # MAX 253KTL3-X HV
    InverterFamily.SPH: 60_000.0,  # SPH 10000TL3 + battery
    InverterFamily.SPF: 30_000.0,  # SPF 12000T
}
"""Largest plausible power of one inverter of the family, W (about twice its largest model)."""

_YEARS: Final = 50
_FIXED_LIMITS: Final[dict[str, float]] = {
    V: 2_000.0,  # 1500 V PV strings on MAX HV; DC buses stay below
    A: 1_000.0,
    HZ: 100.0,
    CELSIUS: 200.0,
    PERCENT: 100.0,
    HOURS: 24 * 366 * _YEARS,
}


def limit_of(spec: RegisterSpec, family: InverterFamily) -> float | None:
    """Largest plausible absolute value of ``spec`` for ``family`` (None: codes, no limit).

    Power: :data:`MAX_POWER`; energy: that power for a day (``_today``) or 50 years;
    voltage, current, frequency, temperature, percent and hours: fixed physical bounds.
    """
    power = MAX_POWER[family]
    if spec.unit in (W, VA, VAR):
        return power
    if spec.unit in (KWH, KVARH):
        hours = 24.0 if spec.key.endswith("_today") else 24.0 * 366 * _YEARS
        return power / 1000.0 * hours
    if spec.unit is None:
        return None
    return _FIXED_LIMITS[spec.unit]


BLOCKS: Final[dict[InverterFamily, tuple[tuple[int, int], ...]]] = {
    InverterFamily.TL: ((0, 44), (45, 89), (90, 134)),
    InverterFamily.SPF: ((0, 44), (45, 89), (90, 134)),
    InverterFamily.TL_X: ((3000, 3124), (3125, 3249)),
    InverterFamily.TL3_X: ((0, 124), (125, 249)),
    InverterFamily.SPH: ((0, 124), (1000, 1124), (1125, 1249)),
}
"""Register blocks as the dataloggers send them (one record group each). A block holding a
physically impossible power or current is discarded as a whole: its other values come from
the same garbage read (``grott_test_v6_0104_spf_night_invalid1``: block 0-44 gives PV2 power 393 MW
and 0 V battery, while block 45-89 of the same record shows a 376 W battery discharge)."""

_Compiled = tuple[str, int, int, float, bool, float | None, bool, bool]

_BLOCK_FATAL_UNITS: Final = frozenset({W, VA, VAR, A})
"""Units whose impossible value condemns its whole block; other impossible values (e.g. an
unplugged temperature sensor) are dropped alone."""


def _compile(specs: Iterable[RegisterSpec], family: InverterFamily) -> tuple[_Compiled, ...]:
    return tuple(
        (
            spec.key,
            spec.register,
            spec.words,
            spec.scale,
            spec.signed,
            limit_of(spec, family),
            spec.scale == 1.0,
            spec.unit in _BLOCK_FATAL_UNITS,
        )
        for spec in specs
    )


def _block_of(register: int, family: InverterFamily) -> int:
    for index, (first, last) in enumerate(BLOCKS[family]):
        if first <= register <= last:
            return index
    return -1  # pragma: no cover - every spec lies in a block (guarded by a test)


_Block = tuple[int, tuple[_Compiled, ...]]


def _compile_blocks(specs: Iterable[RegisterSpec], family: InverterFamily) -> tuple[_Block, ...]:
    """``(block index, compiled specs)`` for every block holding a spec, in block order."""
    by_block: dict[int, list[RegisterSpec]] = {}
    for spec in specs:
        by_block.setdefault(_block_of(spec.register, family), []).append(spec)
    return tuple((index, _compile(by_block[index], family)) for index in sorted(by_block))


_COMPILED: Final[dict[InverterFamily, tuple[_Block, ...]]] = {
    family: _compile_blocks(specs, family) for family, specs in FAMILY_MAPS.items()
}
_COMPILED_TL_XH_BATTERY: Final = _compile_blocks(TL_XH_BATTERY_MAP, InverterFamily.TL_X)
_STATUS_BLOCK: Final[dict[InverterFamily, int]] = {
    family: _block_of(register, family) for family, (register, _) in STATUS_REGISTER.items()
}
"""Block index of each family's status register."""

_STATUS_KEYS: Final[dict[str, str | None]] = {"status": None, "status_code": None}

FAULT_TABLES: Final[dict[InverterFamily, CodeTable]] = {
    InverterFamily.TL: CodeTable(TL_FAULT_NAMES),  # V3.14 input 40, note &*1
    InverterFamily.TL3_X: CodeTable(TL_FAULT_NAMES),  # V1.20 input 105 "Fault code", &*1
    InverterFamily.SPF: CodeTable(SPF_FAULT_NAMES),  # OffGrid V0.26 input 40, note &*1
    InverterFamily.TL_X: UNDOCUMENTED,  # V1.24 input 3105 "Fault Maincode", no table
    InverterFamily.SPH: UNDOCUMENTED,  # V1.24 input 105 "Fault Maincode", no table
}
"""Meaning of each family's ``fault_code`` register (see :mod:`.codes` for the sources)."""

WARNING_TABLES: Final[dict[InverterFamily, CodeTable]] = {
    InverterFamily.TL: CodeTable(TL_WARNING_BITS, bits=True),  # V3.14 input 64, note &*8
    InverterFamily.SPF: CodeTable(SPF_WARNING_BITS, bits=True),  # V0.26 input 41, &*8
    InverterFamily.TL_X: UNDOCUMENTED,  # V1.24 input 3106 "Warn Maincode", no table
    InverterFamily.TL3_X: UNDOCUMENTED,  # V1.24 input 112 "Warn Maincode", no table
    InverterFamily.SPH: UNDOCUMENTED,
}
"""Meaning of each family's ``warning_code`` register (see :mod:`.codes` for the sources)."""

FAULT_STATES: Final = states(*FAULT_TABLES.values())
"""Every ``fault`` state (enum options)."""
WARNING_STATES: Final = states(*WARNING_TABLES.values())
"""Every ``warning`` state (enum options)."""

_TEXTS: Final = (("fault_code", "fault", FAULT_TABLES), ("warning_code", "warning", WARNING_TABLES))


def add_code_texts(family: InverterFamily, values: dict[str, float | int | str]) -> None:
    """Add ``fault`` / ``warning`` (state names, :func:`.codes.code_text`) beside their codes.

    Each is added only when its code was decoded; ``none`` for 0, ``other`` for a value no
    document explains, ``multiple`` for a warning bit field with several bits set.
    """
    for code_key, text_key, tables in _TEXTS:
        code = values.get(code_key)
        if isinstance(code, int):
            values[text_key] = code_text(code, tables[family])


def _units() -> dict[str, str | None]:
    units: dict[str, str | None] = {**_STATUS_KEYS, "fault": None, "warning": None}
    for spec in (*TL_MAP, *TL_X_MAP, *TL_XH_BATTERY_MAP, *SPH_MAP, *SPF_MAP):
        previous = units.setdefault(spec.key, spec.unit)
        if previous != spec.unit:  # pragma: no cover - guarded by a test
            raise ValueError(f"{spec.key} has units {previous} and {spec.unit}")
    return units


VALUE_UNITS: Final[dict[str, str | None]] = _units()
"""Every key :func:`decode_values` can return -> its unit (``None`` for codes and text)."""

FAMILY_KEYS: Final[dict[InverterFamily, frozenset[str]]] = {
    family: frozenset(
        {
            *_STATUS_KEYS,
            *(spec.key for spec in specs),
            *((spec.key for spec in TL_XH_BATTERY_MAP) if family is InverterFamily.TL_X else ()),
            "fault",
            "warning",
        }
    )
    for family, specs in FAMILY_MAPS.items()
}
"""Keys each family can produce (a record only yields those whose registers it carries)."""


# ---------------------------------------------------------------------------------------
# Decoding


def detect_family(registers: Mapping[int, int]) -> InverterFamily:
    """Recognise the register map family from the register numbers a record carries.

    Any register 3000-3374 -> ``TL_X``; else any 1000-1249 -> ``SPH``; else any 135-999
    (the 125-249 group of TL3-X) -> ``TL3_X``; else ``TL``. Works on data records (input
    registers) and on announces (holding registers use the same ranges per family).

    ``SPF`` is never returned: it shares the 0-134 ranges with ``TL`` and no register tells
    them apart reliably in the captures, so it is selected by a per-inverter override.
    """
    return family_of_ranges((register, register) for register in registers)


def family_of_ranges(groups: Iterable[tuple[int, int]]) -> InverterFamily:
    """:func:`detect_family` from a record's ``(start, end)`` register groups."""
    has_storage = has_tl3 = False
    for start, end in groups:
        if start <= 3374 and end >= 3000:
            return InverterFamily.TL_X
        if start <= 1249 and end >= 1000:
            has_storage = True
        if start <= 999 and end >= 135:
            has_tl3 = True
    if has_storage:
        return InverterFamily.SPH
    if has_tl3:
        return InverterFamily.TL3_X
    return InverterFamily.TL


def _decode_block(
    out: dict[str, float | int | str],
    registers: Mapping[int, int],
    compiled: tuple[_Compiled, ...],
) -> bool:
    """Add the values of one block to ``out``.

    Returns ``False``, adding nothing, when a power or current is physically impossible;
    another impossible value is left out alone.
    """
    get = registers.get
    values: dict[str, float | int | str] = {}
    for key, register, words, scale, signed, limit, is_int, fatal in compiled:
        raw = get(register)
        if raw is None:
            continue
        if words == 2:
            low = get(register + 1)
            if low is None:
                continue
            raw = (raw & 0xFFFF) << 16 | (low & 0xFFFF)
            if signed and raw & 0x8000_0000:
                raw -= 0x1_0000_0000
        else:
            raw &= 0xFFFF
            if signed and raw & 0x8000:
                raw -= 0x1_0000
        value: float | int = raw if is_int else round(raw * scale, 3)
        if limit is not None and abs(value) > limit:
            if fatal:
                return False
            continue
        values[key] = value
    out.update(values)
    return True


def decode_values(
    registers: Mapping[int, int], family: InverterFamily
) -> dict[str, float | int | str]:
    """Decode the input registers of a data or buffered record into named values.

    Args:
        registers: register number -> raw u16 (``Record.registers`` of a 0x04/0x50 record;
            announces carry holding registers, decode those with :func:`decode_device_info`).
        family: the inverter's register map (:func:`detect_family` or a user override).

    Returns:
        ``{key: value}`` for every value of the family's map whose registers are all present,
        except impossible values and the whole register block of an impossible power or
        current (see :data:`BLOCKS`, :data:`MAX_POWER`). Keys and units are listed in
        :data:`VALUE_UNITS`: ``status`` is a state name (``str``, ``"unknown"`` for
        undocumented codes), ``status_code``/``fault_code``/``warning_code``/``battery_soc``
        are raw ``int``, everything else a ``float`` in W, VA, var, V, A, Hz, kWh, kvarh,
        degC, % or h. Never raises for any register contents.
    """
    out: dict[str, float | int | str] = {}
    status_register, mask = STATUS_REGISTER[family]
    status = registers.get(status_register)
    status_block = _STATUS_BLOCK[family]
    for index, compiled in _COMPILED[family]:
        if not _decode_block(out, registers, compiled) and index == status_block:
            status = None
    if status is not None:
        status &= 0xFFFF
        out["status"] = STATUS_NAMES[family].get(status & mask, "unknown")
        out["status_code"] = status
    if family is InverterFamily.TL_X and (registers.get(3118) or registers.get(3169)):
        for _, compiled in _COMPILED_TL_XH_BATTERY:
            _decode_block(out, registers, compiled)
    add_code_texts(family, out)
    return out


def _ascii(registers: Mapping[int, int], first: int, count: int) -> str | None:
    """Text of ``count`` registers (two characters each), cut at the first NUL.

    ``None`` when a register is missing or the text is empty or not printable ASCII.
    """
    data = bytearray()
    for register in range(first, first + count):
        value = registers.get(register)
        if value is None:
            return None
        data += (value & 0xFFFF).to_bytes(2, "big")
    text = bytes(data).split(b"\x00", 1)[0].strip(b" ")
    if not text or not all(0x20 <= byte < 0x7F for byte in text):
        return None
    return text.decode("ascii")


def _clock(registers: Mapping[int, int]) -> str | None:
    values = [registers.get(register) for register in range(45, 51)]
    if any(value is None for value in values):
        return None
    year, month, day, hour, minute, second = (int(value or 0) & 0xFFFF for value in values)
    if year < 100:  # the SPF document gives the year with offset 2000
        year += 2000
    try:
        return datetime(year, month, day, hour, minute, second).isoformat()
    except ValueError:
        return None


def decode_device_info(registers: Mapping[int, int]) -> dict[str, str]:
    """Describe the inverter from the holding registers of an announce (0x03) record.

    Returns only the keys that decode (never raises):

    * ``firmware`` - holding 9-11, ASCII firmware version;
    * ``control_firmware`` - holding 12-14, ASCII control-board firmware version;
    * ``inverter_serial`` - holding 23-27 (10 characters), else 3001-3015 (TL-X 30-char);
    * ``device_type`` - manufacturer information, holding 34-41 (V1.24, e.g. ``PV Inverter``)
      or 59-66 (V3.x TL and SPF, e.g. ``Growatt Inverter``);
    * ``firmware_build`` - holding 67-70 (V3.x TL and SPF firmware build number);
    * ``dtc`` - holding 43, device type code (decimal);
    * ``mppt_trackers`` / ``ac_phases`` - holding 44, high / low byte;
    * ``modbus_version`` - holding 88 (TL-X, storage) or 73 (TL, TL3-X, SPF), e.g. ``3.05``;
    * ``inverter_clock`` - holding 45-50, ISO 8601 local time of the inverter clock.
    """
    info: dict[str, str] = {}
    texts = {
        "firmware": _ascii(registers, 9, 3),
        "control_firmware": _ascii(registers, 12, 3),
        "inverter_serial": _ascii(registers, 23, 5) or _ascii(registers, 3001, 15),
        "device_type": _ascii(registers, 34, 8) or _ascii(registers, 59, 8),
        "firmware_build": _ascii(registers, 67, 4),
    }
    info.update({key: text for key, text in texts.items() if text})
    dtc = registers.get(43)
    if dtc:
        info["dtc"] = str(dtc & 0xFFFF)
    tp = registers.get(44)
    if tp:
        info["mppt_trackers"] = str((tp >> 8) & 0xFF)
        info["ac_phases"] = str(tp & 0xFF)
    family = detect_family(registers)
    version_register = 88 if family in (InverterFamily.TL_X, InverterFamily.SPH) else 73
    version = registers.get(version_register)
    if version:
        version &= 0xFFFF
        info["modbus_version"] = f"{version // 100}.{version % 100:02d}"
    clock = _clock(registers)
    if clock:
        info["inverter_clock"] = clock
    return info
