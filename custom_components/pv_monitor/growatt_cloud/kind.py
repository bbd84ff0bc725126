"""Growatt cloud as the integration runs it (imported at set-up): poller and its sensors."""

from __future__ import annotations

from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from ..common.runtime import KindSpec
from .coordinator import GrowattCloudCoordinator
from .sensor import async_setup_growatt_cloud


def _remove_device(
    hass: HomeAssistant, entry: ConfigEntry[GrowattCloudCoordinator], device: DeviceEntry
) -> bool:
    """A device may be deleted once it is no longer in its plant (stale devices)."""
    return entry.runtime_data.async_remove_device(device)


KIND: Final = KindSpec[GrowattCloudCoordinator](
    factory=GrowattCloudCoordinator,
    platforms={Platform.SENSOR: async_setup_growatt_cloud},
    redact=frozenset({"username", "password", "password_hash", "token"}),
    remove_device=_remove_device,
)
"""The Growatt cloud kind, as :mod:`..common.runtime` runs it."""
