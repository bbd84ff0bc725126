"""Sensors of a ``pv_system`` entry (one service device per entry).

Forecast energy sensors have no state class (like core ``forecast_solar``): they are
predictions, not meters. The indicators (PR, specific yield, capacity factor, ...) have state
class ``measurement``, so the recorder keeps their long-term statistics (the day's value is
the daily maximum). Ratios are in %, energies in kWh, money in the configured currency.
Every sensor is unknown until the first forecast; states are rounded to the ``precision``
of their description (the resolution of the data, e.g. whole watts).

With a net grid power sensor the **house load power** is derived: production power + net
grid power (import positive) = PV power + grid import - export, updated whenever either
changes; with grid import and export energy sensors, **house consumption today** likewise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfEnergy, UnitOfPower
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .coordinator import PvSystemConfigEntry, PvSystemCoordinator
from .entity import PvSystemEntity

SPECIFIC_YIELD_UNIT: Final = "kWh/kWp"


def _day(offset: int) -> tuple[datetime, datetime]:
    start = dt_util.start_of_local_day(dt_util.now().date() + timedelta(days=offset))
    return start, dt_util.start_of_local_day(start + timedelta(days=1, hours=12))


def _energy_kwh(coordinator: PvSystemCoordinator, start: datetime, end: datetime) -> float:
    return round(coordinator.data.forecast.energy_wh(start, end) / 1000, 3)


def _today(c: PvSystemCoordinator) -> float:
    return _energy_kwh(c, *_day(0))


def _remaining(c: PvSystemCoordinator) -> float:
    return _energy_kwh(c, dt_util.utcnow(), _day(0)[1])


def _tomorrow(c: PvSystemCoordinator) -> float:
    return _energy_kwh(c, *_day(1))


def _power_now(c: PvSystemCoordinator) -> float | None:
    return c.data.forecast.power_at(dt_util.utcnow())


def _power_next_hour(c: PvSystemCoordinator) -> float | None:
    return c.data.forecast.power_at(dt_util.utcnow() + timedelta(hours=1))


def _peak(offset: int) -> Callable[[PvSystemCoordinator], datetime | None]:
    def value(c: PvSystemCoordinator) -> datetime | None:
        return c.data.forecast.peak_time(*_day(offset))

    return value


def _kpi(key: str) -> Callable[[PvSystemCoordinator], float | None]:
    def value(c: PvSystemCoordinator) -> float | None:
        return c.data.kpis.get(key)

    return value


@dataclass(frozen=True, kw_only=True)
class PvSystemSensorEntityDescription(SensorEntityDescription):
    """A PV system sensor: ``value_fn(coordinator)`` gives its state."""

    value_fn: Callable[[PvSystemCoordinator], StateType | datetime]
    monetary: bool = False
    precision: int | None = None
    """Decimals of the state (None: not rounded, e.g. timestamps)."""


type _ValueFn = Callable[[PvSystemCoordinator], StateType | datetime]


def _describe(key: str, fn: _ValueFn | None, **fields: Any) -> PvSystemSensorEntityDescription:
    """The sensor ``key`` (also its translation key); ``fn`` defaults to the KPI ``key``."""
    return PvSystemSensorEntityDescription(
        key=key, translation_key=key, value_fn=fn or _kpi(key), **fields
    )


def _energy(key: str, fn: _ValueFn | None = None) -> PvSystemSensorEntityDescription:
    """A kWh forecast or day total (no state class)."""
    return _describe(
        key,
        fn,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        precision=3,
    )


def _power(
    key: str, fn: _ValueFn, state_class: SensorStateClass | None = None
) -> PvSystemSensorEntityDescription:
    """A power in whole watts."""
    return _describe(
        key,
        fn,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=state_class,
        suggested_display_precision=0,
        precision=0,
    )


def _peak_time(key: str, offset: int) -> PvSystemSensorEntityDescription:
    """The time of the forecast peak ``offset`` days from today."""
    return _describe(key, _peak(offset), device_class=SensorDeviceClass.TIMESTAMP)


def _money(key: str) -> PvSystemSensorEntityDescription:
    """A KPI in the configured currency (unit set by the entity)."""
    return _describe(
        key,
        None,
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        precision=2,
        monetary=True,
    )


def _ratio(
    key: str, category: EntityCategory | None = None, fn: _ValueFn | None = None
) -> PvSystemSensorEntityDescription:
    """A percentage measurement."""
    return _describe(
        key,
        fn,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        precision=1,
        entity_category=category,
    )


SENSORS: Final[tuple[PvSystemSensorEntityDescription, ...]] = (
    _energy("forecast_energy_today", _today),
    _energy("forecast_energy_today_remaining", _remaining),
    _energy("forecast_energy_tomorrow", _tomorrow),
    _power("forecast_power_now", _power_now),
    _power("forecast_power_next_hour", _power_next_hour),
    _peak_time("peak_time_today", 0),
    _peak_time("peak_time_tomorrow", 1),
    _power("expected_power", lambda c: c.data.expected_power, SensorStateClass.MEASUREMENT),
    _ratio("performance_ratio_today"),
    _ratio("performance_ratio_7d"),
    _ratio("temperature_corrected_pr_today"),
    _describe(
        "specific_yield_today",
        None,
        native_unit_of_measurement=SPECIFIC_YIELD_UNIT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        precision=3,
    ),
    _ratio("capacity_factor_today"),
    _ratio("self_consumption_ratio_today"),
    _ratio("self_sufficiency_today"),
    _energy("direct_consumption_today"),
    _money("grid_cost_today"),
    _money("savings_today"),
    _ratio("forecast_accuracy", EntityCategory.DIAGNOSTIC, lambda c: c.forecast_accuracy),
)
"""Every sensor of a PV system."""


class PvSystemSensor(PvSystemEntity, SensorEntity):
    """A forecast, indicator or diagnostic value of a PV system."""

    entity_description: PvSystemSensorEntityDescription

    def __init__(
        self, coordinator: PvSystemCoordinator, description: PvSystemSensorEntityDescription
    ) -> None:
        """Create the sensor ``description``."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        if description.monetary:
            self._attr_native_unit_of_measurement = coordinator.hass.config.currency

    @property
    def native_value(self) -> StateType | datetime:
        """The description's value now, rounded; None until the first forecast."""
        if not self.coordinator.has_forecast:
            return None
        value = self.entity_description.value_fn(self.coordinator)
        precision = self.entity_description.precision
        if isinstance(value, float) and precision is not None:
            return round(value, precision) if precision else round(value)
        return value


