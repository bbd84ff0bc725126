"""A P1 link: where and how it is read, and what it dropped.

No dsmr-parser import: the config flow and the entities import this; dsmr-parser is loaded
only to read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ConnectionType(StrEnum):
    """How the P1 port is reached."""

    SERIAL = "serial"
    NETWORK = "network"


@dataclass(frozen=True, slots=True)
class P1Settings:
    """Where and how to read: serial ``path`` or network ``host``/``port``, DSMR version."""

    connection: ConnectionType
    dsmr_version: str
    path: str | None = None
    host: str | None = None
    port: int | None = None
    encryption_key: str = ""
    authentication_key: str = ""

    @property
    def label(self) -> str:
        """``host:port`` or the serial path, for logs."""
        if self.connection is ConnectionType.NETWORK:
            return f"{self.host}:{self.port}"
        return str(self.path)


class DropReason(StrEnum):
    """Why a telegram was dropped."""

    CRC = "crc"
    """CRC16 in the telegram's last line does not match its content."""
    TRUNCATED = "truncated"
    """Start or end missing: the link was cut or (re)connected mid-telegram."""
    INVALID = "invalid"
    """Not a telegram of the configured specification (or not decryptable)."""
    OVERFLOW = "overflow"
    """A telegram start followed by more than the longest telegram + 8 KiB without an end."""
    ENCRYPTED = "encrypted"
    """A DLMS general-global-cipher frame read with a plain (unencrypted) DSMR version."""


@dataclass(slots=True)
class DropCounters:
    """Telegrams received and dropped, by reason, since the runtime started."""

    telegrams: int = 0
    dropped: dict[DropReason, int] = field(default_factory=lambda: dict.fromkeys(DropReason, 0))
    trailing_bytes: int = 0
    """Bytes after complete telegrams (gateway lines), ignored."""

    @property
    def total_dropped(self) -> int:
        """All dropped telegrams."""
        return sum(self.dropped.values())
