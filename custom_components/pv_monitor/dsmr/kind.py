"""DSMR as the integration runs it (imported at set-up): P1 reader runtime and meter sensors."""

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