HOUSE_CONSUMPTION: Final = _energy("house_consumption_today")
"""PV + grid import - export today, with grid import and export energy sensors."""

HOUSE_LOAD: Final = _power(
    "house_load_power", lambda c: c.house_load(), SensorStateClass.MEASUREMENT
)
"""Production power + net grid power, with a net grid power sensor."""


class PvSystemHouseLoadSensor(PvSystemSensor):
    """House load power, written whenever the production or grid power changes."""

    @property
    def native_value(self) -> StateType | datetime:
        """Production + net grid power (W), rounded; no forecast needed."""
        value = self.coordinator.house_load()
        return None if value is None else round(value)

    async def async_added_to_hass(self) -> None:
        """Follow the production and grid power sensors."""
        await super().async_added_to_hass()
        options = self.coordinator.settings.options
        sources = [entity for entity in (options.production_power, options.grid_power) if entity]
        self.async_on_remove(
            async_track_state_change_event(self.hass, sources, self._async_source_changed)
        )

    @callback
    def _async_source_changed(self, _event: Event[EventStateChangedData]) -> None:
        self.async_write_ha_state()


async def async_setup_pv_system_sensors(
    hass: HomeAssistant,
    entry: PvSystemConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the PV system's sensors."""
    coordinator = entry.runtime_data
    entities = [PvSystemSensor(coordinator, description) for description in SENSORS]
    options = coordinator.settings.options
    if options.grid_import and options.grid_export:
        entities.append(PvSystemSensor(coordinator, HOUSE_CONSUMPTION))
    if options.grid_power and options.production_power:
        entities.append(PvSystemHouseLoadSensor(coordinator, HOUSE_LOAD))
    async_add_entities(entities)
