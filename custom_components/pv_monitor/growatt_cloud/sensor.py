"""Sensors of a Growatt cloud entry: the plant's totals, its devices' values, the request count.

Devices: each plant of the entry (a hub device) and, via it, every device of the plant.
Device sensors use the local listener's value keys and translation keys (same meaning, same
unit); they are added per device as values appear. Energy counters are restored across
restarts and fed to the coordinator so that a night-time 0 never replaces them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..common.entity import async_last_number, measured_description, track_new_items
from ..const import DOMAIN
from ..growatt_local.protocol.registers import VALUE_UNITS
from .api.models import DeviceType
from .coordinator import GrowattCloudConfigEntry, GrowattCloudCoordinator

PARALLEL_UPDATES = 0

_PRECISIONS: Final = {"W": 0, "V": 1, "A": 1, "Hz": 2, "kWh": 1, "°C": 1, "%": 0}
"""Display precision of the local listener's units that the cloud delivers (others: none)."""

DEVICE_MODELS: Final = {
    DeviceType.INVERTER: "PV inverter",
    DeviceType.TLX: "TL-X / MIN inverter",
    DeviceType.MIX: "SPH hybrid inverter",
    DeviceType.STORAGE: "Battery storage",
    DeviceType.OTHER: "Device",
}


def unique_prefix(plant_id: str) -> str:
    """Prefix of every unique id and device identifier of the plant's entry."""
    return f"growatt_cloud_{plant_id}"


@dataclass(frozen=True, kw_only=True)
class GrowattCloudSensorEntityDescription(SensorEntityDescription):
    """A cloud value sensor; ``counter``: restored across restarts."""

    counter: bool = False


def value_description(key: str) -> GrowattCloudSensorEntityDescription | None:
    """Description of the local-listener value ``key`` (its translation key), or None."""
    unit = VALUE_UNITS.get(key)
    if unit is None or unit not in _PRECISIONS:
        return None
    counter = unit == "kWh"
    per_string_energy = key.startswith("pv") and key[2:3].isdigit() and counter
    extra = {"device_class": SensorDeviceClass.BATTERY} if key == "battery_soc" else {}
    return measured_description(
        GrowattCloudSensorEntityDescription,
        key,
        unit,
        _PRECISIONS[unit],
        total_increasing=counter,
        entity_registry_enabled_default=not per_string_energy,
        counter=counter,
        **extra,
    )


PLANT_SENSORS: Final = (
    measured_description(
        GrowattCloudSensorEntityDescription,
        "current_power",
        "W",
        0,
        translation_key="growatt_cloud_current_power",
    ),
    *(
        measured_description(
            GrowattCloudSensorEntityDescription, key, "kWh", 1, total_increasing=True, counter=True
        )
        for key in ("energy_today", "energy_total")
    ),
)
"""Plant totals (W, kWh)."""


@dataclass(frozen=True, kw_only=True)
class GrowattCloudDiagnosticDescription(SensorEntityDescription):
    """A diagnostic sensor of a plant: ``value_fn(coordinator, plant id)``."""

    value_fn: Callable[[GrowattCloudCoordinator, str], float | None]


def _history_progress(coordinator: GrowattCloudCoordinator, plant_id: str) -> float | None:
    importer = coordinator.history.get(plant_id)
    return None if importer is None else float(importer.progress)


DIAGNOSTIC_SENSORS: Final = (
    GrowattCloudDiagnosticDescription(
        key="cloud_requests",
        translation_key="growatt_cloud_requests",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda coordinator, _plant: coordinator.requests_24h,
    ),
    GrowattCloudDiagnosticDescription(
        key="history_progress",
        translation_key="growatt_cloud_history_progress",
        entity_category=EntityCategory.DIAGNOSTIC,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=_history_progress,
    ),
)
"""Requests sent to the account in the last 24 hours (the budget guard's count), and how
much of the plant's year of energy history is imported."""


