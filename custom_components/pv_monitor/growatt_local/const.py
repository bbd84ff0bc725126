"""Constants of the Growatt local kind: listener mode, config and option keys, defaults.

:class:`GrowattLocalSettings` is what an entry's data and options say, typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Self

from homeassistant.const import CONF_HOST, CONF_PORT

from .protocol.limits import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_DATALOGGERS,
    DEFAULT_MAX_INVERTERS,
    normalise_serials,
)

if TYPE_CHECKING:
    from .protocol.registers import InverterFamily
    from .protocol.server import ListenerConfig


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
with and what the form offers (the limits' sources at :mod:`.protocol.limits`)."""


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
    flow owns the ``CONF_*`` keys it is stored under. Built by :meth:`from_mapping`, which
    takes every option the entry does not set from :data:`OPTION_DEFAULTS`.
    """

    listener: ListenerConfig
    """The pure listener's configuration: listen address and port (data ``host``,
    ``port``), proxy or server (data ``mode``), upstream server (data ``upstream_host``,
    ``upstream_port``), allowed dataloggers (normalised), command policy and device limits
    (the options of the same names). Its ``now`` is the default clock; the runtime sets
    Home Assistant's."""
    inverter_families: Mapping[str, InverterFamily]
    """Family forced per inverter serial, overriding detection (option
    ``inverter_families``)."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], options: Mapping[str, Any]) -> Self:
        """The settings of an entry's ``data`` and ``options`` (:func:`options_with_defaults`).

        Raises:
            KeyError: ``data`` lacks the host, port or mode.
            ValueError: an unknown inverter family.
        """
        # Imported here: the config flow imports this module and needs neither.
        from .protocol.registers import InverterFamily  # noqa: PLC0415
        from .protocol.server import ListenerConfig  # noqa: PLC0415

        chosen = options_with_defaults(options)
        listener = ListenerConfig(
            host=data[CONF_HOST],
            port=int(data[CONF_PORT]),
            proxy=data[CONF_MODE] == ListenerMode.PROXY,
            upstream_host=data.get(CONF_UPSTREAM_HOST, DEFAULT_UPSTREAM_HOST),
            upstream_port=int(data.get(CONF_UPSTREAM_PORT, DEFAULT_UPSTREAM_PORT)),
            allowed_dataloggers=frozenset(normalise_serials(chosen[CONF_ALLOWED_DATALOGGERS])),
            allow_redirect=bool(chosen[CONF_ALLOW_REDIRECT]),
            allow_commands=bool(chosen[CONF_ALLOW_COMMANDS]),
            local_commands=bool(chosen[CONF_LOCAL_COMMANDS]),
            max_connections=int(chosen[CONF_MAX_CONNECTIONS]),
            max_dataloggers=int(chosen[CONF_MAX_DATALOGGERS]),
            max_inverters=int(chosen[CONF_MAX_INVERTERS]),
        )
        families = chosen[CONF_INVERTER_FAMILIES]
        return cls(
            listener=listener,
            inverter_families=MappingProxyType(
                {serial: InverterFamily(family) for serial, family in families.items()}
            ),
        )
