"""Binary sensors of PV Monitor: datalogger connectivity."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import GrowattLocalConfigEntry, GrowattLocalCoordinator
from .entity import GrowattEntity

PARALLEL_UPDATES = 0

CONNECTIVITY = BinarySensorEntityDescription(
    key="connectivity",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)
"""On while the datalogger is connected and has missed fewer than three data intervals."""


async def async_setup_growatt_local(
    hass: HomeAssistant,
    entry: GrowattLocalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a connectivity sensor for every datalogger, as they appear."""
    coordinator = entry.runtime_data
    known: set[str] = set()
    # Dataloggers known before a restart show "disconnected" until they reconnect.
    for reg_entry in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        serial, _, key = reg_entry.unique_id.partition("_")
        if reg_entry.domain == "binary_sensor" and key == CONNECTIVITY.key:
            coordinator.async_known_datalogger(serial)

    @callback
    def _discover() -> None:
        new = [serial for serial in coordinator.data.dataloggers if serial not in known]
        known.update(new)
        if new:
            async_add_entities(DataloggerConnectivity(coordinator, serial) for serial in new)

    _discover()
    entry.async_on_unload(coordinator.async_add_new_device_listener(_discover))


class DataloggerConnectivity(GrowattEntity, BinarySensorEntity):
    """Whether a datalogger is online."""

    entity_description = CONNECTIVITY

    def __init__(self, coordinator: GrowattLocalCoordinator, serial: str) -> None:
        """Create the connectivity sensor of datalogger ``serial``."""
        super().__init__(coordinator, serial, CONNECTIVITY.key)
        self.serial = serial

    @property
    def is_on(self) -> bool:
        """Connected, with a data record within the last three data intervals."""
        return self.coordinator.data.dataloggers[self.serial].online

    def _state_key(self) -> bool:
        return self.is_on
