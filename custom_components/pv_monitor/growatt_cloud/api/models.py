"""Typed results of the Growatt cloud client and the mapping of cloud fields to value keys.

Value keys are those of the local listener (``growatt/registers.py``), so the same kind of
value has the same meaning, unit and translation: ``energy_today``/``energy_total`` (kWh,
AC output), ``pv_power`` (W), ``pv1_voltage`` (V), ``battery_soc`` (%), and so on.

Field names and units were learned from the public ``growattServer`` library (PyPI 1.9.0,
the version Home Assistant 2026.2.3 pins: docstrings of ``mix_info``, ``mix_totals``,
``mix_system_status``, ``device_list``), Home Assistant core's ``growatt_server`` sensor
tables (``api_key``) and test data (``tests/components/growatt_server/conftest.py``:
``sph_energy`` with ``echarge1Today``/``edischarge1Today``, V1 ``current_power`` in kW), and
Growatt's OpenAPI V1 documentation as quoted in the ``GrowattPublicApiPy`` client
(timohencken/GrowattPublicApiPy: ``min.py`` ``energy`` = ``tlx_last_data``, ``sph.py``
``energy`` = ``mix_last_data``, ``pydantic_models/sph.py`` wire names). The ShinePhone
"system status" answers give power in kW, everything else in W, V, A, Hz, °C, kWh and %.
Where two names carry one value (``vac1``/``vacRs``, ``edischarge1Today``/``edischargeToday``)
the first non-zero one wins (:func:`map_fields`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
import re
from typing import Any, Final


class AuthType(StrEnum):
    """How an entry logs in to the Growatt cloud."""

    PASSWORD = "password"
    """ShinePhone API: username and (hashed) password, session cookie."""
    TOKEN = "token"
    """OpenAPI V1: API token in the ``token`` header."""


class DeviceType(StrEnum):
    """Kind of a device in a plant, as the ShinePhone device list names it (``deviceType``)."""

    INVERTER = "inverter"
    """Classic PV inverter (TL), ``newInverterAPI.do``."""
    TLX = "tlx"
    """TL-X / MIN / MIC / MOD, ``newTlxApi.do`` (V1: device type 7, ``tlx_last_data``)."""
    MIX = "mix"
    """SPH hybrid, ``newMixApi.do`` (V1: device type 5, ``mix_last_data``)."""
    STORAGE = "storage"
    """Battery storage (SPF and others), ``newStorageAPI.do``."""
    OTHER = "other"
    """Anything else (meters, MAX, Noah): listed, no values read."""


V1_DEVICE_TYPES: Final[dict[int, DeviceType]] = {
    1: DeviceType.INVERTER,
    2: DeviceType.STORAGE,
    5: DeviceType.MIX,
    7: DeviceType.TLX,
}
"""OpenAPI V1 ``device/list`` ``type`` codes (1 inverter, 2 storage, 5 SPH, 7 MIN/TLX;
growattServer ``DeviceType``); other codes are :attr:`DeviceType.OTHER`."""


@dataclass(frozen=True, slots=True)
class Plant:
    """A plant (power station) of the account, with its totals when the answer has them.

    Power in W, energy in kWh; None when the cloud did not give the value.
    """

    plant_id: str
    name: str
    current_power: float | None = None
    energy_today: float | None = None
    energy_total: float | None = None
    energy_total_step: float = 0.1
    """Resolution of ``energy_total`` in kWh: 10 for "2.56 MWh" (:func:`parse_energy_step`)."""
    peak_power: float | None = None
    """Installed peak power in kWp."""
    location: dict[str, Any] = field(default_factory=dict)
    """City, country, latitude, longitude as the cloud gave them (private: redacted)."""


@dataclass(frozen=True, slots=True)
class Device:
    """A device of a plant from the device list."""

    serial: str
    device_type: DeviceType
    alias: str | None = None
    model: str | None = None
    datalogger_serial: str | None = None


@dataclass(slots=True)
class DeviceData:
    """Latest values of one device, by local-listener value key (see module docstring)."""

    serial: str
    device_type: DeviceType
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A successful ShinePhone login: the account's user id."""

    user_id: str


type FieldMap = dict[str, tuple[str, float]]
"""``{cloud field: (value key, factor)}``; the value key's unit is the local listener's."""


def _named(factor: float = 1.0, /, **keys: str) -> FieldMap:
    """``{cloud field: (value key, factor)}`` for fields that share one factor, in order."""
    return {name: (key, factor) for name, key in keys.items()}


