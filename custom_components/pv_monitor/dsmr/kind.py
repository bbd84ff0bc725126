"""The dsmr kind as the integration runs it: its :class:`~..common.runtime.KindSpec`.

Imported only when an entry of this kind is set up (``common.runtime.async_load_kind``),
so importing the package (e.g. its flow, which Home Assistant preloads) stays light.
"""

from __future__ import annotations

from typing import Final

from homeassistant.const import Platform

from ..common.runtime import KindSpec
from .binary_sensor import async_setup_dsmr_binary_sensors
from .coordinator import DsmrCoordinator
from .sensor import async_setup_dsmr_sensors

KIND: Final = KindSpec[DsmrCoordinator](
    factory=DsmrCoordinator,
    platforms={
        Platform.BINARY_SENSOR: async_setup_dsmr_binary_sensors,
        Platform.SENSOR: async_setup_dsmr_sensors,
    },
    redact=frozenset({"encryption_key", "authentication_key"}),
)
"""The DSMR kind, as :mod:`..common.runtime` runs it."""
