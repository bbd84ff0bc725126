"""Base entity of PV Monitor: device info, entity naming and per-device updates."""

from __future__ import annotations

from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..const import DOMAIN
from .coordinator import GrowattLocalCoordinator


class GrowattEntity(CoordinatorEntity[GrowattLocalCoordinator]):
    """An entity of one device of a local Growatt listener entry.

    ``device_serial`` is the datalogger or inverter serial, or None for the listener's own
    service device; it is also the coordinator context, so the entity is only woken by
    updates of its own device.
    """

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: GrowattLocalCoordinator,
        device_serial: str | None,
        key: str,
        *,
        per_value: bool = False,
    ) -> None:
        """Attach the entity to its device; ``key`` is unique within the device.

        ``per_value``: the entity shows the device's value ``key`` and is woken only when
        that value changes (or the device's availability does).
        """
        context = (device_serial, key) if per_value else device_serial
        super().__init__(coordinator, context=context)
        self.device_serial = device_serial
        entry_id = coordinator.config_entry.entry_id
        identifier = device_serial or entry_id
        self._attr_unique_id = f"{identifier}_{key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, identifier)})
        self._written: tuple[bool, Any] | None = None

    def _state_key(self) -> Any:
        """What the entity shows: it is written again only when this changes."""
        return None

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when availability or the shown value changed.

        A record updates every entity of its inverter; most values repeat (a night's
        zeros, a steady voltage), and skipping those writes keeps a busy listener cheap.
        """
        shown = (self.available, self._state_key())
        if shown != self._written:
            self._written = shown
            self.async_write_ha_state()