def _counters(**keys: str) -> FieldMap:
    """Growatt's daily and lifetime counter pairs (kWh), in order.

    The cloud names a counter's two readings ``<name>Today`` and ``<name>Total``; the value
    keys are ``<key>_today`` and ``<key>_total``: ``_counters(eac="energy")`` reads
    ``eacToday`` as ``energy_today`` and ``eacTotal`` as ``energy_total``.
    """
    return {
        f"{name}{period}": (f"{key}_{period.lower()}", 1.0)
        for name, key in keys.items()
        for period in ("Today", "Total")
    }


_PV: Final[FieldMap] = {
    f"{prefix}{n}": (f"pv{n}_{kind}", 1.0)
    for n in range(1, 5)
    for prefix, kind in (("vpv", "voltage"), ("ipv", "current"), ("ppv", "power"))
}

_STORAGE_ENERGY: Final[FieldMap] = _counters(
    epv="pv_energy", eBatCharge="battery_charge_energy", eBatDisCharge="battery_discharge_energy"
)
"""PV and battery energies (kWh) as ShinePhone's ``getMixInfo`` and ``storageDetailBean`` both
name them."""

_AC: Final[FieldMap] = _named(ppv="pv_power", pac="ac_power", fac="grid_frequency")
"""PV input, AC output power (W) and grid frequency (Hz), named alike by every inverter answer."""

INVERTER_FIELDS: Final[FieldMap] = {
    **{k: v for k, v in _PV.items() if not k.endswith("4")},
    **_counters(power="energy"),
    **_AC,
    **_named(
        vacr="ac_l1_voltage",
        iacr="ac_l1_current",
        pacr="ac_l1_power",
        temperature="inverter_temperature",
    ),
}
"""ShinePhone ``getInverterDetailData`` fields."""

TLX_FIELDS: Final[FieldMap] = {
    **_PV,
    **{f"epv{n}Today": (f"pv{n}_energy_today", 1.0) for n in range(1, 5)},
    **{f"epv{n}Total": (f"pv{n}_energy_total", 1.0) for n in range(1, 5)},
    **_counters(eac="energy", epv="pv_energy"),
    **_AC,
    **_named(
        vac1="ac_l1_voltage",
        vacRs="ac_l1_voltage",
        vacrs="ac_l1_voltage",
        iac1="ac_l1_current",
        temp1="inverter_temperature",
        bdc1Soc="battery_soc",
    ),
}
"""ShinePhone ``getTlxDetailData`` and OpenAPI V1 ``tlx_last_data`` fields.

Grid voltage is ``vac1`` (else the line voltage ``vacRs``, ``vacrs`` in the ShinePhone
answer, HA core ``sensor/tlx.py``): ``vacr`` is 0 in the documented
MIN example (showdoc 6129822090975531: ``vac1`` 239.5, ``vac_rs`` 239.5, ``vacr`` 0)."""

MIX_INFO_FIELDS: Final[FieldMap] = {
    **_named(
        capacity="battery_soc", vbat="battery_voltage", vpv1="pv1_voltage", vpv2="pv2_voltage"
    ),
    **_STORAGE_ENERGY,
    **_counters(acChargeEnergy="ac_charge_energy"),
}
"""ShinePhone ``getMixInfo`` fields."""

MIX_STATUS_FIELDS: Final[FieldMap] = {
    **_named(SOC="battery_soc"),
    **_named(
        1000.0,
        ppv="pv_power",
        pPv1="pv1_power",
        pPv2="pv2_power",
        chargePower="battery_charge_power",
        pdisCharge1="battery_discharge_power",
        pactogrid="grid_export_power",
        pactouser="grid_import_power",
        pLocalLoad="load_power",
    ),
    **_named(vAc1="grid_voltage", fAc="grid_frequency"),
}
"""ShinePhone ``getSystemStatus_KW`` fields (powers in kW, converted to W)."""

