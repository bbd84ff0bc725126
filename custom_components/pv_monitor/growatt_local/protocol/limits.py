"""The listener's per-entry limits and the datalogger serial-list rule; pure Python.

What the config flow needs of the listener, apart from the listener itself: Home Assistant
imports every config flow at start-up, and the listener (:mod:`.server` with its framing,
records, commands and proxy) is imported only when a Growatt local entry is set up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

DEFAULT_MAX_CONNECTIONS: Final = 64
"""Open connections allowed at once (option); a home has one or a few dataloggers."""
DEFAULT_MAX_DATALOGGERS: Final = 8
"""Datalogger serials one entry serves (option); serials on the allow-list always pass."""
DEFAULT_MAX_INVERTERS: Final = 8
"""Inverters per datalogger (option); a ShineWiFi carries one, a ShineLAN/ShineLink a few
on its RS-485 bus."""


def normalise_serials(serials: Iterable[str]) -> list[str]:
    """Strip and uppercase datalogger serials, dropping empty and repeated ones.

    The one rule for a serial list, used by the config flow (which stores the list) and by
    :class:`.server.ListenerConfig` (``frozenset`` of it). Order kept: first occurrence wins.
    """
    return list(dict.fromkeys(serial.strip().upper() for serial in serials if serial.strip()))
