"""PV Monitor: your own solar data in Home Assistant, without a vendor cloud.

Every config entry is one *kind* of source (``entry.data["kind"]``), each a package of its
own whose ``kind`` module declares a :class:`~.common.runtime.KindSpec`. Set-up imports that
module (only then), builds its runtime (``entry.runtime_data``), forwards only its
platforms, then starts the runtime.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from .common.dashboard import async_offer_dashboard, async_setup_frontend
from .common.energy_setup import async_offer as async_offer_energy_setup
from .common.runtime import PvMonitorConfigEntry, async_load_kind, loaded_kind
from .const import DOMAIN
from .growatt_local.services import async_setup_services as async_setup_growatt_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Serve the dashboard strategy, offer the dashboard, register the actions."""
    await async_setup_frontend(hass)
    async_setup_growatt_services(hass)
    async_offer_dashboard(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: PvMonitorConfigEntry) -> bool:
    """Set up a config entry of any kind."""
    kind = await async_load_kind(hass, entry)
    runtime = kind.factory(hass, entry)
    entry.runtime_data = runtime
    platforms = list(kind.platforms)
    try:
        await runtime.async_setup()
        await hass.config_entries.async_forward_entry_setups(entry, platforms)
        await runtime.async_start()
    except Exception:
        await hass.config_entries.async_unload_platforms(entry, platforms)
        await runtime.async_stop()
        raise
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await async_offer_energy_setup(hass, entry)
    return True


async def _async_options_updated(hass: HomeAssistant, entry: PvMonitorConfigEntry) -> None:
    """Options changed: restart the entry with them."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: PvMonitorConfigEntry) -> bool:
    """Unload: remove entities, then stop the runtime (sockets, connections, timers)."""
    platforms = list(loaded_kind(entry).platforms)
    unloaded = await hass.config_entries.async_unload_platforms(entry, platforms)
    if unloaded:
        await entry.runtime_data.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: PvMonitorConfigEntry) -> None:
    """Entry deleted: drop the repair issues it raised (their ids end with its id)."""
    registry = ir.async_get(hass)
    for domain, issue_id in list(registry.issues):
        if domain == DOMAIN and issue_id.endswith(entry.entry_id):
            ir.async_delete_issue(hass, DOMAIN, issue_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: PvMonitorConfigEntry, device: DeviceEntry
) -> bool:
    """Let the user delete a device when the entry's kind allows it (stale devices)."""
    remove = loaded_kind(entry).remove_device
    return remove is not None and remove(hass, entry, device)
