"""What every kind of config entry provides to the integration's set-up and platforms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN


class KindRuntime(Protocol):
    """The runtime of one config entry (``entry.runtime_data``), whatever its kind.

    Set-up builds it, awaits :meth:`async_setup`, forwards the kind's platforms (which add
    entities from it) and awaits :meth:`async_start`; unload removes the platforms and
    awaits :meth:`async_stop`. A failure in either start step stops the runtime again.
    """

    async def async_setup(self) -> None:
        """Acquire what the entry needs before entities exist (bind, first refresh).

        Raises:
            ConfigEntryNotReady: the source is not reachable yet; set-up is retried.
            ConfigEntryAuthFailed: credentials were refused; reauthentication starts.
        """

    async def async_start(self) -> None:
        """Begin delivering data, once the platforms have added their entities."""

    async def async_stop(self) -> None:
        """Release every socket, task and timer."""

    def diagnostics(self) -> dict[str, Any]:
        """Plain data for the diagnostics download (redacted by the caller)."""


type PvMonitorConfigEntry = ConfigEntry[KindRuntime]
"""A PV Monitor config entry; platforms cast ``runtime_data`` to their kind's runtime."""

type PlatformSetup = Callable[[HomeAssistant, Any, AddConfigEntryEntitiesCallback], Awaitable[None]]
"""A kind's set-up of one platform: ``(hass, entry, async_add_entities)``; each platform
module keeps a ``SETUP`` table of them by kind."""


def service_device_info(entry: ConfigEntry, model: str) -> DeviceInfo:
    """The entry's own service device (identifier: the entry id), named as the entry.

    It carries what belongs to the entry rather than to a physical device: the listener's
    counters, the EV controller, the PV system model.
    """
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        manufacturer="PV Monitor",
        name=entry.title,
        model=model,
        entry_type=DeviceEntryType.SERVICE,
    )
