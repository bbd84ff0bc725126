"""Diagnostics download of a PV Monitor entry: secrets of its kind and serials redacted."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .common.redact import redact_serials
from .common.runtime import PvMonitorConfigEntry, loaded_kind

PRIVATE_CONFIG_ITEMS: Final = frozenset({"0x0e", "0x10", "0x11", "0x13"})
"""Growatt datalogger config items with its LAN address, MAC and server address (items
0x0e, 0x10, 0x11, 0x13): replaced by ``**REDACTED**``."""


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PvMonitorConfigEntry
) -> dict[str, Any]:
    """Entry data and options, and the runtime's own snapshot, secrets and serials redacted.

    The keys to redact are the ones the entry's kind declares (``KindSpec.redact``).
    """
    secrets = loaded_kind(entry).redact
    return {
        "entry": {
            "data": redact_serials(async_redact_data(dict(entry.data), secrets)),
            "options": redact_serials(async_redact_data(dict(entry.options), secrets)),
        },
        "runtime": redact_serials(entry.runtime_data.diagnostics(), PRIVATE_CONFIG_ITEMS),
    }
