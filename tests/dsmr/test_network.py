"""Every real telegram through the real network path into entity states."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.pv_monitor.dsmr.coordinator import DsmrCoordinator
from tests.helpers import only_platforms

from .fixtures import TELEGRAMS, P1Server, make_entry, telegram


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[P1Server]:
    p1 = P1Server()
    await p1.start()
    yield p1
    await p1.stop()


@pytest.mark.parametrize("name", list(TELEGRAMS))
async def test_telegram_states(
    hass: HomeAssistant,
    server: P1Server,
    name: str,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    entity_registry_enabled_by_default: None,
) -> None:
    """A loopback server plays the telegram; every sensor state is snapshot-tested."""
    server.greeting = telegram(name)
    entry = make_entry(server.port, TELEGRAMS[name], unique_id=name)
    entry.add_to_hass(hass)
    with only_platforms("dsmr", Platform.SENSOR):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        coordinator: DsmrCoordinator = entry.runtime_data
        assert coordinator.counters.telegrams == 1
        assert coordinator.counters.total_dropped == 0
        await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
        devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
        assert sorted(
            (
                d.name,
                d.manufacturer or "",
                d.model,
                d.serial_number,
                d.sw_version or "",
                d.via_device_id is not None,
            )
            for d in devices
        ) == snapshot(name="devices")
        assert await hass.config_entries.async_unload(entry.entry_id)
