"""Growatt datalogger (local) kind: Home Assistant answers or relays the datalogger.

- :mod:`.protocol`: pure core (framing, records, register maps, listener, backfill).
- :mod:`.coordinator`: runs the listener, merges decoded readings, wakes entities.
- :mod:`.sensor`, :mod:`.binary_sensor`, :mod:`.entity`: the entities.
- :mod:`.flow`: config, options and reconfigure steps; :mod:`.statistics`: backfill import.
"""

from __future__ import annotations

from typing import Final

from homeassistant.const import Platform

from ..common.runtime import KindSpec
from .binary_sensor import async_setup_growatt_local as async_setup_binary_sensors
from .coordinator import GrowattLocalCoordinator
from .sensor import async_setup_growatt_local as async_setup_sensors

KIND: Final = KindSpec[GrowattLocalCoordinator](
    factory=GrowattLocalCoordinator,
    platforms={
        Platform.BINARY_SENSOR: async_setup_binary_sensors,
        Platform.SENSOR: async_setup_sensors,
    },
    remove_device=lambda _hass, entry, device: entry.runtime_data.guard.remove_device(device),
)
"""The Growatt local kind, as :mod:`..common.runtime` runs it."""
