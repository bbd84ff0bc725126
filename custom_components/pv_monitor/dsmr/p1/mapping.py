"""Parsed dsmr-parser telegrams to sensor keys, values and units.

:func:`reading_from_telegram` turns a ``dsmr_parser.objects.Telegram`` into a
:class:`MeterReading`: plain numbers in fixed units (W, kWh, V, A, counts), the active
tariff as ``tariff_<n>``, the signed net grid power, and every M-Bus device grouped by its
channel and typed by its device type (EN 13757-3 medium codes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final


class Medium(StrEnum):
    """What an M-Bus device measures."""

    GAS = "gas"
    WATER = "water"
    HEAT = "heat"


MBUS_MEDIUMS: Final[dict[int, Medium]] = {
    3: Medium.GAS,
    4: Medium.HEAT,
    6: Medium.WATER,
    7: Medium.WATER,
    12: Medium.HEAT,
}
"""M-Bus device types (EN 13757-3, table 3 medium codes) we publish: 3 gas, 4 heat
(outlet), 6 warm water, 7 water, 12 heat (inlet). Other types are skipped."""

MEDIUM_UNITS: Final[dict[Medium, str]] = {
    Medium.GAS: "m³",
    Medium.WATER: "m³",
    Medium.HEAT: "GJ",
}
"""Unit assumed when a meter reading carries none (DSMR sends m3 and GJ)."""

_UNIT_NAMES: Final = {"m3": "m³", "m³": "m³", "GJ": "GJ", "MJ": "MJ", "kWh": "kWh", "MWh": "MWh"}

POWER_KEYS: Final = (
    "power_import",
    "power_export",
    "net_power",
    *(f"power_{way}_l{phase}" for way in ("import", "export") for phase in (1, 2, 3)),
)
"""Power sensors (W), written at the power-interval option."""
MEASUREMENT_KEYS: Final = (
    *(f"{what}_l{phase}" for what in ("voltage", "current") for phase in (1, 2, 3)),
    "average_demand",
)
"""Other instantaneous measurements, written at a slower interval (see :mod:`.publish`)."""
ENERGY_KEYS: Final = (
    *(f"energy_{way}_tariff_{n}" for way in ("import", "export") for n in (1, 2, 3, 4)),
    "energy_import_total",
    "energy_export_total",
)
"""Energy counters (kWh, total increasing), written whenever they change."""
EVENT_KEYS: Final = (
    "short_power_failures",
    "long_power_failures",
    *(f"voltage_{what}_l{phase}" for what in ("sags", "swells") for phase in (1, 2, 3)),
)
"""Diagnostic event counters."""
TARIFF_OPTIONS: Final = ("tariff_1", "tariff_2", "tariff_3", "tariff_4")

# dsmr-parser value name -> (our key, kind); kind selects the unit conversion.
_COSEM_MAP: Final[dict[str, tuple[str, str]]] = {
    "CURRENT_ELECTRICITY_USAGE": ("power_import", "power"),
    "CURRENT_ELECTRICITY_DELIVERY": ("power_export", "power"),
    **{
        f"INSTANTANEOUS_ACTIVE_POWER_L{p}_{sign}": (f"power_{way}_l{p}", "power")
        for p in (1, 2, 3)
        for sign, way in (("POSITIVE", "import"), ("NEGATIVE", "export"))
    },
    **{f"INSTANTANEOUS_VOLTAGE_L{p}": (f"voltage_l{p}", "plain") for p in (1, 2, 3)},
    **{f"INSTANTANEOUS_CURRENT_L{p}": (f"current_l{p}", "plain") for p in (1, 2, 3)},
    **{
        f"ELECTRICITY_USED_TARIFF_{n}": (f"energy_import_tariff_{n}", "energy")
        for n in (1, 2, 3, 4)
    },
    **{
        f"ELECTRICITY_DELIVERED_TARIFF_{n}": (f"energy_export_tariff_{n}", "energy")
        for n in (1, 2, 3, 4)
    },
    "ELECTRICITY_IMPORTED_TOTAL": ("energy_import_total", "energy"),
    "ELECTRICITY_EXPORTED_TOTAL": ("energy_export_total", "energy"),
    "ELECTRICITY_ACTIVE_TARIFF": ("active_tariff", "tariff"),
    "BELGIUM_CURRENT_AVERAGE_DEMAND": ("average_demand", "power"),
    "BELGIUM_MAXIMUM_DEMAND_MONTH": ("peak_demand_month", "power"),
    "SHORT_POWER_FAILURE_COUNT": ("short_power_failures", "count"),
    "LONG_POWER_FAILURE_COUNT": ("long_power_failures", "count"),
    **{f"VOLTAGE_SAG_L{p}_COUNT": (f"voltage_sags_l{p}", "count") for p in (1, 2, 3)},
    **{f"VOLTAGE_SWELL_L{p}_COUNT": (f"voltage_swells_l{p}", "count") for p in (1, 2, 3)},
}
"""Telegram objects we publish, by dsmr-parser value name (``telegram_specifications``)."""

EQUIPMENT_ID_NAMES: Final = (
    "EQUIPMENT_IDENTIFIER",
    "BELGIUM_EQUIPMENT_IDENTIFIER",
    "LUXEMBOURG_EQUIPMENT_IDENTIFIER",
    "Q3D_EQUIPMENT_IDENTIFIER",
    "EQUIPMENT_SERIAL_NUMBER",
    "EQUIPMENT_IDENTIFIER_GAS",  # Iskra IE names its electricity meter id (0-0:96.1.0) so
    "COSEM_LOGICAL_DEVICE_NAME",
)
"""Top-level objects holding the electricity meter's identifier, first found wins."""
_VERSION_NAMES: Final = ("P1_MESSAGE_HEADER", "BELGIUM_VERSION_INFORMATION")
_MBUS_TYPE_NAMES: Final = ("MBUS_DEVICE_TYPE", "DEVICE_TYPE")
_MBUS_ID_NAMES: Final = (
    "MBUS_EQUIPMENT_IDENTIFIER",
    "EQUIPMENT_IDENTIFIER_GAS",
    "EQUIPMENT_IDENTIFIER",
)
_MBUS_READING_NAMES: Final = ("MBUS_METER_READING", "HOURLY_GAS_METER_READING", "GAS_METER_READING")
_GAS_ONLY_NAMES: Final = frozenset({"HOURLY_GAS_METER_READING", "GAS_METER_READING"})


