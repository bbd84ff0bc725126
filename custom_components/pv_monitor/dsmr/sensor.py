"""Sensors of a DSMR P1 smart-meter entry, created from what the meter sends.

The electricity meter is the entry's device; every M-Bus device (gas, water, heat meter)
is a child device (``via_device``) created when its first reading arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..common.entity import (
    CountSensor,
    CountSensorDescription,
    measured_description,
    track_new_items,
)
from ..const import DOMAIN
from .coordinator import STATUS_CONTEXT, DsmrConfigEntry, DsmrCoordinator, meter_device_identifier
from .p1.mapping import (
    ENERGY_KEYS,
    EVENT_KEYS,
    TARIFF_OPTIONS,
    MbusReading,
    Medium,
    decode_identifier,
)

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class DsmrSensorEntityDescription(SensorEntityDescription):
    """A meter value sensor; ``key`` is the :class:`.dsmr.mapping.MeterReading` key."""


def _power(key: str, translation_key: str, **kwargs: Any) -> DsmrSensorEntityDescription:
    return measured_description(
        DsmrSensorEntityDescription, key, "W", 0, translation_key=translation_key, **kwargs
    )


def _phases() -> list[DsmrSensorEntityDescription]:
    """Per-phase power, voltage and current: disabled by default, as in core's dsmr."""
    descriptions: list[DsmrSensorEntityDescription] = []
    for phase in (1, 2, 3):
        descriptions += [
            measured_description(
                DsmrSensorEntityDescription,
                f"{quantity}_l{phase}",
                unit,
                precision,
                translation_key=f"dsmr_{quantity}_phase",
                translation_placeholders={"phase": f"L{phase}"},
                entity_registry_enabled_default=False,
            )
            for quantity, unit, precision in (
                ("power_import", "W", 0),
                ("power_export", "W", 0),
                ("voltage", "V", 1),
                ("current", "A", 2),
            )
        ]
    return descriptions


def _energy(key: str) -> DsmrSensorEntityDescription:
    way = "import" if "_import_" in key else "export"
    if key.endswith("_total"):
        translation_key, placeholders = f"dsmr_energy_{way}_total", None
    else:
        translation_key = f"dsmr_energy_{way}_tariff"
        placeholders = {"tariff": key.rsplit("_", 1)[1]}
    return measured_description(
        DsmrSensorEntityDescription,
        key,
        "kWh",
        3,
        total_increasing=True,
        translation_key=translation_key,
        translation_placeholders=placeholders,
    )


def _event(key: str) -> DsmrSensorEntityDescription:
    if key.endswith(("_l1", "_l2", "_l3")):
        base, phase = key.rsplit("_", 1)
        translation_key, placeholders = f"dsmr_{base}_phase", {"phase": phase.upper()}
    else:
        translation_key, placeholders = f"dsmr_{key}", None
    return DsmrSensorEntityDescription(
        key=key,
        translation_key=translation_key,
        translation_placeholders=placeholders,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
    )


METER_SENSORS: Final[dict[str, DsmrSensorEntityDescription]] = {
    description.key: description
    for description in (
        # Import and export power are the two signs of the net grid power (enabled), which
        # the Energy dashboard and the EV controller use: disabled by default, to write
        # fewer recorder rows than core's dsmr (scripts/bench/dsmr_recorder_writes).
        _power("power_import", "dsmr_power_import", entity_registry_enabled_default=False),
        _power("power_export", "dsmr_power_export", entity_registry_enabled_default=False),
        _power("net_power", "dsmr_net_power"),
        *_phases(),
        *(_energy(key) for key in ENERGY_KEYS),
        DsmrSensorEntityDescription(
            key="active_tariff",
            translation_key="dsmr_active_tariff",
            device_class=SensorDeviceClass.ENUM,
            options=list(TARIFF_OPTIONS),
        ),
        _power("average_demand", "dsmr_average_demand"),
        _power("peak_demand_month", "dsmr_peak_demand_month"),
        *(_event(key) for key in EVENT_KEYS),
    )
}
"""Every electricity-meter sensor by reading key (created when the meter sends it)."""

MBUS_SENSORS: Final[dict[Medium, DsmrSensorEntityDescription]] = {
    medium: measured_description(
        DsmrSensorEntityDescription,
        medium.value,
        unit,
        3,
        total_increasing=True,
        translation_key=f"dsmr_{medium.value}",
        device_class=device_class,
    )
    for medium, unit, device_class in (
        (Medium.GAS, "m³", SensorDeviceClass.GAS),
        (Medium.WATER, "m³", SensorDeviceClass.WATER),
        (Medium.HEAT, "GJ", SensorDeviceClass.ENERGY),
    )
}
"""The reading sensor of an M-Bus device, by medium (native unit from the reading)."""

MBUS_MODELS: Final = {
    Medium.GAS: "Gas meter",
    Medium.WATER: "Water meter",
    Medium.HEAT: "Heat meter",
}


@dataclass(frozen=True, kw_only=True)
class DsmrStatusSensorEntityDescription(CountSensorDescription[DsmrCoordinator]):
    """A diagnostic sensor of the P1 connection."""


