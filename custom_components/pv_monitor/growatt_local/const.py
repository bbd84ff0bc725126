"""Constants of the Growatt local kind: listener mode, config and option keys, defaults.

:class:`GrowattLocalSettings` is what an entry's data and options say, typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Self

from homeassistant.const import CONF_HOST, CONF_PORT

from .protocol.server import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_DATALOGGERS,
    DEFAULT_MAX_INVERTERS,
    ListenerConfig,
    normalise_serials,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

    from .protocol.registers import InverterFamily


class ListenerMode(StrEnum):
    """How the local Growatt listener treats a datalogger."""

    SERVER = "server"
    """Answer the datalogger like the Growatt server does."""
    PROXY = "proxy"
    """Relay every frame to the Growatt server and back; ack locally while it is down."""


CONF_MODE: Final = "mode"
CONF_UPSTREAM_HOST: Final = "upstream_host"
CONF_UPSTREAM_PORT: Final = "upstream_port"
CONF_ALLOWED_DATALOGGERS: Final = "allowed_dataloggers"
"""Option: datalogger serials served; empty = any."""
CONF_ALLOW_REDIRECT: Final = "allow_redirect"
"""Option (proxy mode): let upstream commands re-point the datalogger (0x18 items 0x11-0x13)."""
CONF_MAX_CONNECTIONS: Final = "max_connections"
"""Option: datalogger connections the listener keeps open at once."""
CONF_ALLOW_COMMANDS: Final = "allow_commands"
"""Option (proxy mode): relay cloud commands beyond normal operation (register commands
0x05/0x06/0x10, reboot and other 0x18 items)."""
CONF_LOCAL_COMMANDS: Final = "local_commands"
"""Option (proxy mode): let Home Assistant send its own register commands (read/write
holding registers) to the inverters; server mode always may."""
CONF_MAX_DATALOGGERS: Final = "max_dataloggers"
"""Option: datalogger serials the entry serves (the allowed list's always pass)."""
CONF_MAX_INVERTERS: Final = "max_inverters"
"""Option: inverters per datalogger."""
CONF_INVERTER_FAMILIES: Final = "inverter_families"
"""Option: ``{inverter serial: family}`` overrides of the automatic family detection."""

OPTION_DEFAULTS: Final[Mapping[str, Any]] = MappingProxyType(
    {
        CONF_ALLOWED_DATALOGGERS: (),
        CONF_ALLOW_REDIRECT: False,
        CONF_MAX_CONNECTIONS: DEFAULT_MAX_CONNECTIONS,
        CONF_ALLOW_COMMANDS: False,
        CONF_LOCAL_COMMANDS: False,
        CONF_MAX_DATALOGGERS: DEFAULT_MAX_DATALOGGERS,
        CONF_MAX_INVERTERS: DEFAULT_MAX_INVERTERS,
        CONF_INVERTER_FAMILIES: MappingProxyType({}),
    }
)
"""Each option's value until the user saves the options form: what the coordinator runs
with and what the form offers (the limits' sources at :mod:`.protocol.server`)."""


def options_with_defaults(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with :data:`OPTION_DEFAULTS` for every option it does not set.

    ``options``: an entry's options, or the options form's input.
    """
    return {**OPTION_DEFAULTS, **options}


DEFAULT_HOST: Final = "0.0.0.0"
DEFAULT_PORT: Final = 5279
"""TCP port of the Growatt server that dataloggers connect to."""
DEFAULT_UPSTREAM_HOST: Final = "server.growatt.com"
DEFAULT_UPSTREAM_PORT: Final = 5279

DEFAULT_DATA_INTERVAL: Final = 300.0
"""Seconds between data records when the datalogger has not told us (ShineWiFi default 5 min)."""
STALE_INTERVALS: Final = 3
"""A datalogger is disconnected after this many missed data intervals."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GrowattLocalSettings:
    """What one Growatt local entry is set up with, read once from its data and options.

    The runtime works from this object only (a misspelt field is a ``mypy`` error); the
    flow owns the ``CONF_*`` keys it is stored under. Built by :meth:`from_entry`, which
    takes every option the entry does not set from :data:`OPTION_DEFAULTS`.
    """

    host: str
    """Address the listener binds (data ``host``; ``0.0.0.0``: every interface)."""
    port: int
    """TCP port the listener binds (data ``port``)."""
    mode: ListenerMode
    """Server or proxy (data ``mode``)."""
    upstream_host: str
    """Growatt server the proxy relays to (data ``upstream_host``)."""
    upstream_port: int
    """Its TCP port (data ``upstream_port``)."""
    allowed_dataloggers: frozenset[str]
    """Datalogger serials served, normalised; empty: any (option ``allowed_dataloggers``)."""
    allow_redirect: bool
    """Proxy: upstream commands may re-point the datalogger (option ``allow_redirect``)."""
    allow_commands: bool
    """Proxy: relay cloud commands beyond normal operation (option ``allow_commands``)."""
    local_commands: bool
    """Proxy: Home Assistant may send its own register commands (option
    ``local_commands``); server mode always may."""
    max_connections: int
    """Datalogger connections kept open at once (option ``max_connections``)."""
    max_dataloggers: int
    """Datalogger serials the entry serves (option ``max_dataloggers``)."""
    max_inverters: int
    """Inverters per datalogger (option ``max_inverters``)."""
    inverter_families: Mapping[str, InverterFamily]
    """Family forced per inverter serial, overriding detection (option
    ``inverter_families``)."""

    @property
    def proxy(self) -> bool:
        """Whether the listener relays to the Growatt server."""
        return self.mode is ListenerMode.PROXY

    def listener_config(self, now: Callable[[], datetime]) -> ListenerConfig:
        """The pure listener's configuration; ``now`` gives local wall-clock time."""
        return ListenerConfig(
            host=self.host,
            port=self.port,
            proxy=self.proxy,
            upstream_host=self.upstream_host,
            upstream_port=self.upstream_port,
            allowed_dataloggers=self.allowed_dataloggers,
            allow_redirect=self.allow_redirect,
            allow_commands=self.allow_commands,
            local_commands=self.local_commands,
            max_connections=self.max_connections,
            max_dataloggers=self.max_dataloggers,
            max_inverters=self.max_inverters,
            now=now,
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], options: Mapping[str, Any]) -> Self:
        """The settings of an entry's ``data`` and ``options`` (:func:`options_with_defaults`).

        Raises:
            KeyError: ``data`` lacks the host, port or mode.
            ValueError: an unknown mode or inverter family.
        """
        from .protocol.registers import InverterFamily  # noqa: PLC0415 (the flow needs none)

        chosen = options_with_defaults(options)
        return cls(
            host=data[CONF_HOST],
            port=int(data[CONF_PORT]),
            mode=ListenerMode(data[CONF_MODE]),
            upstream_host=data.get(CONF_UPSTREAM_HOST, DEFAULT_UPSTREAM_HOST),
            upstream_port=int(data.get(CONF_UPSTREAM_PORT, DEFAULT_UPSTREAM_PORT)),
            allowed_dataloggers=frozenset(normalise_serials(chosen[CONF_ALLOWED_DATALOGGERS])),
            allow_redirect=bool(chosen[CONF_ALLOW_REDIRECT]),
            allow_commands=bool(chosen[CONF_ALLOW_COMMANDS]),
            local_commands=bool(chosen[CONF_LOCAL_COMMANDS]),
            max_connections=int(chosen[CONF_MAX_CONNECTIONS]),
            max_dataloggers=int(chosen[CONF_MAX_DATALOGGERS]),
            max_inverters=int(chosen[CONF_MAX_INVERTERS]),
            inverter_families=MappingProxyType(
                {
                    serial: InverterFamily(family)
                    for serial, family in chosen[CONF_INVERTER_FAMILIES].items()
                }
            ),
        )

    @classmethod
    def from_entry(cls, entry: ConfigEntry[Any]) -> Self:
        """The settings of config entry ``entry`` (see :meth:`from_mapping`)."""
        return cls.from_mapping(entry.data, entry.options)
