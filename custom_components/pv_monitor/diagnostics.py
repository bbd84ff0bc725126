"""Diagnostics download of a PV Monitor entry: secrets, hosts, locations and serials redacted."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.core import HomeAssistant

from .common.redact import redact_private
from .common.runtime import PvMonitorConfigEntry, loaded_kind
from .common.statistics import async_runtime_spikes

PRIVATE_CONFIG_ITEMS: Final = frozenset({"0x0e", "0x10", "0x11", "0x13"})
"""Growatt datalogger config items with its LAN address, MAC and server address (items
0x0e, 0x10, 0x11, 0x13): replaced by ``**REDACTED**``."""


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PvMonitorConfigEntry
) -> dict[str, Any]:
    """Entry data and options, and the runtime's own snapshot, everything private redacted.

    Private keys are :data:`.common.redact.PRIVATE_KEYS` (any letter case), the keys the
    entry's kind declares (``KindSpec.redact``) and the datalogger's address config items;
    every value found under them (in the entry or the runtime) is also removed from all other
    text of the download, and serial-looking strings keep only their model prefix. With the
    recorder loaded, ``statistics_spikes`` lists the hours of each energy counter whose
    long-term statistics moved further than its power limit allows
    (:func:`.common.statistics.async_statistics_spikes`).
    """
    private = loaded_kind(entry).redact | PRIVATE_CONFIG_ITEMS
    download = {
        "entry": {"data": dict(entry.data), "options": dict(entry.options)},
        "runtime": entry.runtime_data.diagnostics(),
    }
    if spikes := await async_runtime_spikes(hass, entry.runtime_data):
        download["statistics_spikes"] = spikes
    redacted: dict[str, Any] = redact_private(download, private)
    return redacted
