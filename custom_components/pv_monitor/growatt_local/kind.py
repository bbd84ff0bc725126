"""Growatt local as the integration runs it (imported at set-up): listener, entities.

Sensors and binary sensors of the records; number, select and switch entities of the
inverters' control registers.
"""

from __future__ import annotations

from typing import Final

from homeassistant.const import Platform

from ..common.runtime import KindSpec
from .binary_sensor import async_setup_growatt_local as async_setup_binary_sensors
from .coordinator import GrowattLocalCoordinator
from .number import async_setup_growatt_local as async_setup_numbers
from .select import async_setup_growatt_local as async_setup_selects
from .sensor import async_setup_growatt_local as async_setup_sensors
from .switch import async_setup_growatt_local as async_setup_switches

KIND: Final = KindSpec[GrowattLocalCoordinator](
    factory=GrowattLocalCoordinator,
    platforms={
        Platform.BINARY_SENSOR: async_setup_binary_sensors,
        Platform.SENSOR: async_setup_sensors,
        Platform.NUMBER: async_setup_numbers,
        Platform.SELECT: async_setup_selects,
        Platform.SWITCH: async_setup_switches,
    },
    remove_device=lambda _hass, entry, device: entry.runtime_data.guard.remove_device(device),
)
"""The Growatt local kind, as :mod:`..common.runtime` runs it."""