DROPPED_TELEGRAMS = DsmrStatusSensorEntityDescription(
    key="dropped_telegrams",
    translation_key="dsmr_dropped_telegrams",
    entity_category=EntityCategory.DIAGNOSTIC,
    state_class=SensorStateClass.TOTAL_INCREASING,
    value_fn=lambda c: c.counters.total_dropped,
)
"""Telegrams dropped (CRC error, cut short, not parseable) since the entry started."""


async def async_setup_dsmr_sensors(
    hass: HomeAssistant,
    entry: DsmrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the status sensor now and a sensor for every key as the meter first sends it."""
    coordinator = entry.runtime_data
    async_add_entities([DsmrStatusSensor(coordinator, DROPPED_TELEGRAMS)])

    def current() -> list[str]:
        reading = coordinator.data
        if reading is None:
            return []
        meter = [key for key in reading.values if key in METER_SENSORS]
        return [*meter, *(device.key for device in reading.mbus.values())]

    def add(keys: list[str]) -> None:
        assert coordinator.data is not None  # current() found the keys in it
        mbus = {device.key: device for device in coordinator.data.mbus.values()}
        async_add_entities(
            DsmrMeterSensor(coordinator, METER_SENSORS[key])
            if key in METER_SENSORS
            else DsmrMbusSensor(coordinator, mbus[key])
            for key in keys
        )

    track_new_items(entry, coordinator.async_add_new_key_listener, current, add)


class DsmrEntity(CoordinatorEntity[DsmrCoordinator]):
    """An entity of a DSMR entry, woken only for its own key (its listener context)."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: DsmrCoordinator, context: str, unique_key: str) -> None:
        """Attach the entity to the meter device; ``unique_key`` is unique in the entry."""
        super().__init__(coordinator, context=context)
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.unique_id or entry.entry_id}_{unique_key}"
        self._attr_device_info = DeviceInfo(identifiers={meter_device_identifier(entry)})


class DsmrMeterSensor(DsmrEntity, RestoreSensor):
    """One value of the electricity meter.

    A restore entity: the value it showed is kept over a restart or reload, so that the
    energy counters' guard (:mod:`.counters`) starts from it.
    """

    entity_description: DsmrSensorEntityDescription

    def __init__(
        self, coordinator: DsmrCoordinator, description: DsmrSensorEntityDescription
    ) -> None:
        """Create the sensor of reading key ``description.key``."""
        super().__init__(coordinator, description.key, description.key)
        self.entity_description = description

    @property
    def available(self) -> bool:
        """Available while telegrams arrive and the last one carried this value."""
        data = self.coordinator.data
        return (
            self.coordinator.online
            and data is not None
            and self.entity_description.key in data.values
        )

    @property
    def native_value(self) -> StateType:
        """The value last published for this key (the publisher's throttled state)."""
        return self.coordinator.published(self.entity_description.key)


class DsmrMbusSensor(DsmrEntity, RestoreSensor):
    """The reading of one M-Bus device (a child device of the meter); restored as above."""

    entity_description: DsmrSensorEntityDescription

    def __init__(self, coordinator: DsmrCoordinator, device: MbusReading) -> None:
        """Create the reading sensor of the M-Bus device on ``device.channel``."""
        super().__init__(coordinator, device.key, device.key)
        self.channel = device.channel
        self.entity_description = MBUS_SENSORS[device.medium]
        self._attr_native_unit_of_measurement = device.unit
        entry = coordinator.config_entry
        self._attr_device_info = DeviceInfo(
            identifiers={
                (DOMAIN, f"dsmr_{entry.unique_id or entry.entry_id}_mbus{device.channel}")
            },
            via_device=meter_device_identifier(entry),
            name=f"{MBUS_MODELS[device.medium]} (M-Bus {device.channel})",
            manufacturer="M-Bus",
            model=MBUS_MODELS[device.medium],
            serial_number=decode_identifier(device.equipment_id) if device.equipment_id else None,
        )

    @property
    def _reading(self) -> MbusReading | None:
        data = self.coordinator.data
        return None if data is None else data.mbus.get(self.channel)

    @property
    def available(self) -> bool:
        """Available while telegrams arrive and carry this device's reading."""
        return self.coordinator.online and self._reading is not None

    @property
    def native_value(self) -> float | None:
        """The meter reading (m³, or the heat meter's energy unit), as last published."""
        reading = self._reading
        value = None if reading is None else self.coordinator.published(reading.key)
        return float(value) if isinstance(value, (int, float)) else None


class DsmrStatusSensor(DsmrEntity, CountSensor[DsmrCoordinator]):
    """A counter of the P1 connection (on the meter device)."""

    entity_description: DsmrStatusSensorEntityDescription

    def __init__(
        self, coordinator: DsmrCoordinator, description: DsmrStatusSensorEntityDescription
    ) -> None:
        """Create the status sensor ``description``."""
        super().__init__(coordinator, STATUS_CONTEXT, description.key)
        self.entity_description = description
