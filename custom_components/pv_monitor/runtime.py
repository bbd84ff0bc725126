"""What every kind of config entry provides to the integration's set-up and platforms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback


class KindRuntime(Protocol):
    """The runtime of one config entry (``entry.runtime_data``), whatever its kind.

    Set-up builds it, forwards the kind's platforms (which add entities from it), then
    calls :meth:`async_start`; unload calls :meth:`async_stop` after the platforms.
    """

    async def async_start(self) -> None:
        """Start receiving (bind, connect, first refresh).

        Raises:
            ConfigEntryNotReady: the source is not reachable yet; set-up is retried.
        """

    async def async_stop(self) -> None:
        """Release every socket, task and timer."""

    def diagnostics(self) -> dict[str, Any]:
        """Plain data for the diagnostics download (redacted by the caller)."""


type PvMonitorConfigEntry = ConfigEntry[KindRuntime]
"""A PV Monitor config entry; platforms cast ``runtime_data`` to their kind's runtime."""

type PlatformSetup = Callable[[HomeAssistant, Any, AddConfigEntryEntitiesCallback], Awaitable[None]]
"""A kind's set-up of one platform: ``(hass, entry, async_add_entities)``; each platform
module keeps a ``SETUP`` table of them by kind."""
