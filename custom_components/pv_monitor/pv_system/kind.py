"""PV system as the integration runs it (imported at set-up): model runtime, KPI sensors."""

from __future__ import annotations

from typing import Final

from homeassistant.const import Platform

from ..common.runtime import KindSpec
from .binary_sensor import async_setup_pv_system_binary_sensors
from .coordinator import PvSystemCoordinator
from .sensor import async_setup_pv_system_sensors

KIND: Final = KindSpec[PvSystemCoordinator](
    factory=PvSystemCoordinator,
    platforms={
        Platform.BINARY_SENSOR: async_setup_pv_system_binary_sensors,
        Platform.SENSOR: async_setup_pv_system_sensors,
    },
    redact=frozenset({"latitude", "longitude"}),
)
"""The PV system kind, as :mod:`..common.runtime` runs it."""
