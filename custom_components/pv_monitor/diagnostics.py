"""Diagnostics download of a PV Monitor entry, serials partly redacted."""

from __future__ import annotations

import re
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .common.runtime import PvMonitorConfigEntry, loaded_kind

_SERIAL = re.compile(r"^[A-Z0-9]{8,30}$")

_PRIVATE_CONFIG_ITEMS = frozenset({"0x0e", "0x10", "0x11", "0x13"})
"""Datalogger config items with its LAN address, MAC and server address (items 0x0e,
0x10, 0x11, 0x13): replaced by ``**REDACTED**``."""


def redact_serial(serial: str) -> str:
    """Keep the first three characters of a serial (the model prefix), mask the rest."""
    return serial[:3] + "*" * (len(serial) - 3)


def _redact(value: Any) -> Any:
    """Redact every serial-looking string, key or value, recursively."""
    if isinstance(value, dict):
        return {
            _redact(k): "**REDACTED**" if k in _PRIVATE_CONFIG_ITEMS else _redact(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set)):
        return [_redact(v) for v in value]
    if isinstance(value, str) and _SERIAL.match(value) and any(c.isdigit() for c in value):
        return redact_serial(value)
    return value


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PvMonitorConfigEntry
) -> dict[str, Any]:
    """Entry data and options, and the runtime's own snapshot, secrets and serials redacted.

    The keys to redact are the ones the entry's kind declares (``KindSpec.redact``).
    """
    secrets = loaded_kind(entry).redact
    return {
        "entry": {
            "data": _redact(async_redact_data(dict(entry.data), secrets)),
            "options": _redact(async_redact_data(dict(entry.options), secrets)),
        },
        "runtime": _redact(entry.runtime_data.diagnostics()),
    }
