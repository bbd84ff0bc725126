"""Unchanged rewrites keep a meter sensor alive for consumers without recorder rows.

Home Assistant's code this relies on (2026.2.3): ``StateMachine.async_set_internal`` in
``homeassistant/core.py`` fires ``EVENT_STATE_REPORTED`` instead of ``EVENT_STATE_CHANGED``
when state and attributes are unchanged; ``EVENT_STATE_REPORTED`` is in
``EVENTS_EXCLUDED_FROM_MATCH_ALL``, so the recorder's ``MATCH_ALL`` listener
(``components/recorder/core.py``) never queues it; ``Recorder._process_one_event`` writes a
``states`` row only for ``EVENT_STATE_CHANGED``, and
``_process_state_changed_event_into_session`` updates the previous row's
``last_reported_ts`` when the next change is recorded (no new row).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Mapping
from datetime import timedelta
from functools import partial
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import state_changes_during_period
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.const import EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from custom_components.pv_monitor.dsmr.coordinator import DsmrCoordinator
from custom_components.pv_monitor.dsmr.p1.publish import REWRITE_INTERVAL
from tests.helpers import until

from .fixtures import P1Server, make_entry, telegram, with_crc

NET_POWER = "sensor.smart_meter_net_grid_power"
TARIFF_1 = "sensor.smart_meter_energy_import_tariff_1"
V5 = telegram("v5")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> Generator[None]:
    """The recorder first (before ``hass``), then the custom integrations."""
    yield  # noqa: PT022


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[P1Server]:
    p1 = P1Server(greeting=V5)
    await p1.start()
    yield p1
    await p1.stop()


async def test_unchanged_rewrites_store_no_rows(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    server: P1Server,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A steady meter for 3 minutes: the net power is reported alive every 20 s, one row;
    then a change: a second row."""
    start = dt_util.utcnow() - timedelta(seconds=1)
    entry = make_entry(server.port, "5", power_interval=30.0)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: DsmrCoordinator = entry.runtime_data
    reports: list[Event] = []

    @callback
    def is_net_power(event_data: Mapping[str, Any]) -> bool:
        return bool(event_data["entity_id"] == NET_POWER)

    hass.bus.async_listen(EVENT_STATE_REPORTED, reports.append, event_filter=is_net_power)
    for _ in range(180 // 5):
        freezer.tick(timedelta(seconds=5))
        before = coordinator.counters.telegrams
        await server.send(V5)
        await until(lambda before=before: coordinator.counters.telegrams == before + 1)
        await hass.async_block_till_done()
    state = hass.states.get(NET_POWER)
    assert state is not None
    assert state.state == "244.0"
    assert len(reports) >= 180 / REWRITE_INTERVAL - 1
    assert (state.last_reported - state.last_changed).total_seconds() >= 180 - REWRITE_INTERVAL
    # A change is a row (the control: the query does see rows).
    freezer.tick(timedelta(seconds=30))
    await server.send(with_crc(V5.replace(b"1-0:1.7.0(00.244*kW)", b"1-0:1.7.0(01.244*kW)")))
    await until(lambda: hass.states.get(NET_POWER).state == "1244.0")
    await async_wait_recording_done(hass)
    history = await recorder_mock.async_add_executor_job(
        partial(state_changes_during_period, hass, start, entity_id=NET_POWER)
    )
    assert [s.state for s in history[NET_POWER]] == ["244.0", "1244.0"]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_spike_never_reaches_statistics(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    server: P1Server,
    freezer: FrozenDateTimeFactory,
) -> None:
    """``1-0:1.8.1(999999999.999*kWh)`` between real readings: the 5-minute statistics'
    sum grows by the real 0.002 kWh only (the issue's case, through the loopback stream)."""
    freezer.move_to("2026-06-01 10:00:30+00:00")
    entry = make_entry(server.port, "5", power_interval=0.0)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: DsmrCoordinator = entry.runtime_data
    for reading in (b"000004.427", b"999999999.999", b"-000004.600", b"000004.428"):
        freezer.tick(timedelta(seconds=30))
        before = coordinator.counters.telegrams
        await server.send(with_crc(V5.replace(b"000004.426*kWh", reading + b"*kWh")))
        await until(lambda before=before: coordinator.counters.telegrams == before + 1)
        await hass.async_block_till_done()
    assert hass.states.get(TARIFF_1).state == "4.428"
    await async_wait_recording_done(hass)
    freezer.move_to("2026-06-01 10:10:30+00:00")
    do_adhoc_statistics(hass, start=dt_util.parse_datetime("2026-06-01 10:00:00+00:00"))
    do_adhoc_statistics(hass, start=dt_util.parse_datetime("2026-06-01 10:05:00+00:00"))
    await async_wait_recording_done(hass)
    rows = await recorder_mock.async_add_executor_job(
        partial(
            statistics_during_period,
            hass,
            dt_util.parse_datetime("2026-06-01 10:00:00+00:00"),
            None,
            {TARIFF_1},
            "5minute",
            None,
            {"sum", "state"},
        )
    )
    sums = [row["sum"] for row in rows[TARIFF_1]]
    assert sums
    assert max(sums) == pytest.approx(0.002, abs=1e-9)
    assert [row["state"] for row in rows[TARIFF_1]][-1] == pytest.approx(4.428)
    assert await hass.config_entries.async_unload(entry.entry_id)
