"""Helpers of the Growatt local tests: the captured frames in tests/fixtures/growatt (sources
named in each file) and the config entry (``make_entry``/``setup_entry``, wrapped by the
``mock_config_entry``/``init_integration`` fixtures of ``conftest.py``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from functools import cache
import json
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.const import DOMAIN

FIXTURES = Path(__file__).parents[1] / "fixtures" / "growatt"

CLOCK = datetime(2020, 1, 27, 16, 57, 45)
"""Frozen datalogger clock: the GrowattMonitor capture's own clock-set frame carries it."""


@dataclass(frozen=True)
class Capture:
    """One captured frame: its file name, wire bytes and the publisher's metadata."""

    name: str
    raw: bytes
    kind: str
    meta: dict[str, Any]

    @property
    def function(self) -> int:
        return self.raw[7]

    @property
    def protocol(self) -> int:
        return int.from_bytes(self.raw[2:4], "big")


@cache
def captures(folder: str = "frames") -> tuple[Capture, ...]:
    """Every capture in ``fixtures/growatt/<folder>``, sorted by name."""
    out = []
    for path in sorted((FIXTURES / folder).glob("*.json")):
        data = json.loads(path.read_text())
        out.append(
            Capture(
                name=data["name"],
                raw=bytes.fromhex(data["hex"]),
                kind=data.get("kind", "frame"),
                meta=data,
            )
        )
    return tuple(out)


def capture(name: str) -> Capture:
    """The capture called ``name``."""
    for cap in captures():
        if cap.name == name:
            return cap
    raise KeyError(name)


def frames() -> tuple[Capture, ...]:
    """Captures holding a whole wire frame (not only a payload)."""
    return tuple(c for c in captures() if c.kind == "frame")


def register_lifetime_energy_sensor(hass: HomeAssistant, entry: ConfigEntry, serial: str) -> None:
    """Register inverter ``serial``'s lifetime energy sensor as a previous run left it.

    Its entity id is ``sensor.inverter_<serial>_lifetime_energy``; ``entry`` must be added.
    """
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, serial)}
    )
    er.async_get(hass).async_get_or_create(
        "sensor",
        DOMAIN,
        f"{serial}_energy_total",
        suggested_object_id=f"inverter_{serial.lower()}_lifetime_energy",
        config_entry=entry,
        device_id=device.id,
    )


def make_entry(port: int, **options: object) -> MockConfigEntry:
    """A server-mode Growatt local entry listening on 127.0.0.1:``port`` (not yet added)."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id="01JPVMONITORTESTENTRY00000",
        title="Growatt datalogger",
        unique_id=f"growatt_local_{port}",
        data={
            "kind": "growatt_local",
            "host": "127.0.0.1",
            "port": port,
            "mode": "server",
            "upstream_host": "server.growatt.com",
            "upstream_port": 5279,
        },
        options={
            "allowed_dataloggers": [],
            "allow_redirect": False,
            "inverter_families": {},
            **options,
        },
    )


def freeze_datalogger_clock(entry: MockConfigEntry) -> None:
    """Make the listener set dataloggers' clocks to :data:`CLOCK`."""
    listener = entry.runtime_data.listener
    listener.config = dataclasses.replace(listener.config, now=lambda: CLOCK)


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add ``entry``, set it up (asserting success) and freeze the datalogger clock."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    freeze_datalogger_clock(entry)
