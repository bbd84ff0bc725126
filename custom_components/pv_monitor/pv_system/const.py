"""Constants of the ``pv_system`` kind: config keys, subentry type, defaults.

:class:`PvSystemSettings` is what an entry's data, options and array subentries say, typed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, Self

from homeassistant.const import CONF_ELEVATION, CONF_LATITUDE, CONF_LONGITUDE

from .solar.anomaly import DEFAULT_REPAIR_SHARE, DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from .solar.forecast import PvArray, PvSite

CONF_LOCATION: Final = "location"
"""Form field (location selector) holding latitude and longitude."""
CONF_AC_LIMIT: Final = "ac_limit_kw"
"""Inverter AC limit in kW (the sum of the inverters' rated AC power)."""

CONF_PRODUCTION_POWER: Final = "production_power"
CONF_PRODUCTION_ENERGY: Final = "production_energy"
CONF_POA_IRRADIANCE: Final = "poa_irradiance"
CONF_MODULE_TEMPERATURE: Final = "module_temperature"
CONF_WEATHER: Final = "weather"
CONF_GRID_IMPORT: Final = "grid_import"
CONF_GRID_EXPORT: Final = "grid_export"
CONF_IMPORT_PRICE: Final = "import_price"
"""Fixed import price per kWh (used when no price entity is set)."""
CONF_IMPORT_PRICE_ENTITY: Final = "import_price_entity"
CONF_EXPORT_PRICE: Final = "export_price"
CONF_EXPORT_PRICE_ENTITY: Final = "export_price_entity"
CONF_GRID_POWER: Final = "grid_power"
"""Optional net grid power sensor (W or kW, positive while importing): gives the house load."""
CONF_REPAIR_SHARE: Final = "repair_share"
"""Option: share of the day's daylight an anomaly lasts before a repair issue is raised."""
CONF_STRING_POWER: Final = "power_sensor"
"""Optional power sensor of one array (a string or an inverter): for the string comparison."""
CONF_THRESHOLD: Final = "underperformance_threshold"
"""Option: measured / expected below which production is underperforming."""

SUBENTRY_ARRAY: Final = "array"
"""Config subentry type of one PV array."""
CONF_TILT: Final = "tilt"
CONF_AZIMUTH: Final = "azimuth"
CONF_KWP: Final = "kwp"
CONF_GAMMA: Final = "gamma_pdc"
CONF_LOSSES: Final = "losses"

DEFAULT_GAMMA: Final = -0.37
"""%/K: typical crystalline silicon module (PVWatts v5 standard module)."""
DEFAULT_LOSSES: Final = 14.0
"""%: PVWatts v5 default system losses (Dobos 2014)."""
DEFAULT_TILT: Final = 35.0
DEFAULT_AZIMUTH: Final = 180.0
DEFAULT_AC_LIMIT: Final = 5.0
"""kW: suggested AC limit (a common home inverter), never the selector's minimum."""

FORECAST_DAYS: Final = 3
"""Today and the next two days."""
REFRESH_INTERVAL: Final = timedelta(minutes=30)
SAMPLE_INTERVAL: Final = timedelta(minutes=5)
"""Anomaly detection and today's indicators are updated this often."""
HISTORY_DAYS: Final = 365
"""Hourly production history used for the correction fit."""
ACCURACY_DAYS: Final = 7

EVENT_ANOMALY: Final = "pv_monitor_anomaly"
ISSUE_ANOMALY_PREFIX: Final = "pv_system_anomaly"
"""Repair issue id: ``<prefix>_<anomaly type>_<entry id>``."""
CONF_MUTED_ANOMALIES: Final = "muted_anomalies"
"""Option: anomaly types whose repair issue is not raised (set by the issue's fix flow)."""


def _entity(stored: Mapping[str, Any], key: str) -> str | None:
    """The entity id stored under ``key``; None when absent or empty."""
    return str(entity_id) if (entity_id := stored.get(key)) else None


@dataclass(frozen=True, slots=True)
class Price:
    """A price per kWh (in Home Assistant's currency): an entity's state, else a fixed value."""

    fixed: float | None = None
    """The fixed price; None: none set."""
    entity: str | None = None
    """Entity id of the price sensor; preferred while its state is a number."""

    @classmethod
    def from_mapping(cls, stored: Mapping[str, Any], fixed_key: str, entity_key: str) -> Self:
        """The price stored under ``fixed_key`` and ``entity_key``."""
        fixed = stored.get(fixed_key)
        return cls(None if fixed is None else float(fixed), _entity(stored, entity_key))


@dataclass(frozen=True, slots=True, kw_only=True)
class PvSystemOptions:
    """The options of a PV system entry: its sensors, prices and anomaly limits.

    Each sensor is a Home Assistant entity id, None when the option is not set (a sensor
    added by a later version is simply absent from an older entry).
    """

    production_power: str | None
    """Production power sensor (W, kW; option ``production_power``)."""
    production_energy: str | None
    """Production energy sensor (kWh; its long-term statistics; option ``production_energy``)."""
    poa_irradiance: str | None
    """Plane-of-array irradiance sensor (W/m2; option ``poa_irradiance``)."""
    module_temperature: str | None
    """Module temperature sensor (degC; option ``module_temperature``)."""
    weather: str | None
    """Weather entity whose hourly forecast drives the model (option ``weather``)."""
    grid_import: str | None
    """Grid import energy sensor (kWh; option ``grid_import``)."""
    grid_export: str | None
    """Grid export energy sensor (kWh; option ``grid_export``)."""
    grid_power: str | None
    """Net grid power sensor (W, kW; positive while importing; option ``grid_power``)."""
    import_price: Price
    """Import price (options ``import_price``, ``import_price_entity``)."""
    export_price: Price
    """Export price (options ``export_price``, ``export_price_entity``)."""
    threshold: float
    """Measured / expected below which production underperforms (option
    ``underperformance_threshold``; default :data:`.solar.anomaly.DEFAULT_THRESHOLD`)."""
    repair_share: float
    """Share of the day's daylight an anomaly lasts before its repair issue (option
    ``repair_share``; default :data:`.solar.anomaly.DEFAULT_REPAIR_SHARE`)."""
    muted_anomalies: tuple[str, ...]
    """Anomaly types whose repair issue is not raised (option ``muted_anomalies``)."""

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> Self:
        """The options of an entry's ``options`` mapping (defaults for what is absent)."""
        return cls(
            production_power=_entity(options, CONF_PRODUCTION_POWER),
            production_energy=_entity(options, CONF_PRODUCTION_ENERGY),
            poa_irradiance=_entity(options, CONF_POA_IRRADIANCE),
            module_temperature=_entity(options, CONF_MODULE_TEMPERATURE),
            weather=_entity(options, CONF_WEATHER),
            grid_import=_entity(options, CONF_GRID_IMPORT),
            grid_export=_entity(options, CONF_GRID_EXPORT),
            grid_power=_entity(options, CONF_GRID_POWER),
            import_price=Price.from_mapping(options, CONF_IMPORT_PRICE, CONF_IMPORT_PRICE_ENTITY),
            export_price=Price.from_mapping(options, CONF_EXPORT_PRICE, CONF_EXPORT_PRICE_ENTITY),
            threshold=float(options.get(CONF_THRESHOLD, DEFAULT_THRESHOLD)),
            repair_share=float(options.get(CONF_REPAIR_SHARE, DEFAULT_REPAIR_SHARE)),
            muted_anomalies=tuple(options.get(CONF_MUTED_ANOMALIES, ())),
        )


@dataclass(frozen=True, slots=True)
class PvArraySensor:
    """An array with a power sensor of its own (for the string comparison)."""

    array: PvArray
    """The array, as the model has it (also in :attr:`PvSystemSettings.site`)."""
    power_sensor: str
    """Entity id of the array's power sensor (W, kW; subentry ``power_sensor``)."""


def _array(name: str, data: Mapping[str, Any]) -> PvArray:
    """The array named ``name`` (its subentry's title) of its subentry ``data``.

    Raises:
        KeyError: ``data`` lacks tilt, azimuth or kWp.
    """
    from .solar.forecast import PvArray  # noqa: PLC0415 (the config flow needs no model)

    return PvArray(
        name=name,
        tilt=float(data[CONF_TILT]),
        azimuth=float(data[CONF_AZIMUTH]),
        kwp=float(data[CONF_KWP]),
        gamma_pdc=float(data.get(CONF_GAMMA, DEFAULT_GAMMA)),
        losses=float(data.get(CONF_LOSSES, DEFAULT_LOSSES)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PvSystemSettings:
    """What one PV system entry is set up with: its data, options and array subentries.

    Read once; the runtime works from this object only (a misspelt field is a ``mypy``
    error); the flow owns the ``CONF_*`` keys it is stored under. Built by
    :meth:`from_mapping`.
    """

    site: PvSite
    """The model inputs: latitude and longitude (deg; data ``latitude``, ``longitude``),
    elevation (m; data ``elevation``), AC limit (kW; data ``ac_limit_kw``) and the array
    subentries (type ``array``) in the entry's order."""
    array_sensors: tuple[PvArraySensor, ...]
    """The arrays that have a power sensor of their own."""
    options: PvSystemOptions
    """Sensors, prices and anomaly limits (the entry's options)."""

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        options: Mapping[str, Any],
        subentries: Iterable[tuple[str, str, Mapping[str, Any]]] = (),
    ) -> Self:
        """The settings of an entry's ``data``, ``options`` and subentries.

        ``subentries``: ``(subentry type, title, data)`` of each; those of type ``array``
        are the arrays.

        Raises:
            KeyError: ``data`` lacks the location or AC limit, or an array its orientation
                or size.
        """
        from .solar.forecast import PvSite  # noqa: PLC0415 (the config flow needs no model)

        arrays = [
            (_array(title, sub), sub) for kind, title, sub in subentries if kind == SUBENTRY_ARRAY
        ]
        site = PvSite(
            latitude=float(data[CONF_LATITUDE]),
            longitude=float(data[CONF_LONGITUDE]),
            elevation=float(data[CONF_ELEVATION]),
            arrays=tuple(array for array, _ in arrays),
            ac_limit_kw=float(data[CONF_AC_LIMIT]),
        )
        sensors = tuple(
            PvArraySensor(array, power)
            for array, sub in arrays
            if (power := _entity(sub, CONF_STRING_POWER))
        )
        return cls(site=site, array_sensors=sensors, options=PvSystemOptions.from_mapping(options))
