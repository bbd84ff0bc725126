"""Growatt local as the integration runs it (imported at set-up): listener runtime, sensors."""

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
