"""Binary sensors of PV Monitor: datalogger connectivity."""

from __future__ import annotations

from typing import Final

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..common.entity import connectivity_description
from .coordinator import GrowattLocalConfigEntry, GrowattLocalCoordinator
from .entity import GrowattEntity, registered_entities, track_new_items

PARALLEL_UPDATES = 0

CONNECTIVITY: Final = connectivity_description("connectivity")
"""On while the datalogger is connected and has missed fewer than three data intervals."""


async def async_setup_growatt_local(
    hass: HomeAssistant,
    entry: GrowattLocalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a connectivity sensor for every datalogger, as they appear."""
    coordinator = entry.runtime_data
    # Dataloggers known before a restart show "disconnected" until they reconnect.
    for serial, key in registered_entities(hass, entry, "binary_sensor"):
        if key == CONNECTIVITY.key:
            coordinator.async_known_datalogger(serial)
    track_new_items(
        entry,
        lambda: coordinator.data.dataloggers,
        lambda new: async_add_entities(
            DataloggerConnectivity(coordinator, serial) for serial in new
        ),
    )


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
