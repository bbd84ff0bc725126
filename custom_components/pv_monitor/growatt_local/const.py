"""Constants of the Growatt local kind: listener mode, config and option keys, defaults."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from .protocol.limits import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_DATALOGGERS, DEFAULT_MAX_INVERTERS


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