@dataclass(frozen=True, slots=True)
class MbusReading:
    """The latest reading of one M-Bus device (gas, water or heat meter).

    ``value`` is in ``unit`` (``m³`` for gas and water, ``GJ`` / ``MJ`` / ``kWh`` / ``MWh``
    for heat); ``timestamp`` is when the device captured it (UTC), if sent.
    """

    channel: int
    medium: Medium
    device_type: int | None
    equipment_id: str | None
    value: float
    unit: str
    timestamp: datetime | None

    @property
    def key(self) -> str:
        """Sensor key of this device's reading: ``mbus<channel>_<medium>``."""
        return f"mbus{self.channel}_{self.medium}"


@dataclass(slots=True)
class MeterReading:
    """Everything one telegram says, in our keys and units.

    ``values`` holds floats in W (power, demand), kWh (energy), V, A, integer counts, and
    ``active_tariff`` as ``tariff_<n>``; ``mbus`` the M-Bus devices by channel.
    """

    equipment_id: str | None = None
    version: str | None = None
    timestamp: datetime | None = None
    values: dict[str, float | int | str] = field(default_factory=dict)
    mbus: dict[int, MbusReading] = field(default_factory=dict)

    @property
    def net_power_w(self) -> float | None:
        """Signed net grid power in W: import minus export (positive while importing)."""
        value = self.values.get("net_power")
        return float(value) if isinstance(value, (int, float)) else None

    def states(self) -> Iterator[tuple[str, float | int | str]]:
        """Every published value by sensor key, M-Bus readings included."""
        yield from self.values.items()
        for device in self.mbus.values():
            yield device.key, device.value


FLAG_MANUFACTURERS: Final[dict[str, str]] = {
    "ISK": "Iskraemeco",
    "KFM": "Kaifa",
    "KMP": "Kamstrup",
    "LGZ": "Landis+Gyr",
    "ESY": "EasyMeter",
    "SAG": "Sagemcom",
    "EMH": "EMH metering",
    "ELS": "Elster",
    "ITF": "Itron",
}
"""Manufacturer by the 3-letter FLAG id that opens a telegram's identification line (the
DLMS User Association's list of manufacturer identifications, dlms.com/flag-id); an id not
listed here is shown as is."""


def identification(raw: str | None) -> tuple[str | None, str | None]:
    r"""Manufacturer and model from a telegram's identification line (its first line).

    IEC 62056-21 / DSMR P1: ``/XXXZ<ident>``: ``XXX`` the manufacturer's FLAG id (the
    case of the third letter signals the reaction time), ``Z`` the baud-rate character,
    ``<ident>`` the meter's identification, which may start with an enhanced-identification
    ``\`` + one character. ``"/ISk5\2MT382-1000"`` -> ``("Iskraemeco", "MT382-1000")``.
    ``(None, None)`` without such a line (e.g. a decrypted frame we did not keep).
    """
    if not raw or not raw.startswith("/"):
        return None, None
    line = raw[1:].split("\r", 1)[0].split("\n", 1)[0]
    flag = line[:3].upper()
    if len(line) < 5 or not flag.isalpha():
        return None, None
    ident = "".join(char for char in line[4:] if char.isprintable())
    if ident.startswith("\\") and len(ident) > 2:
        ident = ident[2:]
    return FLAG_MANUFACTURERS.get(flag, flag), ident.strip() or None


