"""The push coordinator: link cuts, reconnection, drops, staleness, serial port, consumers."""

from __future__ import annotations

from datetime import timedelta
import logging
import os
from unittest.mock import patch

from dsmr_parser.parsers import TelegramParser
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.diagnostics import async_get_config_entry_diagnostics
from custom_components.pv_monitor.dsmr.coordinator import DsmrCoordinator
from custom_components.pv_monitor.dsmr.p1.mapping import MeterReading
from tests.helpers import until

from .fixtures import P1Server, make_entry, setup_entry, telegram

V5 = telegram("v5")


def meter_states(hass: HomeAssistant) -> dict[str, str]:
    return {
        state.entity_id: state.state
        for state in hass.states.async_all()
        if state.entity_id.startswith(("sensor.", "binary_sensor."))
    }


async def test_link_cut_mid_telegram(
    hass: HomeAssistant, server: P1Server, caplog: pytest.LogCaptureFixture
) -> None:
    """Cut mid-telegram: partial dropped and counted, reconnected within the interval."""
    entry = make_entry(server.port, "5", reconnect_interval=10.0)
    coordinator = await setup_entry(hass, entry)
    assert coordinator.counters.telegrams == 1
    assert STATE_UNAVAILABLE not in meter_states(hass).values()

    await server.send(V5[: len(V5) // 2])
    await until(
        lambda: (
            coordinator._protocol is not None and bool(len(coordinator._protocol.telegram_buffer))
        )
    )
    server.cut()
    await until(lambda: not coordinator.connected)
    assert coordinator.counters.dropped["truncated"] == 1
    assert "Connection to 127.0.0.1" in caplog.text

    # The new connection starts with the tail of a telegram, then a whole one.
    server.greeting = V5[len(V5) // 2 :] + V5
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1.5))
    await until(lambda: coordinator.counters.telegrams == 2)
    await hass.async_block_till_done()
    assert coordinator.connected
    assert coordinator.reconnects == 1
    assert coordinator.counters.dropped["truncated"] == 2
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=3))  # status: 1/s
    await hass.async_block_till_done()
    states = meter_states(hass)
    assert STATE_UNAVAILABLE not in states.values()
    assert states["sensor.smart_meter_dropped_telegrams"] == "2"
    assert states["binary_sensor.smart_meter_connectivity"] == "on"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reconnect_backoff_capped(hass: HomeAssistant, server: P1Server) -> None:
    """While the server is down the retries back off, never beyond the reconnect interval."""
    entry = make_entry(server.port, "5", reconnect_interval=3.0)
    coordinator = await setup_entry(hass, entry)
    port = server.port
    await server.stop()
    await until(lambda: not coordinator.connected)
    for seconds in (1, 2, 3, 3):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds + 0.1))
        # The retry runs as a background task: wait until it failed and rescheduled.
        await hass.async_block_till_done(wait_background_tasks=True)
    assert coordinator.reconnects == 4
    assert not coordinator.connected
    await server.start(port)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=3.1))
    await until(lambda: coordinator.counters.telegrams == 2)
    assert coordinator.connected
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_crc_burst_logged_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    server: P1Server,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bad CRCs are dropped and counted; one warning per burst, an info when it ends."""
    coordinator: DsmrCoordinator = init_integration.runtime_data
    bad = V5.replace(b"!6EEE", b"!0000")
    assert bad != V5
    caplog.set_level(logging.INFO)
    for _ in range(3):
        await server.send(bad)
    await until(lambda: coordinator.counters.total_dropped == 3)
    assert coordinator.counters.dropped["crc"] == 3
    assert caplog.text.count("Dropped a telegram") == 1
    await server.send(V5)
    await until(lambda: coordinator.counters.telegrams == 2)
    assert "again (3 occurrences)" in caplog.text
    await server.send(b"/XYZ5\xff\r\n!1234\r\n")
    await until(lambda: coordinator.counters.total_dropped == 4)
    assert coordinator.counters.dropped["invalid"] == 1
    assert caplog.text.count("Dropped a telegram") == 2
    assert await hass.config_entries.async_unload(entry_of(hass).entry_id)


def entry_of(hass: HomeAssistant) -> MockConfigEntry:
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    return entry  # type: ignore[return-value]


async def test_stale_link_reopened(
    hass: HomeAssistant, init_integration: MockConfigEntry, server: P1Server
) -> None:
    """A silent link makes the sensors unavailable and is re-opened; data brings them back."""
    coordinator: DsmrCoordinator = init_integration.runtime_data
    assert coordinator.latest_net_power_w == 244.0
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=36))
    await hass.async_block_till_done()
    assert not coordinator.online
    assert coordinator.latest_net_power_w is None
    assert hass.states.get("sensor.smart_meter_net_grid_power").state == STATE_UNAVAILABLE
    await until(lambda: not coordinator.connected)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=38))
    await until(lambda: coordinator.counters.telegrams == 2)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.smart_meter_net_grid_power").state == "244.0"
    assert await hass.config_entries.async_unload(entry_of(hass).entry_id)


def variant(power: bytes, tariff_1: bytes) -> bytes:
    """The v5 telegram with another import power and tariff-1 counter, CRC recomputed."""
    text = V5.replace(b"1-0:1.7.0(00.244*kW)", b"1-0:1.7.0(" + power + b"*kW)")
    text = text.replace(b"1-0:1.8.1(000004.426*kWh)", b"1-0:1.8.1(" + tariff_1 + b"*kWh)")
    body = text[: text.index(b"!") + 1]
    return body + b"%04X\r\n" % TelegramParser.crc16(body.decode("ascii"))


async def test_consumers_get_every_telegram(
    hass: HomeAssistant, init_integration: MockConfigEntry, server: P1Server
) -> None:
    """Consumers see every telegram at once; power states wait for the interval."""
    coordinator: DsmrCoordinator = init_integration.runtime_data
    seen: list[MeterReading] = []
    unsubscribe = coordinator.async_subscribe(seen.append)
    await server.send(variant(b"01.244", b"000004.427"))
    await until(lambda: coordinator.counters.telegrams == 2)
    await hass.async_block_till_done()
    assert [reading.net_power_w for reading in seen] == [1244.0]
    assert coordinator.latest_net_power_w == 1244.0
    # States wait for their intervals (power 5 s, counters 60 s); consumers do not.
    assert hass.states.get("sensor.smart_meter_energy_import_tariff_1").state == "4.426"
    assert hass.states.get("sensor.smart_meter_net_grid_power").state == "244.0"
    unsubscribe()
    await server.send(V5.replace(b"!6EEE", b"!0000"))  # dropped: consumers see nothing
    await until(lambda: coordinator.counters.total_dropped == 1)
    assert len(seen) == 1
    assert len(coordinator.history) == 2
    assert await hass.config_entries.async_unload(entry_of(hass).entry_id)


async def test_every_telegram_option(hass: HomeAssistant, server: P1Server) -> None:
    """Power interval 0: every telegram writes the power states."""
    coordinator = await setup_entry(hass, make_entry(server.port, "5", power_interval=0.0))
    await server.send(variant(b"01.244", b"000004.427"))
    await until(lambda: coordinator.counters.telegrams == 2)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.smart_meter_net_grid_power").state == "1244.0"
    assert await hass.config_entries.async_unload(entry_of(hass).entry_id)


async def test_setup_cannot_connect(hass: HomeAssistant, free_port: int) -> None:
    """Nothing listening: set-up is retried later (ConfigEntryNotReady)."""
    entry = make_entry(free_port, "5")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_without_telegram(hass: HomeAssistant, server: P1Server) -> None:
    """A meter that is silent at start-up gets its entities with the first telegram."""
    server.greeting = b""
    with patch("custom_components.pv_monitor.dsmr.coordinator.FIRST_TELEGRAM_WAIT", 0.01):
        coordinator = await setup_entry(hass, make_entry(server.port, "5"))
    assert hass.states.get("sensor.smart_meter_net_grid_power") is None
    await server.send(V5)
    await until(lambda: coordinator.counters.telegrams == 1)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.smart_meter_net_grid_power").state == "244.0"
    assert await hass.config_entries.async_unload(entry_of(hass).entry_id)


async def test_diagnostics_redacted(hass: HomeAssistant, server: P1Server) -> None:
    """The last telegram is in the diagnostics, equipment identifiers redacted."""
    await setup_entry(hass, make_entry(server.port, "5"))
    entry = entry_of(hass)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    runtime = diagnostics["runtime"]
    assert "4B384547303034303436333935353037" not in str(diagnostics)
    assert "**REDACTED**" in runtime["last_telegram"]
    assert runtime["last_reading"]["values"]["net_power"] == 244.0
    assert runtime["telegrams"] == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_serial_port_through_pty(hass: HomeAssistant) -> None:
    """The serial path: a pseudo-terminal pair stands in for the P1 cable."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Smart meter",
        unique_id="serial",
        data={"kind": "dsmr", "connection_type": "serial", "path": path, "dsmr_version": "5"},
        options={"power_interval": 0.0, "reconnect_interval": 30.0},
    )
    try:
        with patch("custom_components.pv_monitor.dsmr.coordinator.FIRST_TELEGRAM_WAIT", 0.01):
            coordinator = await setup_entry(hass, entry)
        os.write(master, V5)
        await until(lambda: coordinator.counters.telegrams == 1)
        await hass.async_block_till_done()
        assert hass.states.get("sensor.smart_meter_net_grid_power").state == "244.0"
        assert hass.states.get("sensor.gas_meter_m_bus_1_gas").state == "0.107"
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        os.close(master)
        os.close(slave)
