"""Growatt cloud kind: polls the ShinePhone API or OpenAPI V1 for one plant.

- :mod:`.api`: pure aiohttp client (models, errors, request budget).
- :mod:`.coordinator`, :mod:`.sensor`, :mod:`.statistics` (history import), :mod:`.flow`.
"""

from __future__ import annotations

from typing import Final

from homeassistant.const import Platform

from ..common.runtime import KindSpec
from .coordinator import GrowattCloudCoordinator
from .sensor import async_setup_growatt_cloud

KIND: Final = KindSpec[GrowattCloudCoordinator](
    factory=GrowattCloudCoordinator,
    platforms={Platform.SENSOR: async_setup_growatt_cloud},
    redact=frozenset({"username", "password", "password_hash", "token"}),
)
"""The Growatt cloud kind, as :mod:`..common.runtime` runs it."""
