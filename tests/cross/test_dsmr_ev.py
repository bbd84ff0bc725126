"""End to end: a DSMR P1 meter entry steering an EV surplus charging entry in one hass.

The meter is dsmr-parser's own DSMR 2.2 test telegram (``tests/fixtures/dsmr/v2_2.txt``,
an Iskra MT382: 10 W resolution, one telegram every 10 s) with its power lines set to a
steady 2 kW export, played by a loopback P1 server (ser2net-like). The EV entry's grid
sensor is the meter's net grid power sensor, so the controller gets every telegram through
the typed in-process subscription; the sensor's own state is written at most every 30 s.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.pv_monitor.dsmr.coordinator import DsmrCoordinator
from custom_components.pv_monitor.ev_charging.coordinator import EvChargingCoordinator
from tests.dsmr.fixtures import P1Server, make_entry as make_dsmr_entry, telegram
from tests.ev_charging.test_charging import (
    CHARGER,
    STATUS,
    make_entry as make_ev_entry,
    setup_charger,
    state,
)
from tests.helpers import until

NET_POWER = "sensor.smart_meter_net_grid_power"
STEADY_EXPORT = (
    telegram("v2_2")
    .replace(b"1-0:1.7.0(0001.01*kW)", b"1-0:1.7.0(0000.00*kW)")
    .replace(b"1-0:2.7.0(0000.00*kW)", b"1-0:2.7.0(0002.00*kW)")
)
"""DSMR 2.2 has no CRC: the edited telegram stays valid."""
PERIOD = 10.0
"""Seconds between DSMR 2.2 telegrams."""
STALE_TIMEOUT = 60.0
"""The EV entry's stale timeout (its default)."""


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[P1Server]:
    p1 = P1Server(greeting=STEADY_EXPORT)
    await p1.start()
    yield p1
    await p1.stop()


async def step(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    seconds: float,
    meter: DsmrCoordinator,
    server: P1Server | None,
) -> None:
    """Let ``seconds`` pass; the meter sends its telegram unless ``server`` is None."""
    freezer.tick(timedelta(seconds=seconds))
    if server is not None:
        before = meter.counters.telegrams
        await server.send(STEADY_EXPORT)
        await until(lambda: meter.counters.telegrams == before + 1)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_steady_meter_keeps_charging_then_stale_stops(
    hass: HomeAssistant, server: P1Server, freezer: FrozenDateTimeFactory
) -> None:
    """Charging starts, runs 30 simulated minutes without a stale stop, stops when cut."""
    await setup_charger(hass)
    dsmr_entry = make_dsmr_entry(server.port, "2.2", power_interval=30.0)
    dsmr_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(dsmr_entry.entry_id)
    await hass.async_block_till_done()
    meter: DsmrCoordinator = dsmr_entry.runtime_data
    assert hass.states.get(NET_POWER).state == "-2000.0"

    ev_entry = make_ev_entry(grid_power=NET_POWER)
    ev_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(ev_entry.entry_id)
    await hass.async_block_till_done()
    ev: EvChargingCoordinator = ev_entry.runtime_data
    assert ev.diagnostics()["grid_source"] == "subscription"

    # Start delay 60 s: charging starts within the first minute and a half.
    for _ in range(9):
        await step(hass, freezer, PERIOD, meter, server)
    assert state(hass, CHARGER) == STATE_ON
    statuses: set[str] = set()
    for _ in range(int(30 * 60 / PERIOD)):
        await step(hass, freezer, PERIOD, meter, server)
        statuses.add(state(hass, STATUS))
        assert state(hass, CHARGER) == STATE_ON
    assert "stale_data" not in statuses
    assert ev.source_readings >= 30 * 6
    # The sensor's value never changed: HA saw it alive through unchanged rewrites.
    net_power = hass.states.get(NET_POWER)
    assert net_power.state == "-2000.0"
    assert (net_power.last_reported - net_power.last_changed) >= timedelta(minutes=30)

    # The stream is cut (the reconnected link stays silent): stopped within the timeout.
    server.cut()
    server.greeting = b""
    waited = 0.0
    while state(hass, CHARGER) == STATE_ON:
        await step(hass, freezer, 5.0, meter, None)
        waited += 5.0
        assert waited <= STALE_TIMEOUT
    assert state(hass, CHARGER) == STATE_OFF
    assert state(hass, STATUS) == "stale_data"
    assert await hass.config_entries.async_unload(ev_entry.entry_id)
    assert await hass.config_entries.async_unload(dsmr_entry.entry_id)
