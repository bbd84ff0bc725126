"""Base entity of PV Monitor: device info, entity naming and per-device updates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..common.entity import track_new_items as common_track_new_items
from ..const import DOMAIN
from .coordinator import GrowattLocalConfigEntry, GrowattLocalCoordinator


def registered_entities(
    hass: HomeAssistant, entry: GrowattLocalConfigEntry, domain: str
) -> list[tuple[str, str]]:
    """``(device serial, key)`` of the entry's registered ``domain`` entities.

    Split from the unique id ``<serial>_<key>`` (see :class:`GrowattEntity`; the listener's
    own entities carry the entry id as serial). Lets a platform bring back, at start-up,
    the entities that existed before a restart.
    """
    return [
        (serial, key)
        for reg_entry in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if reg_entry.domain == domain
        for serial, _, key in (reg_entry.unique_id.partition("_"),)
    ]


def track_new_items[T](
    entry: GrowattLocalConfigEntry,
    current: Callable[[], Iterable[T]],
    add: Callable[[list[T]], None],
    restored: Iterable[T] = (),
) -> None:
    """Call ``add`` with the items of ``current()`` not seen before, now and on new devices.

    ``current`` lists what the coordinator holds now (datalogger serials, ``(serial, key)``
    pairs, ...); ``restored`` (items registered before a restart) are added first, in one
    call of their own (:func:`..common.entity.track_new_items`).
    """
    subscribe = entry.runtime_data.async_add_new_device_listener
    common_track_new_items(entry, subscribe, current, add, restored)


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