async def async_setup_growatt_cloud(
    hass: HomeAssistant,
    entry: GrowattCloudConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the plant's sensors now, device sensors as devices and values appear."""
    coordinator = entry.runtime_data
    entities: list[SensorEntity] = []
    for plant_id in coordinator.plants:
        entities.extend(
            GrowattCloudValueSensor(coordinator, plant_id, None, description)
            for description in PLANT_SENSORS
        )
        entities.extend(
            GrowattCloudDiagnosticSensor(coordinator, plant_id, description)
            for description in DIAGNOSTIC_SENSORS
        )
    async_add_entities(entities)

    def current() -> list[tuple[str, str]]:
        data = coordinator.data
        return [
            (serial, key)
            for serial, values in data.values.items()
            if serial in data.device_plant
            for key in values
            if value_description(key) is not None
        ]

    def add(items: list[tuple[str, str]]) -> None:
        plants = coordinator.data.device_plant
        async_add_entities(
            GrowattCloudValueSensor(coordinator, plants[serial], serial, description)
            for serial, key in items
            if (description := value_description(key)) is not None
        )

    track_new_items(entry, coordinator.async_add_listener, current, add)


class GrowattCloudEntity(CoordinatorEntity[GrowattCloudCoordinator]):
    """An entity of a plant (``serial`` None) or of one of its devices."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: GrowattCloudCoordinator, plant_id: str, serial: str | None, key: str
    ) -> None:
        """Attach the entity to the plant's or the device's registry entry."""
        super().__init__(coordinator)
        self.plant_id = plant_id
        self.serial = serial
        prefix = unique_prefix(plant_id)
        plant_identifier = (DOMAIN, prefix)
        if serial is None:
            self._attr_unique_id = f"{prefix}_{key}"
            self._attr_device_info = DeviceInfo(
                identifiers={plant_identifier},
                manufacturer="Growatt",
                model="Plant (Growatt cloud)",
                name=coordinator.plants[plant_id],
            )
            return
        device = coordinator.data.devices[serial]
        self._attr_unique_id = f"{prefix}_{serial}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{prefix}_{serial}")},
            manufacturer="Growatt",
            model=device.model or DEVICE_MODELS[device.device_type],
            name=device.alias or f"{DEVICE_MODELS[device.device_type]} {serial}",
            serial_number=serial,
            via_device=plant_identifier,
        )


class GrowattCloudValueSensor(GrowattCloudEntity, RestoreSensor):
    """A plant total or one value of one device."""

    entity_description: GrowattCloudSensorEntityDescription

    def __init__(
        self,
        coordinator: GrowattCloudCoordinator,
        plant_id: str,
        serial: str | None,
        description: GrowattCloudSensorEntityDescription,
    ) -> None:
        """Create the sensor of ``description.key`` for the plant or its device ``serial``."""
        super().__init__(coordinator, plant_id, serial, description.key)
        self.entity_description = description

    async def async_added_to_hass(self) -> None:
        """Hand a restored lifetime counter to the coordinator's guard."""
        await super().async_added_to_hass()
        if self.entity_description.counter and (value := await async_last_number(self)) is not None:
            key = self.entity_description.key
            self.coordinator.restore_value(self.serial or self.plant_id, key, value)

    @property
    def _values(self) -> dict[str, float]:
        data = self.coordinator.data
        if self.serial is None:
            return data.plants.get(self.plant_id, {})
        return data.values.get(self.serial, {})

    @property
    def available(self) -> bool:
        """Counters stay available with their last value; other values need a fresh poll."""
        if self.entity_description.key not in self._values:
            return False
        return self.entity_description.counter or super().available

    @property
    def native_value(self) -> float | None:
        """The latest value in the description's unit."""
        return self._values.get(self.entity_description.key)


class GrowattCloudDiagnosticSensor(GrowattCloudEntity, SensorEntity):
    """A diagnostic value of a plant (on the plant's device)."""

    entity_description: GrowattCloudDiagnosticDescription

    def __init__(
        self,
        coordinator: GrowattCloudCoordinator,
        plant_id: str,
        description: GrowattCloudDiagnosticDescription,
    ) -> None:
        """Create the diagnostic sensor ``description`` of ``plant_id``."""
        super().__init__(coordinator, plant_id, None, description.key)
        self.entity_description = description

    @property
    def available(self) -> bool:
        """Always available: the count matters most while the cloud refuses."""
        return True

    @property
    def native_value(self) -> float | None:
        """The current value."""
        return self.entity_description.value_fn(self.coordinator, self.plant_id)
