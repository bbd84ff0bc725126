"""Base entity of PV Monitor: device info, entity naming and per-device updates."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import GrowattLocalCoordinator


class GrowattEntity(CoordinatorEntity[GrowattLocalCoordinator]):
    """An entity of one device of a local Growatt listener entry.

    ``device_serial`` is the datalogger or inverter serial, or None for the listener's own
    service device; it is also the coordinator context, so the entity is only woken by
    updates of its own device.
    """

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: GrowattLocalCoordinator, device_serial: str | None, key: str
    ) -> None:
        """Attach the entity to its device; ``key`` is unique within the device."""
        super().__init__(coordinator, context=device_serial)
        self.device_serial = device_serial
        entry_id = coordinator.config_entry.entry_id
        identifier = device_serial or entry_id
        self._attr_unique_id = f"{identifier}_{key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, identifier)})
