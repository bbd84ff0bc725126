"""Select entities of PV Monitor, by entry kind (EV surplus charging: see ``ev_entities.py``)."""

from __future__ import annotations

from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_KIND, EntryKind
from .ev_entities import async_setup_ev_select
from .runtime import PlatformSetup, PvMonitorConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PvMonitorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the select entities of the entry's kind."""
    await SETUP[entry.data[CONF_KIND]](hass, entry, async_add_entities)


SETUP: Final[dict[str, PlatformSetup]] = {
    EntryKind.EV_CHARGING: async_setup_ev_select,
}
"""Select set-up of each entry kind."""
