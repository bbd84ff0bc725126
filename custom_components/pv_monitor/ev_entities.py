"""Entities of an EV surplus charging entry: switch, mode select, setting numbers, sensors.

All belong to the entry's service device ("EV charging: <charger>"). The switch, the select
and the numbers restore their last value after a restart; the numbers start from the values
chosen in the config flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntityDescription,
    NumberMode,
    RestoreNumber,
)
from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import (
    PERCENTAGE,
    STATE_OFF,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.helpers.typing import StateType
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .ev.controller import Mode, Status
from .ev_const import (
    CONF_BATTERY_PRIORITY_SOC,
    CONF_MAX_CURRENT,
    CONF_MIN_CURRENT,
    CONF_START_DELAY,
    CONF_START_THRESHOLD,
    CONF_STOP_DELAY,
    CONF_STOP_THRESHOLD,
)
from .ev_coordinator import EvChargingConfigEntry, EvChargingCoordinator, EvData


class EvEntity(CoordinatorEntity[EvChargingCoordinator]):
    """An entity of the entry's controller device; ``key`` is unique within the entry."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: EvChargingCoordinator, key: str) -> None:
        """Attach the entity to the entry's service device."""
        super().__init__(coordinator)
        entry_id = coordinator.config_entry.entry_id
        self._attr_unique_id = f"{entry_id}_{key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry_id)})


# -- switch ------------------------------------------------------------------------------------

CONTROLLER_SWITCH: Final = SwitchEntityDescription(
    key="ev_surplus_charging", translation_key="ev_surplus_charging"
)
"""On: the controller steers the charger. Off: the charger is left alone."""


