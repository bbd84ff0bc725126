"""PV Monitor: your own solar data in Home Assistant, without a vendor cloud.

Every config entry is one *kind* of source (``entry.data["kind"]``). Set-up looks up the
kind in :data:`KINDS`, builds its runtime (``entry.runtime_data``), forwards only that
kind's platforms, then starts the runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import CONF_KIND, DOMAIN, EntryKind
from .coordinator import GrowattLocalCoordinator
from .dsmr_coordinator import DsmrCoordinator
from .ev_coordinator import EvChargingCoordinator
from .growatt_cloud_coordinator import GrowattCloudCoordinator
from .pv_system_coordinator import PvSystemCoordinator
from .runtime import KindRuntime, PvMonitorConfigEntry

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Kind:
    """How to run one kind of entry: its platforms and its runtime factory."""

    platforms: tuple[Platform, ...]
    factory: Callable[[HomeAssistant, Any], KindRuntime]


KINDS: dict[str, Kind] = {
    EntryKind.EV_CHARGING: Kind(
        platforms=(Platform.NUMBER, Platform.SELECT, Platform.SENSOR, Platform.SWITCH),
        factory=EvChargingCoordinator,
    ),
    EntryKind.GROWATT_LOCAL: Kind(
        platforms=(Platform.BINARY_SENSOR, Platform.SENSOR),
        factory=GrowattLocalCoordinator,
    ),
    EntryKind.GROWATT_CLOUD: Kind(platforms=(Platform.SENSOR,), factory=GrowattCloudCoordinator),
    EntryKind.DSMR: Kind(
        platforms=(Platform.BINARY_SENSOR, Platform.SENSOR), factory=DsmrCoordinator
    ),
    EntryKind.PV_SYSTEM: Kind(
        platforms=(Platform.BINARY_SENSOR, Platform.SENSOR), factory=PvSystemCoordinator
    ),
}
"""Every kind of entry this version can run, by ``entry.data["kind"]``."""


def _kind(entry: ConfigEntry[Any]) -> Kind:
    return KINDS[entry.data[CONF_KIND]]


async def async_setup_entry(hass: HomeAssistant, entry: PvMonitorConfigEntry) -> bool:
    """Set up a config entry of any kind."""
    kind = _kind(entry)
    runtime = kind.factory(hass, entry)
    entry.runtime_data = runtime
    try:
        await runtime.async_setup()
        await hass.config_entries.async_forward_entry_setups(entry, kind.platforms)
        await runtime.async_start()
    except Exception:
        await hass.config_entries.async_unload_platforms(entry, kind.platforms)
        await runtime.async_stop()
        raise
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    return True


async def _async_options_updated(hass: HomeAssistant, entry: PvMonitorConfigEntry) -> None:
    """Options changed: restart the entry with them."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: PvMonitorConfigEntry) -> bool:
    """Unload: remove entities, then stop the runtime (sockets, connections, timers)."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, _kind(entry).platforms)
    if unloaded:
        await entry.runtime_data.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: PvMonitorConfigEntry) -> None:
    """Entry deleted: drop the repair issues it raised (their ids end with its id)."""
    registry = ir.async_get(hass)
    for domain, issue_id in list(registry.issues):
        if domain == DOMAIN and issue_id.endswith(entry.entry_id):
            ir.async_delete_issue(hass, DOMAIN, issue_id)