MIX_V1_FIELDS: Final[FieldMap] = {
    **{k: v for k, v in _PV.items() if k[-1] in "12"},
    **_named(soc="battery_soc", vbat="battery_voltage"),
    **_AC,
    **_named(
        pcharge1="battery_charge_power",
        pdischarge1="battery_discharge_power",
        pacToGridTotal="grid_export_power",
        pacToUserTotal="grid_import_power",
        plocalLoadTotal="load_power",
        vac1="grid_voltage",
        temp1="inverter_temperature",
    ),
    **_counters(eac="energy"),
    **_named(epvTotal="pv_energy_total"),
    **_counters(
        echarge1="battery_charge_energy",
        edischarge1="battery_discharge_energy",
        edischarge="battery_discharge_energy",
    ),
    # Growatt's own spelling: "etoGridToday" but "etogridTotal".
    **_named(etoGridToday="grid_export_energy_today", etogridTotal="grid_export_energy_total"),
    **_counters(etoUser="grid_import_energy", elocalLoad="load_energy"),
}
"""OpenAPI V1 ``mix_last_data`` fields (W, kWh).

Battery energies are ``echarge1Today/Total`` and ``edischarge1Today/Total`` on the wire (HA
core's ``sph_energy`` test data; GrowattPublicApiPy maps the discharge pair to
``edischargeToday/Total``, read as the fallback), load power ``plocalLoadTotal``
(``plocal_load_total`` in showdoc 6129764434976910). ``eChargeToday`` is the load's energy
from solar (growattServer ``mix_detail``), not battery charge, and is not read."""

STORAGE_FIELDS: Final[FieldMap] = {
    **_named(
        capacity="battery_soc",
        vBat="battery_voltage",
        pCharge="battery_charge_power",
        pDischarge="battery_discharge_power",
        ppv="pv_power",
        vpv="pv1_voltage",
        vpv2="pv2_voltage",
        outPutPower="output_power",
        outPutVolt="output_voltage",
        freqOutPut="output_frequency",
        vGrid="grid_voltage",
        freqGrid="grid_frequency",
        loadPercent="load_percent",
    ),
    **_STORAGE_ENERGY,
}
"""ShinePhone ``getStorageParams_sacolar`` ``storageDetailBean`` fields."""

_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z%]*)\s*$")
_ENERGY_FACTORS: Final = {"": 1.0, "kwh": 1.0, "wh": 0.001, "mwh": 1000.0, "gwh": 1_000_000.0}
_POWER_FACTORS: Final = {"": 1.0, "w": 1.0, "kw": 1000.0, "mw": 1_000_000.0}


def parse_number(value: Any) -> float | None:
    """A plain number from a cloud field (number or numeric string, "%" allowed), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if (
        isinstance(value, str)
        and (match := _NUMBER.match(value.replace(",", "")))
        and match.group(2) in ("", "%")
    ):
        return float(match.group(1))
    return None


def _parse_with_unit(value: Any, factors: dict[str, float]) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str) or not (match := _NUMBER.match(value.replace(",", ""))):
        return None
    factor = factors.get(match.group(2).lower())
    return None if factor is None else float(match.group(1)) * factor


def parse_energy(value: Any) -> float | None:
    """Energy in kWh from ``12.5``, ``"12.5"``, ``"12.5 kWh"`` or ``"1.2 MWh"``; else None."""
    return _parse_with_unit(value, _ENERGY_FACTORS)


def parse_energy_step(value: Any) -> float:
    """Resolution (kWh) of an energy text: one unit of its last digit ("2.56 MWh" -> 10.0).

    Plain numbers are taken as the cloud's usual 0.1 kWh resolution.
    """
    if not isinstance(value, str) or not (match := _NUMBER.match(value.replace(",", ""))):
        return 0.1
    number = match.group(1)
    decimals = len(number.partition(".")[2])
    factor = _ENERGY_FACTORS.get(match.group(2).lower(), 1.0)
    step: float = factor / pow(10, decimals)
    return round(step, 6)


def parse_power(value: Any) -> float | None:
    """Power in W from ``450``, ``"450 W"`` or ``"1.2 kW"``; else None."""
    return _parse_with_unit(value, _POWER_FACTORS)


def map_fields(raw: dict[str, Any], fields: FieldMap) -> dict[str, float]:
    """Values of ``raw`` by value key: numeric fields of ``fields`` scaled; others left out.

    When several cloud fields name one value key, the first non-zero one wins.
    """
    values: dict[str, float] = {}
    for name, (key, factor) in fields.items():
        number = parse_number(raw.get(name))
        if number is not None and not values.get(key):
            values[key] = round(number * factor, 3)
    return values


def parse_day(key: str, month: date) -> date | None:
    """The day of a history key: ``"2025-05-04"``, or ``"04"``/``"4"`` within ``month``."""
    try:
        if len(key) == 10:
            return date.fromisoformat(key)
        return month.replace(day=int(key))
    except ValueError:
        return None
