"""Shared helpers of the DSMR tests: real telegrams, a loopback P1 server (ser2net-like) and
the config entry (``make_entry``/``setup_entry``, wrapped by the ``mock_config_entry`` and
``init_integration`` fixtures of ``conftest.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.dsmr.coordinator import DsmrCoordinator

FIXTURES = Path(__file__).parents[1] / "fixtures" / "dsmr"

TELEGRAMS: dict[str, str] = {
    "v2_2": "2.2",
    "v3": "3",
    "v4_2": "4",
    "v5": "5",
    "v5_two_mbus": "5",
    "fluvius_v171": "5B",
    "iskra_ie": "ISKRA_IE",
}
"""Fixture name -> DSMR version key."""


def with_crc(text: bytes) -> bytes:
    """A DSMR 4+ telegram body (up to and with ``!``) with its CRC16 line appended."""
    from dsmr_parser.parsers import TelegramParser

    body = text[: text.index(b"!") + 1]
    return body + b"%04X\r\n" % TelegramParser.crc16(body.decode("ascii"))


def telegram(name: str) -> bytes:
    """The bytes of one real telegram."""
    return (FIXTURES / f"{name}.txt").read_bytes()


class P1Server:
    """A loopback TCP server that plays telegrams to every client, like ser2net."""

    def __init__(self, greeting: bytes = b"") -> None:
        self.greeting = greeting
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.connections = 0
        self.port = 0

    async def start(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        if self.greeting:
            writer.write(self.greeting)
            await writer.drain()

    async def send(self, data: bytes) -> None:
        """Write ``data`` to every open client; clients that went away are forgotten."""
        for writer in list(self.writers):
            if writer.transport.is_closing():
                self.writers.remove(writer)
                continue
            writer.write(data)
            try:
                await writer.drain()
            except ConnectionError:
                self.writers.remove(writer)

    def cut(self) -> None:
        """Close every client connection (the link is cut)."""
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    async def stop(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


def make_entry(
    port: int, version: str, unique_id: str = "meter", **options: Any
) -> MockConfigEntry:
    """A DSMR network entry reading 127.0.0.1:``port``."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Smart meter",
        unique_id=unique_id,
        data={
            "kind": "dsmr",
            "connection_type": "network",
            "host": "127.0.0.1",
            "port": port,
            "dsmr_version": version,
        },
        options={"power_interval": 5.0, "reconnect_interval": 30.0, **options},
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> DsmrCoordinator:
    """Add ``entry``, set it up (asserting it loaded) and return its coordinator."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    coordinator: DsmrCoordinator = entry.runtime_data
    return coordinator
