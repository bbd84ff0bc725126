"""The EV charging kind's numbers: thresholds, delays and current limits (restored)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntityDescription,
    NumberMode,
    RestoreNumber,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.exceptions import ServiceValidationError

from ..common.entity import setup_per_description
from .const import (
    CONF_BATTERY_PRIORITY_SOC,
    CONF_MAX_CURRENT,
    CONF_MIN_CURRENT,
    CONF_START_DELAY,
    CONF_START_THRESHOLD,
    CONF_STOP_DELAY,
    CONF_STOP_THRESHOLD,
)
from .coordinator import EvChargingCoordinator
from .entity import EvEntity


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
    _setting(
        CONF_START_THRESHOLD,
        UnitOfPower.WATT,
        10_000,
        minimum=-10_000,
        step=10,
        device_class=NumberDeviceClass.POWER,
    ),
    _setting(
        CONF_STOP_THRESHOLD,
        UnitOfPower.WATT,
        10_000,
        minimum=-10_000,
        step=10,
        device_class=NumberDeviceClass.POWER,
    ),
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
    _setting(
        CONF_BATTERY_PRIORITY_SOC,
        PERCENTAGE,
        100,
        device_class=NumberDeviceClass.BATTERY,
        needs_battery=True,
    ),
)
"""Thresholds (W), delays (s) and limits (A, %) a user tunes at run time. Ranges: up to
32 A (the largest single-phase wallbox circuit), delays up to an hour."""


class EvSettingNumber(EvEntity, RestoreNumber):
    """One controller setting; restored after a restart, applied at once when changed."""

    entity_description: EvNumberEntityDescription

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


def _applies(coordinator: EvChargingCoordinator, description: EvNumberEntityDescription) -> bool:
    """Whether the setting applies to this charger (its current entity, its battery)."""
    return bool(
        (coordinator.settings.current_entity or not description.needs_current_entity)
        and (coordinator.settings.battery_soc or not description.needs_battery)
    )


async_setup_ev_number: Final = setup_per_description(EvSettingNumber, SETTING_NUMBERS, _applies)
"""Add a number for each setting that applies to this charger."""