async def async_setup_ev_switch(
    hass: HomeAssistant,
    entry: EvChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the "Solar surplus charging" switch."""
    async_add_entities([EvControllerSwitch(entry.runtime_data)])


class EvControllerSwitch(EvEntity, SwitchEntity, RestoreEntity):
    """Turns the surplus controller on or off (restored; on after the first set-up)."""

    entity_description = CONTROLLER_SWITCH

    def __init__(self, coordinator: EvChargingCoordinator) -> None:
        """Create the switch."""
        super().__init__(coordinator, CONTROLLER_SWITCH.key)

    async def async_added_to_hass(self) -> None:
        """Restore the last on/off state into the controller."""
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state == STATE_OFF:
            self.coordinator.async_set_enabled(False)

    @property
    def is_on(self) -> bool:
        """Whether the controller steers the charger."""
        return self.coordinator.controller.enabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Let the controller steer the charger."""
        self.coordinator.async_set_enabled(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop steering; the charger keeps its present state."""
        self.coordinator.async_set_enabled(False)


# -- select ------------------------------------------------------------------------------------

MODE_SELECT: Final = SelectEntityDescription(
    key="ev_mode", translation_key="ev_mode", options=[mode.value for mode in Mode]
)
"""Charging mode: off, solar, min_solar, fast."""


async def async_setup_ev_select(
    hass: HomeAssistant,
    entry: EvChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the mode select."""
    async_add_entities([EvModeSelect(entry.runtime_data)])


class EvModeSelect(EvEntity, SelectEntity, RestoreEntity):
    """The charging mode (restored; ``solar`` after the first set-up)."""

    entity_description = MODE_SELECT

    def __init__(self, coordinator: EvChargingCoordinator) -> None:
        """Create the select."""
        super().__init__(coordinator, MODE_SELECT.key)

    async def async_added_to_hass(self) -> None:
        """Restore the last mode into the controller."""
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state in self.options:
            self.coordinator.async_set_mode(Mode(last.state))

    @property
    def current_option(self) -> str:
        """The present mode."""
        return self.coordinator.controller.mode.value

    async def async_select_option(self, option: str) -> None:
        """Change the mode."""
        self.coordinator.async_set_mode(Mode(option))


# -- numbers -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EvNumberEntityDescription(NumberEntityDescription):
    """A controller setting; ``key`` is the :class:`ControllerSettings` field."""

    needs_current_entity: bool = False
    """Only with a current entity (the current is fixed otherwise)."""
    needs_battery: bool = False
    """Only with a battery SOC sensor."""


def _setting(
    key: str,
    unit: str,
    maximum: float,
    *,
    minimum: float = 0,
    step: float = 1,
    device_class: NumberDeviceClass | None = None,
    needs_current_entity: bool = False,
    needs_battery: bool = False,
) -> EvNumberEntityDescription:
    return EvNumberEntityDescription(
        key=key,
        translation_key=f"ev_{key}",
        entity_category=EntityCategory.CONFIG,
        native_unit_of_measurement=unit,
        device_class=device_class,
        native_min_value=minimum,
        native_max_value=maximum,
        native_step=step,
        mode=NumberMode.BOX,
        needs_current_entity=needs_current_entity,
        needs_battery=needs_battery,
    )


SETTING_NUMBERS: Final[tuple[EvNumberEntityDescription, ...]] = (
    _setting(CONF_START_THRESHOLD, UnitOfPower.WATT, 10_000, minimum=-10_000, step=10),
    _setting(CONF_STOP_THRESHOLD, UnitOfPower.WATT, 10_000, minimum=-10_000, step=10),
    _setting(CONF_START_DELAY, UnitOfTime.SECONDS, 3600, device_class=NumberDeviceClass.DURATION),
    _setting(CONF_STOP_DELAY, UnitOfTime.SECONDS, 3600, device_class=NumberDeviceClass.DURATION),
    _setting(
        CONF_MIN_CURRENT,
        UnitOfElectricCurrent.AMPERE,
        32,
        minimum=1,
        device_class=NumberDeviceClass.CURRENT,
    ),
    _setting(
        CONF_MAX_CURRENT,
        UnitOfElectricCurrent.AMPERE,
        32,
        minimum=1,
        device_class=NumberDeviceClass.CURRENT,
        needs_current_entity=True,
    ),
    _setting(CONF_BATTERY_PRIORITY_SOC, PERCENTAGE, 100, needs_battery=True),
)
"""Thresholds (W), delays (s) and limits (A, %) a user tunes at run time. Ranges: up to
32 A (the largest single-phase wallbox circuit), delays up to an hour."""


async def async_setup_ev_number(
    hass: HomeAssistant,
    entry: EvChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a number for each setting that applies to this charger."""
    coordinator = entry.runtime_data
    async_add_entities(
        EvSettingNumber(coordinator, description)
        for description in SETTING_NUMBERS
        if (coordinator.current_entity or not description.needs_current_entity)
        and (coordinator.battery_entity or not description.needs_battery)
    )


class EvSettingNumber(EvEntity, RestoreNumber):
    """One controller setting; restored after a restart, applied at once when changed."""

    entity_description: EvNumberEntityDescription

    def __init__(
        self, coordinator: EvChargingCoordinator, description: EvNumberEntityDescription
    ) -> None:
        """Create the number of setting ``description.key``."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    async def async_added_to_hass(self) -> None:
        """Restore the last value (ignored when it no longer fits the other settings)."""
        await super().async_added_to_hass()
        last = await self.async_get_last_number_data()
        if last is not None and last.native_value is not None:
            try:
                self.coordinator.async_set_setting(self.entity_description.key, last.native_value)
            except ServiceValidationError:
                self.coordinator.logger.debug(
                    "Restored %s = %s conflicts with the other settings; not restored",
                    self.entity_description.key,
                    last.native_value,
                )

    @property
    def native_value(self) -> float | None:
        """The setting's present value."""
        value: float | None = getattr(
            self.coordinator.controller.settings, self.entity_description.key
        )
        return value

    async def async_set_native_value(self, value: float) -> None:
        """Change the setting (ServiceValidationError when it conflicts with the others)."""
        self.coordinator.async_set_setting(self.entity_description.key, value)


# -- sensors -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EvSensorEntityDescription(SensorEntityDescription):
    """A value of the controller; ``value_fn`` reads it from :class:`EvData`."""

    value_fn: Callable[[EvData], StateType]


ENERGY_TODAY_KEY: Final = "ev_solar_energy_today"

EV_SENSORS: Final[tuple[EvSensorEntityDescription, ...]] = (
    EvSensorEntityDescription(
        key="ev_available_surplus",
        translation_key="ev_available_surplus",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda data: data.surplus,
    ),
    EvSensorEntityDescription(
        key="ev_target_current",
        translation_key="ev_target_current",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=0,
        value_fn=lambda data: data.command.current,
    ),
    EvSensorEntityDescription(
        key="ev_controller_state",
        translation_key="ev_controller_state",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in Status],
        value_fn=lambda data: data.status.value,
    ),
    EvSensorEntityDescription(
        key=ENERGY_TODAY_KEY,
        translation_key=ENERGY_TODAY_KEY,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda data: round(data.energy_today_kwh, 4),
    ),
)
"""Available surplus (W), target current (A, 0 when off), state with reason, and the
estimated solar energy (kWh) delivered to the car today (resets at local midnight)."""


async def async_setup_ev_sensor(
    hass: HomeAssistant,
    entry: EvChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the controller's sensors."""
    coordinator = entry.runtime_data
    async_add_entities(
        EvEnergySensor(coordinator, description)
        if description.key == ENERGY_TODAY_KEY
        else EvSensor(coordinator, description)
        for description in EV_SENSORS
    )


class EvSensor(EvEntity, SensorEntity):
    """One value of the controller."""

    entity_description: EvSensorEntityDescription

    def __init__(
        self, coordinator: EvChargingCoordinator, description: EvSensorEntityDescription
    ) -> None:
        """Create the sensor ``description``."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> StateType:
        """The value from the controller's latest tick."""
        return self.entity_description.value_fn(self.coordinator.data)


class EvEnergySensor(EvSensor, RestoreSensor):
    """Solar energy to the car today: restored after a restart on the same day."""

    async def async_added_to_hass(self) -> None:
        """Seed the controller with today's value from before the restart."""
        await super().async_added_to_hass()
        last_state = await self.async_get_last_state()
        last = await self.async_get_last_sensor_data()
        if (
            last_state is not None
            and last is not None
            and isinstance(last.native_value, (int, float))
            and dt_util.as_local(last_state.last_changed).date() == dt_util.now().date()
        ):
            self.coordinator.async_restore_energy(float(last.native_value))
