"""Binary sensor of a DSMR P1 entry: is the meter's telegram stream alive."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..common.entity import connectivity_description
from .coordinator import STATUS_CONTEXT, DsmrConfigEntry, DsmrCoordinator
from .sensor import DsmrEntity

PARALLEL_UPDATES = 0

P1_CONNECTIVITY = connectivity_description("p1_connectivity")
"""On while connected and valid telegrams arrive (see ``STALE_AFTER``)."""


async def async_setup_dsmr_binary_sensors(
    hass: HomeAssistant,
    entry: DsmrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the connectivity sensor of the meter."""
    async_add_entities([DsmrConnectivity(entry.runtime_data)])


class DsmrConnectivity(DsmrEntity, BinarySensorEntity):
    """Connectivity of the P1 link."""

    entity_description = P1_CONNECTIVITY

    def __init__(self, coordinator: DsmrCoordinator) -> None:
        """Create the connectivity sensor of the entry's meter."""
        super().__init__(coordinator, STATUS_CONTEXT, P1_CONNECTIVITY.key)

    @property
    def is_on(self) -> bool:
        """Connected, with a valid telegram within the last ``STALE_AFTER`` seconds."""
        return self.coordinator.connected and self.coordinator.online
