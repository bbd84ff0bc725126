"""Base of every entity of an EV surplus charging entry (its service device)."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..const import DOMAIN
from .coordinator import EvChargingCoordinator


class EvEntity(CoordinatorEntity[EvChargingCoordinator]):
    """An entity of the entry's controller device, described by ``entity_description``.

    The description's ``key`` is unique within the entry (the unique id's suffix).
    """

    _attr_has_entity_name = True

    def __init__(self, coordinator: EvChargingCoordinator, description: EntityDescription) -> None:
        """Create the entity ``description`` on the entry's service device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry_id = coordinator.config_entry.entry_id
        self._attr_unique_id = f"{entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry_id)})


class EvRestoredEntity(EvEntity, RestoreEntity):
    """An entity whose last state goes back into the controller when Home Assistant starts.

    The controller itself keeps nothing across a restart: the mode select and the on/off
    switch are where the user's choice is remembered (Home Assistant's restore state).
    """

    async def async_added_to_hass(self) -> None:
        """Hand the last state, if any, to :meth:`restore`."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_state()) is not None:
            self.restore(last.state)

    def restore(self, state: str) -> None:
        """Put the last ``state`` of this entity back into the controller."""
        raise NotImplementedError
