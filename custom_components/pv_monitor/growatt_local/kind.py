"""The growatt_local kind as the integration runs it: its :class:`~..common.runtime.KindSpec`.

Imported only when an entry of this kind is set up (``common.runtime.async_load_kind``),
so importing the package (e.g. its flow, which Home Assistant preloads) stays light.
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