def decode_identifier(value: str) -> str:
    """Decode a hex-encoded ASCII identifier (DSMR 3+ sends them so); else return as is.

    ``"4B384547303034303436333935353037"`` -> ``"K8EG004046395507"``.
    """
    if len(value) % 2 == 0 and value:
        try:
            text = bytes.fromhex(value).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return value
        if text.isprintable() and text.strip():
            return text.strip()
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _convert(kind: str, value: Any, unit: str | None) -> float | int | str | None:
    """Convert one telegram value to our unit for ``kind``; None when unusable."""
    if kind == "tariff":
        number = _number(value)
        return None if number is None or not 1 <= number <= 4 else f"tariff_{int(number)}"
    number = _number(value)
    if number is None:
        return None
    if kind == "count":
        return int(number)
    if kind == "power":
        return round(number * 1000, 3) if unit == "kW" else number
    if kind == "energy":
        return round(number / 1000, 6) if unit == "Wh" else number
    return number


def _first(obj: Any, names: Iterable[str]) -> tuple[str, Any] | None:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return name, value
    return None


def _mbus_reading(device: Any) -> MbusReading | None:
    """The reading of one dsmr-parser ``MbusDevice``, or None if it sends no value."""
    found = _first(device, _MBUS_READING_NAMES)
    if found is None:
        return None
    name, obj = found
    value = _number(getattr(obj, "value", None))
    if value is None:
        return None
    type_obj = _first(device, _MBUS_TYPE_NAMES)
    device_type = None
    if type_obj is not None:
        number = _number(type_obj[1].value)
        device_type = None if number is None else int(number)
    if device_type is None and name in _GAS_ONLY_NAMES:
        medium: Medium | None = Medium.GAS
    else:
        medium = MBUS_MEDIUMS.get(device_type) if device_type is not None else None
    if medium is None:
        return None
    id_obj = _first(device, _MBUS_ID_NAMES)
    equipment_id = None
    if id_obj is not None and id_obj[1].value is not None:
        equipment_id = str(id_obj[1].value)
    raw_unit = getattr(obj, "unit", None)
    unit = (
        _UNIT_NAMES.get(str(raw_unit), MEDIUM_UNITS[medium]) if raw_unit else MEDIUM_UNITS[medium]
    )
    timestamp = getattr(obj, "datetime", None)
    return MbusReading(
        channel=int(device.channel_id),
        medium=medium,
        device_type=device_type,
        equipment_id=equipment_id,
        value=value,
        unit=unit,
        timestamp=timestamp if isinstance(timestamp, datetime) else None,
    )


def reading_from_telegram(telegram: Any) -> MeterReading:
    """Map a parsed ``dsmr_parser.objects.Telegram`` to a :class:`MeterReading`.

    Only top-level (non-M-Bus) objects are read from the telegram itself; M-Bus objects
    come from ``MBUS_DEVICES``. Energy totals missing from the telegram are the sum of its
    tariff registers; ``net_power`` is ``power_import - power_export`` when import is sent.
    """
    reading = MeterReading()
    mbus_devices: list[Any] = []
    for name, obj in telegram:
        if name == "MBUS_DEVICES":
            mbus_devices = list(obj)
            continue
        if isinstance(obj, list):
            continue  # e.g. BELGIUM_MAXIMUM_DEMAND_13_MONTHS (history, not a state)
        value = getattr(obj, "value", None)
        if name in EQUIPMENT_ID_NAMES and reading.equipment_id is None and value:
            reading.equipment_id = str(value)
        elif name in _VERSION_NAMES and reading.version is None and value is not None:
            reading.version = str(value)
        elif name == "P1_MESSAGE_TIMESTAMP" and isinstance(value, datetime):
            reading.timestamp = value
        elif name in _COSEM_MAP:
            key, kind = _COSEM_MAP[name]
            converted = _convert(kind, value, getattr(obj, "unit", None))
            if converted is not None:
                reading.values[key] = converted
    values = reading.values
    for way in ("import", "export"):
        total = f"energy_{way}_total"
        tariffs = [
            values[k] for k in ENERGY_KEYS if k.startswith(f"energy_{way}_tariff") and k in values
        ]
        if total not in values and tariffs:
            values[total] = round(sum(float(v) for v in tariffs), 3)
    if isinstance(imported := values.get("power_import"), float):
        exported = values.get("power_export", 0.0)
        values["net_power"] = round(imported - float(exported), 3)
    for device in mbus_devices:
        if (mbus := _mbus_reading(device)) is not None:
            reading.mbus[mbus.channel] = mbus
    return reading
