"""What every kind of config entry declares and provides (the registry of kinds).

A kind is one package (``growatt_local``, ``growatt_cloud``, ``dsmr``, ``pv_system``,
``ev_charging``) whose ``kind`` module declares a :class:`KindSpec`: the runtime factory, the
set-up of each platform it uses and the data keys its diagnostics redact. The kind's package
is imported only when an entry of that kind is set up (:func:`async_load_kind`), so an
install without a smart meter never imports dsmr-parser.

The spec is generic in the kind's runtime type: a platform set-up written for another
kind's config entry is a type error (``mypy --strict``), because ``ConfigEntry`` is
invariant in its runtime type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry, DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.importlib import async_import_module

from ..const import CONF_KIND, DOMAIN


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
"""A PV Monitor config entry of any kind; a kind's own code uses ``ConfigEntry[ItsRuntime]``."""

type PlatformSetup[RuntimeT] = Callable[
    [HomeAssistant, ConfigEntry[RuntimeT], AddConfigEntryEntitiesCallback], Awaitable[None]
]
"""A kind's set-up of one platform: ``(hass, entry, async_add_entities)``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KindSpec[RuntimeT: KindRuntime]:
    """How to run one kind of entry, declared once in the kind package's ``kind`` module."""

    factory: Callable[[HomeAssistant, ConfigEntry[RuntimeT]], RuntimeT]
    """Builds ``entry.runtime_data`` (not yet started)."""
    platforms: Mapping[Platform, PlatformSetup[RuntimeT]]
    """The platforms the kind uses, each with its set-up; only these are forwarded."""
    redact: frozenset[str] = field(default_factory=frozenset)
    """Keys of ``entry.data`` / ``entry.options`` that its diagnostics redact."""
    remove_device: Callable[[HomeAssistant, ConfigEntry[RuntimeT], DeviceEntry], bool] | None = None
    """Whether the user may delete ``device`` (HA's "Delete" on a device page); the kind
    forgets it when it returns True. ``None``: the kind's devices cannot be deleted."""


_LOADED: Final[dict[str, KindSpec[Any]]] = {}


async def async_load_kind(hass: HomeAssistant, entry: ConfigEntry[Any]) -> KindSpec[Any]:
    """Import the package of ``entry``'s kind (in the executor, once) and return its spec.

    Raises:
        KeyError: ``entry.data`` names no kind.
        ModuleNotFoundError: the kind is not one of this version's packages.
    """
    kind: str = entry.data[CONF_KIND]
    if (spec := _LOADED.get(kind)) is None:
        module = await async_import_module(hass, f"{__package__.rpartition('.')[0]}.{kind}.kind")
        spec = _LOADED[kind] = module.KIND
    return spec


def loaded_kind(entry: ConfigEntry[Any]) -> KindSpec[Any]:
    """The spec of ``entry``'s kind, which :func:`async_load_kind` has already imported."""
    return _LOADED[entry.data[CONF_KIND]]


def kind_platform_setup(platform: Platform) -> PlatformSetup[KindRuntime]:
    """The ``async_setup_entry`` of a platform module: run what the entry's kind declared."""

    async def async_setup_entry(
        hass: HomeAssistant,
        entry: PvMonitorConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        """Add the entities of ``platform`` that the entry's kind has."""
        await loaded_kind(entry).platforms[platform](hass, entry, async_add_entities)

    return async_setup_entry


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
