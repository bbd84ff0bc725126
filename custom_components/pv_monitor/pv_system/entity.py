"""Base of every entity of a PV system entry (its service device)."""

from __future__ import annotations

from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..common.runtime import service_device_info
from .coordinator import PvSystemCoordinator


class PvSystemEntity(CoordinatorEntity[PvSystemCoordinator]):
    """An entity of the PV system's service device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: PvSystemCoordinator, key: str) -> None:
        """Attach the entity to the entry's device; ``key`` is unique within the entry."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{key}"
        self._attr_device_info = service_device_info(entry, "PV system model (pvlib)")
