"""The EV charging kind's sensors: surplus, target current, controller state, solar energy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from ..common.entity import async_last_number, measured_description, setup_per_description
from .controller import Status
from .coordinator import EvChargingCoordinator, EvData
from .entity import EvEntity


@dataclass(frozen=True, kw_only=True)
class EvSensorEntityDescription(SensorEntityDescription):
    """A value of the controller; ``value_fn`` reads it from :class:`EvData`."""

    value_fn: Callable[[EvData], StateType]


ENERGY_TODAY_KEY: Final = "ev_solar_energy_today"

EV_SENSORS: Final[tuple[EvSensorEntityDescription, ...]] = (
    measured_description(
        EvSensorEntityDescription,
        "ev_available_surplus",
        "W",
        0,
        value_fn=lambda data: data.surplus,
    ),
    measured_description(
        EvSensorEntityDescription,
        "ev_target_current",
        "A",
        0,
        value_fn=lambda data: data.command.current,
    ),
    EvSensorEntityDescription(
        key="ev_controller_state",
        translation_key="ev_controller_state",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in Status],
        value_fn=lambda data: data.status.value,
    ),
    measured_description(
        EvSensorEntityDescription,
        ENERGY_TODAY_KEY,
        "kWh",
        2,
        total_increasing=True,
        value_fn=lambda data: round(data.energy_today_kwh, 4),
    ),
)
"""Available surplus (W), target current (A, 0 when off), state with reason, and the
estimated solar energy (kWh) delivered to the car today (resets at local midnight)."""


class EvSensor(EvEntity, SensorEntity):
    """One value of the controller."""

    entity_description: EvSensorEntityDescription

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
        value = await async_last_number(self)
        if (
            last_state is not None
            and value is not None
            and dt_util.as_local(last_state.last_changed).date() == dt_util.now().date()
        ):
            self.coordinator.async_restore_energy(value)


def _ev_sensor(
    coordinator: EvChargingCoordinator, description: EvSensorEntityDescription
) -> EvSensor:
    """The sensor of ``description``: today's solar energy is restored, the rest are not."""
    if description.key == ENERGY_TODAY_KEY:
        return EvEnergySensor(coordinator, description)
    return EvSensor(coordinator, description)


async_setup_ev_sensor: Final = setup_per_description(_ev_sensor, EV_SENSORS)
"""Add the controller's sensors."""
