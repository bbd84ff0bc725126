"""Growatt code tables: device type code -> model series, fault and warning codes -> states.

Pure tables, written from Growatt's documents (read as published in public repositories;
see each table for the document, its version and where it was found):

* "Growatt VPP Communication Protocol of Inverter" V2.03 (2025-09-01), annexed table 3-1
  "DTC code description": the device type codes of the current models. Read from the
  spreadsheet copy ``Protocols/GI-BK-E060_GROWATT.VPP.COMMUNICATION.PROTOCOL.OF.INVERTER_V2.03.xlsx``
  of github.com/0xAHA/Growatt_ModbusTCP (commit 64434f9). The VPP document puts the code
  in holding register 30000; the same value is the "DTC" of holding register 43 in the
  Modbus RTU protocol V1.2x (the captures: a MIC 3000TL-X announces 5200, PyGrowatt's
  "MIC/MIN TL-X" 5200, an 8,000 VA TL-X inverter 5201, "MIN 7-10KTL-X").
* "Growatt PV Inverter Modbus RS485 RTU Protocol" V3.14 (2016-09-27) and "Growatt Inverter
  Modbus RTU Protocol" V1.20 (2020), note "&*6 DTC (Device type code)" of holding register
  43: ``001xx`` - ``010xx`` by tracker count, phases and topology (TL / HF / LF), and note
  "&*1" (the fault codes 1-32) and "&*8" (the warning bits). Read from the spreadsheet
  copies ``Protocols/Growatt-PV-Inverter-Modbus-RS485-RTU-Protocol-V3-14.xlsx`` and
  ``Protocols/growatt-inverter-modbus-rtu-protocolii-v120-english.xlsx`` of the same
  repository and commit.
* "Growatt OffGrid Modbus RS485/RS232 RTU Protocol" V0.26, notes "&*1" (fault codes of
  input register 40) and "&*8" (warning bits of input register 41). Read from
  ``Protocols/OffGrid-Modbus-RS485-RS232-RTU-Protocol-V0-26.xlsx`` of the same repository
  and commit.

The V1.20 / V1.24 documents name the TL-X (input 3105/3106) and storage (input 105/112)
fault and warning registers "main codes" but publish no meaning for their values: those
give only ``none`` (0) or ``other``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

DTC_SERIES: Final[dict[int, str]] = {
    # VPP protocol V2.03, table 3-1 (full names shortened where the row lists many models).
    3501: "SPH 3000-6000TL BL",
    3502: "SPH 3000-6000TL BL-UP",
    3503: "SPH 3000-6000TL HU",
    3504: "SPH 3000-6000TL HUB",
    3601: "SPH 4-10KTL3 BH-UP",
    3701: "SPA 1000-3000TL BL",
    3715: "SPA 3000-6000TL AU",
    3716: "SPA 3000-6000TL AUB",
    3725: "SPA 4-10KTL3 BH-UP",
    3735: "SPA 3000TL BL-UP",
    5000: "MAX 50-100KTL3 LV/MV",
    # 5001: the table's MID rows (17-25KTL3-X ... 3-33KTL3-X3) continue on the next page
    # under a merged cell; they belong to 5001, as 0xAHA/Growatt_ModbusTCP's notes say.
    5001: "MID TL3-X",
    5002: "MOD TL3-X",
    5003: "MAC TL3-X",
    5100: "MIN 2500-6000TL-XH",
    5200: "MIC 600-3300TL-X / MIN 2500-6000TL-X",
    5201: "MIN 7000-10000TL-X",
    5400: "MOD TL3-XH / MID TL3-XH",
    5401: "MOD / MID TL3-HU",
    5500: "MAX 175-253KTL3-X HV",
    5501: "MAX 80-150KTL3-X LV/MV",
    5502: "MAX 320-350KTL3-X",
    5600: "WIT / WIS",
    5601: "WIT 29.9-50K-XHU",
    5800: "WIS 210K",
    5801: "WIS 215K-AM",
}
"""Device type code -> model series (VPP protocol V2.03, table 3-1)."""

V3_DTC_SERIES: Final[dict[int, str]] = {
    1: "TL single-phase, 1 MPPT",
    2: "TL single-phase, 2 MPPT",
    3: "HF single-phase, 1 MPPT",
    4: "HF single-phase, 2 MPPT",
    5: "LF single-phase, 1 MPPT",
    6: "LF single-phase, 2 MPPT",
    7: "TL three-phase, 1 MPPT",
    8: "TL three-phase, 2 MPPT",
    9: "LF three-phase, 1 MPPT",
    10: "LF three-phase, 2 MPPT",
}
"""``DTC // 100`` -> inverter kind, for the ``001xx`` - ``010xx`` codes of note "&*6" of
the V3.14 and V1.20 documents ("2 tracker and 1phase Grid connect PV inverter TL", ...)."""


def dtc_series(dtc: str | int | None) -> str | None:
    """Model series of a device type code (holding register 43), ``None`` if undocumented.

    ``dtc`` as :func:`.registers.decode_device_info` gives it (decimal text) or an ``int``;
    anything else (``None``, not a number, 0) gives ``None``. Never raises.
    """
    try:
        code = int(dtc) if dtc is not None else 0
    except ValueError:
        return None
    if code in DTC_SERIES:
        return DTC_SERIES[code]
    if 100 <= code < 1100:
        return V3_DTC_SERIES.get(code // 100)
    return None


def model_name(series: str, nominal_w: float | None) -> str:
    """Device model text: ``series`` and the nominal power, e.g. ``MIN 7000-10000TL-X, 8,000 VA``."""
    return f"{series}, {nominal_w:,.0f} VA" if nominal_w else series


# ---------------------------------------------------------------------------------------
# Fault and warning codes


@dataclass(frozen=True, slots=True)
class CodeTable:
    """Meaning of one fault or warning register.

    Attributes:
        names: documented value (or bit, when ``bits``) -> state name.
        bits: the register is a bit field (one bit per condition), else a code.
    """

    names: Mapping[int, str]
    bits: bool = False


NONE: Final = "none"
"""State of a zero register: no fault / no warning."""
OTHER: Final = "other"
"""State of a code (or single bit) whose meaning no published document gives."""
MULTIPLE: Final = "multiple"
"""State of a warning bit field with more than one bit set (the raw code sensor has them)."""


def code_text(code: int, table: CodeTable) -> str:
    """State name of the register value ``code`` (0 -> ``none``; undocumented -> ``other``).

    A bit field with more than one bit set gives ``multiple``. Never raises.
    """
    if code == 0:
        return NONE
    if table.bits and code & (code - 1):
        return MULTIPLE
    return table.names.get(code, OTHER)


TL_FAULT_NAMES: Final[dict[int, str]] = {
    **dict.fromkeys(range(1, 24), "generic_error"),  # shown as "Error 100" - "Error 122"
    24: "auto_test_failed",
    25: "no_ac_connection",
    26: "pv_isolation_low",
    27: "residual_current_high",
    28: "output_dc_current_high",
    29: "pv_voltage_high",
    30: "ac_voltage_out_of_range",
    31: "ac_frequency_out_of_range",
    32: "module_hot",
}
"""Fault code -> state: note "&*1" of the V3.04 / V3.14 document (TL input register 40:
1-23 "Error: 99+x", 24 "Auto Test Failed" ... 32 "Module Hot"), which the V1.20 document
also gives for the TL3-X (MAX) "Fault code" of input register 105."""

SPF_FAULT_NAMES: Final[dict[int, str]] = {
    1: "fan_locked",
    2: "over_temperature",
    3: "battery_voltage_high",
    4: "battery_voltage_low",
    5: "output_short_circuit",
    6: "output_voltage_high",
    7: "overload",
    8: "bus_voltage_high",
    9: "bus_soft_start_failed",
    11: "main_relay_failed",
    51: "over_current",
    52: "bus_voltage_low",
    53: "inverter_soft_start_failed",
    56: "igbt_over_current",
    58: "output_voltage_low",
    60: "reverse_power_high",
    61: "pv_voltage_high",
    62: "internal_communication_error",
    80: "can_communication_failed",
    81: "parallel_host_lost",
}
"""SPF fault code (input register 40) -> state: note "&*1" of the OffGrid V0.26 document
(1 "Fan lock" ... 81 "host loss"); codes 10, 12-50 and the others are not listed."""

TL_WARNING_BITS: Final[dict[int, str]] = {
    0x0001: "fan",
    0x0002: "string_communication_abnormal",
    0x0004: "string_pid_config",
    0x0008: "eeprom_read_failed",
    0x0010: "firmware_mismatch",
    0x0020: "eeprom_write_failed",
    0x0040: "spd_abnormal",
    0x0080: "ground_neutral_abnormal",
    0x0100: "pv_short_circuit",
    0x0200: "boost_driver_broken",
}
"""TL warning bit (input register 64 "WarningCode") -> state: the warning column of note
"&*8" of the V3.14 document (0x0001 "Fan warning" ... 0x0200 "PV1 or PV2 boost driver
broken"; the V1.20 copy lacks the EEPROM bits 0x0008 and 0x0020). Bits 0x0400-0x8000 are
not documented."""

SPF_WARNING_BITS: Final[dict[int, str]] = {
    0x0001: "fan_locked",
    0x0002: "battery_overcharge",
    0x0004: "battery_voltage_low",
    0x0008: "overload",
    0x0010: "output_power_derating",
    0x0020: "solar_stopped_battery_low",
    0x0040: "solar_stopped_pv_voltage_high",
    0x0080: "solar_stopped_overload",
    0x0100: "parallel_grid_different",
    0x0200: "parallel_grid_phase_error",
    0x0400: "parallel_output_phase_loss",
    0x0800: "over_temperature",
    0x1000: "buck_current_high",
    0x2000: "battery_disconnected",
    0x4000: "bms_communication_error",
    0x8000: "pv_power_insufficient",
}
"""SPF warning bit (input register 41 "Warning bit") -> state: note "&*8" of the OffGrid
V0.26 document, all 16 bits (0x0001 "Fan lock warning" ... 0x8000 "Pv power
insufficient")."""

UNDOCUMENTED: Final = CodeTable({})
"""A main-code register without a published table (TL-X, TL3-X warnings, storage)."""


def states(*tables: CodeTable) -> list[str]:
    """Every state :func:`code_text` can give for ``tables``, sorted (enum options)."""
    names = {NONE, OTHER, *(name for table in tables for name in table.names.values())}
    if any(table.bits for table in tables):
        names.add(MULTIPLE)
    return sorted(names)
