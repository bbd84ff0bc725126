"""PV Monitor: local Growatt datalogger listener (and, later, more solar sources).

Set-up looks up the entry's kind, builds its runtime and forwards only that kind's
platforms; ``entry.runtime_data`` holds the kind's coordinator.
"""

from __future__ import annotations

import logging

from homeassistant.const import CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr, issue_registry as ir

from .const import CONF_KIND, DOMAIN, EntryKind
from .coordinator import GrowattLocalCoordinator, PvMonitorConfigEntry

_LOGGER = logging.getLogger(__name__)

PLATFORMS: dict[str, list[Platform]] = {
    EntryKind.GROWATT_LOCAL: [Platform.BINARY_SENSOR, Platform.SENSOR],
}


def port_issue_id(entry: PvMonitorConfigEntry) -> str:
    """Repair issue id raised when the entry's port cannot be bound."""
    return f"port_unavailable_{entry.entry_id}"


async def async_setup_entry(hass: HomeAssistant, entry: PvMonitorConfigEntry) -> bool:
    """Set up a config entry: start the Growatt listener and its entities."""
    coordinator = GrowattLocalCoordinator(hass, entry)
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        manufacturer="PV Monitor",
        name=entry.title,
        model="Growatt datalogger listener",
        entry_type=dr.DeviceEntryType.SERVICE,
    )
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS[entry.data[CONF_KIND]])
    try:
        await coordinator.async_start()
    except OSError as err:
        await hass.config_entries.async_unload_platforms(entry, PLATFORMS[entry.data[CONF_KIND]])
        ir.async_create_issue(
            hass,
            DOMAIN,
            port_issue_id(entry),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="port_unavailable",
            translation_placeholders={
                "host": entry.data[CONF_HOST],
                "port": str(entry.data[CONF_PORT]),
                "error": err.strerror or str(err),
            },
        )
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="port_unavailable",
            translation_placeholders={
                "port": str(entry.data[CONF_PORT]),
                "error": err.strerror or str(err),
            },
        ) from err
    ir.async_delete_issue(hass, DOMAIN, port_issue_id(entry))
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    return True


async def _async_options_updated(hass: HomeAssistant, entry: PvMonitorConfigEntry) -> None:
    """Options changed: restart the listener with them."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: PvMonitorConfigEntry) -> bool:
    """Unload: remove entities, close the socket and every datalogger connection."""
    unloaded = await hass.config_entries.async_unload_platforms(
        entry, PLATFORMS[entry.data[CONF_KIND]]
    )
    if unloaded:
        await entry.runtime_data.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: PvMonitorConfigEntry) -> None:
    """Entry deleted: drop its repair issue."""
    ir.async_delete_issue(hass, DOMAIN, port_issue_id(entry))
