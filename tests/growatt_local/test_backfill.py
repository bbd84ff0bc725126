"""Buffered records into long-term statistics: the plan (pure) and the recorder import."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
import itertools

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.statistics import (
    async_import_statistics,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)
from pytest_homeassistant_custom_component.typing import RecorderInstanceContextManager

from custom_components.pv_monitor.common.counter import CounterLimits
from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.diagnostics import async_get_config_entry_diagnostics
from custom_components.pv_monitor.growatt_local.protocol import messages
from custom_components.pv_monitor.growatt_local.protocol.backfill import (
    StatisticsRow,
    hourly_totals,
    plan_backfill,
    plausible_record_time,
)
from custom_components.pv_monitor.growatt_local.protocol.framing import (
    Function,
    decode_frame,
    encode_frame,
)
from custom_components.pv_monitor.growatt_local.protocol.records import (
    encode_record_payload,
    parse_record,
)

from .dongle import FakeDongle
from .fixtures import capture, make_entry, register_lifetime_energy_sensor, setup_entry

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
LIMITS = CounterLimits(max_power_kw=6.0)
"""A 6 kW inverter: at most 6 x 1.5 + 0.1 = 9.1 kWh per hour."""


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: RecorderInstanceContextManager) -> None:
    """Prepare the test recorder before the hass fixture (an autouse fixture needs hass)."""


def h(n: int) -> datetime:
    return T0 + timedelta(hours=n)


def row(n: int, state: float, total: float) -> StatisticsRow:
    return StatisticsRow(h(n), state, total)


def test_fills_hours_home_assistant_missed() -> None:
    """No rows while HA was down: the buffered hours get rows, the jump hour keeps its sum."""
    existing = [row(0, 4000, 10), row(1, 4000, 10), row(4, 4010, 20)]
    totals = {h(1): 4002.0, h(2): 4005.0, h(3): 4008.0}
    plan = plan_backfill(totals, existing, h(10), LIMITS)
    assert plan.rows == (row(1, 4002, 12), row(2, 4005, 15), row(3, 4008, 18))
    # Continuous: the next live row's sum is what the imported rows lead to.
    assert plan.rows[-1].sum + (4010 - plan.rows[-1].state) == 20


def test_raises_flat_rows_after_a_record() -> None:
    """HA up, dongle away: flat rows after a placed record carry its value (sums rise)."""
    existing = [row(0, 4000, 10), row(1, 4000, 10), row(2, 4000, 10), row(3, 4000, 10)]
    existing.append(row(4, 4010, 20))
    plan = plan_backfill({h(2): 4004.0}, existing, h(10), LIMITS)
    assert plan.rows == (row(2, 4004, 14), row(3, 4004, 14))


def test_live_hours_are_never_rewritten() -> None:
    """Hours at or after the live sensor's first move stay as they are."""
    existing = [row(0, 4000, 10), row(1, 4003, 13), row(2, 4006, 16)]
    plan = plan_backfill({h(1): 4002.0, h(2): 4005.0}, existing, h(10), LIMITS)
    assert plan.rows == ()
    assert plan.covered == 2


def test_inconsistent_and_unanchored_values() -> None:
    """Values outside [anchor, gap end] are dropped; no row before: nothing to anchor."""
    existing = [row(0, 4000, 10), row(3, 4010, 20)]
    plan = plan_backfill({h(1): 4020.0, h(2): 3990.0}, existing, h(10), LIMITS)
    assert plan.rows == ()
    assert plan.inconsistent == 2
    assert plan_backfill({h(1): 1.0}, [], h(10), LIMITS).unanchored == 1
    assert plan_backfill({}, existing, h(10), LIMITS).rows == ()


def test_importing_twice_changes_nothing() -> None:
    """Re-planning with the imported rows in place writes nothing more."""
    existing = [row(0, 4000, 10), row(4, 4010, 20)]
    totals = {h(1): 4002.0, h(3): 4008.0}
    first = plan_backfill(totals, existing, h(10), LIMITS)
    assert first.rows == (row(1, 4002, 12), row(2, 4002, 12), row(3, 4008, 18))
    again = plan_backfill(totals, [*existing, *first.rows], h(10), LIMITS)
    assert again.rows == ()


def test_no_later_rows_and_current_hour() -> None:
    """Without a live row after the gap the plan runs to the last record, never into the
    current hour (the recorder compiles that one)."""
    existing = [row(0, 4000, 10)]
    plan = plan_backfill(
        {h(1): 4001.0, h(2): 4002.0}, existing, h(2) + timedelta(minutes=5), LIMITS
    )
    assert plan.rows == (row(1, 4001, 11),)
    assert plan.covered == 1


def test_buffered_values_are_bounded_by_the_power_limit_on_both_sides() -> None:
    """A flat night (no later move) still bounds the buffered value: 1e6 writes no row;
    a value too low for the gap end (it cannot catch up in time) is dropped too."""
    flat = [row(0, 4032.5, 10), row(1, 4032.5, 10), row(2, 4032.5, 10), row(3, 4032.5, 10)]
    plan = plan_backfill({h(2): 1_000_000.0}, flat, h(10), LIMITS)
    assert plan.rows == ()
    assert plan.inconsistent == 1
    # Within 9.1 kWh/h of the anchor: placed.
    assert plan_backfill({h(2): 4040.0}, flat, h(10), LIMITS).rows[0].state == 4040.0
    # Gap end at hour 5 is 4050: at hour 1, 4033 is 17 kWh short with 4 h to go (fine),
    # at hour 4, 4033 is 17 kWh short with 1 h to go (impossible).
    ends = [row(0, 4032.5, 10), row(5, 4050.0, 27.5)]
    assert plan_backfill({h(1): 4033.0}, ends, h(10), LIMITS).inconsistent == 0
    assert plan_backfill({h(4): 4033.0}, ends, h(10), LIMITS).inconsistent == 1


def test_hourly_totals_keep_the_last_value_of_each_hour() -> None:
    """The counter at the end of an hour is the largest sample in it."""
    samples = [(h(1) + timedelta(minutes=5), 4001.0), (h(1) + timedelta(minutes=55), 4002.5)]
    assert hourly_totals([*samples, (h(2), 4003.0)]) == {h(1): 4002.5, h(2): 4003.0}


def test_plausible_record_time() -> None:
    """Unset, future (2051), too old or older than the inverter's operating hours: no."""
    now = datetime(2026, 6, 1, 12, 0)
    assert plausible_record_time(datetime(2026, 5, 30, 9, 0), now)
    assert not plausible_record_time(None, now)
    assert not plausible_record_time(datetime(2051, 2, 5, 13, 4, 23), now)
    assert not plausible_record_time(datetime(2020, 1, 1), now)
    assert not plausible_record_time(datetime(2026, 5, 1), now, operating_hours=100.0)
    assert plausible_record_time(datetime(2026, 5, 1), now, operating_hours=5000.0)


ENTITY = "sensor.inverter_1vzg8211b7_lifetime_energy"


def buffered_frame(local: datetime, total_kwh: float) -> bytes:
    """The GrowattMonitor buffered record, re-timed and with another lifetime energy."""
    frame = decode_frame(capture("gm_data1_v5_0150_data2_from_logger_28").raw)
    record = parse_record(frame)
    raw = round(total_kwh * 10)
    registers = {**record.registers, 28: raw >> 16, 29: raw & 0xFFFF}
    record = dataclasses.replace(record, timestamp=local, registers=registers)
    payload = encode_record_payload(record)
    return encode_frame(frame.seq, frame.protocol, frame.unit, Function.BUFFERED_DATA, payload)


async def seed(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """The inverter's lifetime energy sensor with its own statistics: hour 1 flat, no rows
    for hours 2-3 (Home Assistant was down), the jump at hour 4."""
    entry.add_to_hass(hass)
    register_lifetime_energy_sensor(hass, entry, "1VZG8211B7")
    async_import_statistics(
        hass,
        {
            "mean_type": StatisticMeanType.NONE,
            "has_sum": True,
            "name": None,
            "source": "recorder",
            "statistic_id": ENTITY,
            "unit_class": "energy",
            "unit_of_measurement": "kWh",
        },
        [
            {"start": h(0), "state": 4000.0, "sum": 10.0},
            {"start": h(1), "state": 4000.0, "sum": 10.0},
            {"start": h(4), "state": 4010.0, "sum": 20.0},
        ],
    )
    await async_wait_recording_done(hass)


def local(moment: datetime) -> datetime:
    """The datalogger's (naive, local) clock reading at ``moment``."""
    return dt_util.as_local(moment).replace(tzinfo=None)


FILLED = [
    (h(0), 4000.0, 10.0),
    (h(1), 4002.0, 12.0),
    (h(2), 4005.0, 15.0),
    (h(3), 4008.0, 18.0),
    (h(4), 4010.0, 20.0),
]
"""The sensor's hourly rows once the buffered records are in: sums continuous."""


def buffered_frames() -> list[bytes]:
    """Three records of the gap hours, and one with an unset (2051) clock."""
    return [
        buffered_frame(local(h(1) + timedelta(minutes=40)), 4002.0),
        buffered_frame(local(h(2) + timedelta(minutes=20)), 4005.0),
        buffered_frame(local(h(3) + timedelta(minutes=50)), 4008.0),
        buffered_frame(datetime(2051, 2, 5, 13, 4, 23), 4009.0),  # unset clock: no history
    ]


async def hourly_rows(
    hass: HomeAssistant, recorder: Recorder
) -> list[tuple[datetime, float, float]]:
    """The sensor's hourly (start, state, sum) rows in the recorder."""
    await hass.async_block_till_done(wait_background_tasks=True)  # the backfill task
    await async_wait_recording_done(hass)
    stats = await recorder.async_add_executor_job(
        statistics_during_period, hass, h(0), None, {ENTITY}, "hour", None, {"state", "sum"}
    )
    return [(dt_util.utc_from_timestamp(r["start"]), r["state"], r["sum"]) for r in stats[ENTITY]]


async def send_buffered(port: int, frames: list[bytes]) -> None:
    """A datalogger connection that delivers ``frames`` and checks every ack."""
    dongle = await FakeDongle.connect(port)
    await dongle.send(*frames)
    await dongle.expect_raw(*(messages.ack(decode_frame(f)) for f in frames))
    await dongle.close()


async def test_buffered_records_land_in_statistics_once(
    recorder_mock: Recorder, hass: HomeAssistant, free_port: int, freezer: FrozenDateTimeFactory
) -> None:
    """HA was down for two hours; the dongle's buffered records fill them, exactly once."""
    freezer.move_to(h(10) + timedelta(minutes=30))
    entry = make_entry(free_port)
    await seed(hass, entry)
    await setup_entry(hass, entry)
    frames = buffered_frames()
    for attempt in range(2):  # the dongle resends its buffer: nothing changes the 2nd time
        await send_buffered(free_port, frames)
        freezer.tick(timedelta(seconds=31))
        async_fire_time_changed(hass)
        assert await hourly_rows(hass, recorder_mock) == FILLED, attempt
    inverter = entry.runtime_data.data.inverters["1VZG8211B7"]
    assert inverter.history_rows == 3
    assert inverter.history_rejected == 2
    assert inverter.buffered_total == 8


async def test_restart_mid_session_lands_buffered_records_once(
    recorder_mock: Recorder, hass: HomeAssistant, free_port: int, freezer: FrozenDateTimeFactory
) -> None:
    """Restart (unload + set-up) in the middle of a session: the dongle reconnects, its
    buffered records land once, even when an unload comes before the import is due."""
    freezer.move_to(h(10) + timedelta(minutes=30))
    entry = make_entry(free_port)
    await seed(hass, entry)
    await setup_entry(hass, entry)
    live = await FakeDongle.connect(free_port)
    data = capture("gm_data1_v5_0104_data_from_logger_23").raw
    await live.send(data)
    await live.expect_raw(capture("gm_data1_v5_0104_ack_from_server_25").raw)

    assert await hass.config_entries.async_reload(entry.entry_id)  # "restart"
    assert await live.closed()
    await send_buffered(free_port, buffered_frames())
    # Unloading before the backfill timer fires imports what is pending.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hourly_rows(hass, recorder_mock) == FILLED

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await send_buffered(free_port, buffered_frames())
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    assert await hourly_rows(hass, recorder_mock) == FILLED
    assert await hass.config_entries.async_unload(entry.entry_id)


# ---------------------------------------------------------------------------------------
# Energy totals that no single bad reading can corrupt (issue 11), through the real path:
# a datalogger over TCP, the listener, the counter guard, the sensor and the recorder.

TL_LIMIT_KWH_PER_HOUR = 100.0 * 1.5 + 0.1
"""No nominal power announced, no power above 500 W seen: the TL family maximum (100 kW)."""


def live_frame(total_kwh: float) -> bytes:
    """The GrowattMonitor live record (valid CRC) with another lifetime energy."""
    frame = decode_frame(capture("gm_data1_v5_0104_data_from_logger_23").raw)
    record = parse_record(frame)
    raw = round(total_kwh * 10)
    registers = {**record.registers, 28: raw >> 16, 29: raw & 0xFFFF}
    payload = encode_record_payload(dataclasses.replace(record, registers=registers))
    return encode_frame(frame.seq, frame.protocol, frame.unit, Function.DATA, payload)


async def send_live(dongle: FakeDongle, total_kwh: float) -> None:
    frame = live_frame(total_kwh)
    await dongle.send(frame)
    await dongle.expect_raw(messages.ack(decode_frame(frame)))


def lifetime_energy(hass: HomeAssistant) -> float:
    state = hass.states.get(ENTITY)
    assert state is not None
    return float(state.state)


async def compile_5min(hass: HomeAssistant, start: datetime) -> None:
    do_adhoc_statistics(hass, start=start)
    await async_wait_recording_done(hass)


async def test_live_spike_never_reaches_the_sensor_or_statistics(
    recorder_mock: Recorder, hass: HomeAssistant, free_port: int, freezer: FrozenDateTimeFactory
) -> None:
    """energy_total = 1,000,000 kWh after 4,032.5 kWh in a valid-CRC live record: the sensor
    keeps the real series, hourly sums never move by more than the power limit allows, the
    same after an entry reload (a second spike then meets the restored baseline)."""
    freezer.move_to(h(0) + timedelta(minutes=1))
    entry = make_entry(free_port)
    entry.add_to_hass(hass)
    register_lifetime_energy_sensor(hass, entry, "1VZG8211B7")
    await setup_entry(hass, entry)
    dongle = await FakeDongle.connect(free_port)
    shown = []
    for step in range(24):  # two hours, a record every 5 minutes, 0.1 kWh each
        if step == 12:  # restart of the entry mid-story
            assert await hass.config_entries.async_reload(entry.entry_id)
            await hass.async_block_till_done()
            assert lifetime_energy(hass) == 4033.6  # restored: the guard's baseline
            dongle = await FakeDongle.connect(free_port)
        total = 4032.5 + 0.1 * step
        await send_live(dongle, 1_000_000.0 if step in (7, 15) else round(total, 1))
        await hass.async_block_till_done()
        shown.append(lifetime_energy(hass))
        freezer.tick(timedelta(minutes=5))
        await compile_5min(hass, h(0) + timedelta(minutes=5 * step))
    assert max(shown) < 4035.0
    assert shown[-1] == 4034.8
    assert shown[7] == shown[6]  # the spike's record shows the value before it
    guard = entry.runtime_data.data.inverters["1VZG8211B7"].counters.guards["energy_total"]
    assert guard.dropped == 1  # since the reload: the second spike
    assert guard.resets == 0
    rows = await hourly_rows(hass, recorder_mock)
    assert len(rows) == 2
    sums = [10.0 * 0, *(row[2] for row in rows)]
    assert all(0 <= b - a <= TL_LIMIT_KWH_PER_HOUR for a, b in itertools.pairwise(sums))
    assert rows[-1][1] < 4035.0
    await dongle.close()


async def test_buffered_spike_in_a_flat_night_writes_no_row(
    recorder_mock: Recorder, hass: HomeAssistant, free_port: int, freezer: FrozenDateTimeFactory
) -> None:
    """One buffered record at 1e6 kWh during a flat stretch: never a statistics row (the
    upper bound is finite without a later move), counted in the diagnostics."""
    freezer.move_to(h(10) + timedelta(minutes=30))
    entry = make_entry(free_port)
    entry.add_to_hass(hass)
    register_lifetime_energy_sensor(hass, entry, "1VZG8211B7")
    flat = [{"start": h(n), "state": 4032.5, "sum": 10.0} for n in range(8)]
    async_import_statistics(
        hass,
        {
            "mean_type": StatisticMeanType.NONE,
            "has_sum": True,
            "name": None,
            "source": "recorder",
            "statistic_id": ENTITY,
            "unit_class": "energy",
            "unit_of_measurement": "kWh",
        },
        flat,  # type: ignore[arg-type]
    )
    await async_wait_recording_done(hass)
    await setup_entry(hass, entry)
    await send_buffered(free_port, [buffered_frame(local(h(3) + timedelta(minutes=10)), 1e6)])
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    rows = await hourly_rows(hass, recorder_mock)
    assert [(start, state, total) for start, state, total in rows] == [
        (h(n), 4032.5, 10.0) for n in range(8)
    ]
    inverter = entry.runtime_data.data.inverters["1VZG8211B7"]
    assert inverter.history_rows == 0
    assert inverter.history_implausible == 1


async def test_inverter_replacement_is_one_reset_and_one_repair_issue(
    hass: HomeAssistant, free_port: int, freezer: FrozenDateTimeFactory
) -> None:
    """A new inverter behind the same serial restarts its counter: three readings over ten
    minutes confirm it, the sensor follows, and exactly one repair issue says what."""
    freezer.move_to(h(0))
    entry = make_entry(free_port)
    await setup_entry(hass, entry)
    dongle = await FakeDongle.connect(free_port)
    await send_live(dongle, 4032.5)
    for minute, total in ((5, 12.0), (10, 12.1), (15, 12.2), (20, 12.3)):
        freezer.move_to(h(0) + timedelta(minutes=minute))
        await send_live(dongle, total)
    await hass.async_block_till_done()
    guard = entry.runtime_data.data.inverters["1VZG8211B7"].counters.guards["energy_total"]
    assert (guard.resets, guard.last_reset, guard.value) == (1, (4032.5, 12.2), 12.3)
    issues = [
        issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue_id.startswith("counter_reset_")
    ]
    assert len(issues) == 1
    assert issues[0].translation_placeholders == {
        "inverter": "1VZG8211B7",
        "counter": "energy_total",
        "old": "4032.5",
        "new": "12.2",
    }
    assert lifetime_energy(hass) == 12.3
    await dongle.close()


async def test_upward_inverter_replacement_keeps_hourly_sums_continuous(
    recorder_mock: Recorder, hass: HomeAssistant, free_port: int, freezer: FrozenDateTimeFactory
) -> None:
    """The inverter is replaced by one whose lifetime counter is higher (4,033 -> 9,000 kWh):
    the confirmed reset is published, one repair issue, and the recorder's hourly sums move by
    no more than the power limit allows (the step is adjusted out once, after compiling), also
    when the entry is reloaded between the reset and the adjustment."""
    freezer.move_to(h(0) + timedelta(minutes=1))
    entry = make_entry(free_port)
    entry.add_to_hass(hass)
    register_lifetime_energy_sensor(hass, entry, "1VZG8211B7")
    await setup_entry(hass, entry)
    dongle = await FakeDongle.connect(free_port)
    for step in range(24):  # two hours, a record every 5 minutes, 0.1 kWh each
        if step == 11:  # the dongle reconnects after the reload
            dongle = await FakeDongle.connect(free_port)
        base = 4032.5 if step < 8 else 9000.0  # replaced before the 9th record
        await send_live(dongle, round(base + 0.1 * step, 1))
        await hass.async_block_till_done()
        if step == 10:  # the reset was just confirmed: reload before the adjustment is due
            assert await hass.config_entries.async_reload(entry.entry_id)
            await hass.async_block_till_done()
            assert lifetime_energy(hass) == 9001.0
        freezer.tick(timedelta(minutes=5))
        await compile_5min(hass, h(0) + timedelta(minutes=5 * step))
        async_fire_time_changed(hass)
        await async_wait_recording_done(hass)
    guard = entry.runtime_data.data.inverters["1VZG8211B7"].counters.guards["energy_total"]
    assert guard.resets == 0  # since the reload: the restored 9001.0 is the baseline
    assert lifetime_energy(hass) == 9002.3
    rows = await hourly_rows(hass, recorder_mock)
    assert len(rows) == 2
    sums = [0.0, *(row[2] for row in rows)]
    assert all(0 <= b - a <= TL_LIMIT_KWH_PER_HOUR for a, b in itertools.pairwise(sums))
    # The energy the sensor counted before and after the swap, and nothing for the step.
    assert rows[-1][2] == pytest.approx((4033.2 - 4032.5) + (9002.3 - 9001.0))
    await dongle.close()


async def test_diagnostics_show_a_spike_an_earlier_version_left_in_statistics(
    recorder_mock: Recorder, hass: HomeAssistant, free_port: int, freezer: FrozenDateTimeFactory
) -> None:
    """The issue's +995,967.5 kWh hour (and the recorder's drop back) already sit in the
    hourly statistics: the diagnostics list both hours; nothing is rewritten."""
    freezer.move_to(h(10) + timedelta(minutes=30))
    entry = make_entry(free_port)
    entry.add_to_hass(hass)
    register_lifetime_energy_sensor(hass, entry, "1VZG8211B7")
    sums = [10.0, 10.1, 995_977.6, 10.2, 10.3]
    rows = [{"start": h(n), "state": 4032.5 + total, "sum": total} for n, total in enumerate(sums)]
    async_import_statistics(
        hass,
        {
            "mean_type": StatisticMeanType.NONE,
            "has_sum": True,
            "name": None,
            "source": "recorder",
            "statistic_id": ENTITY,
            "unit_class": "energy",
            "unit_of_measurement": "kWh",
        },
        rows,  # type: ignore[arg-type]
    )
    await async_wait_recording_done(hass)
    await setup_entry(hass, entry)
    dongle = await FakeDongle.connect(free_port)
    await send_live(dongle, 4042.9)
    await hass.async_block_till_done()
    download = await async_get_config_entry_diagnostics(hass, entry)
    found = download["statistics_spikes"][ENTITY]
    assert found["allowed_per_hour"] == TL_LIMIT_KWH_PER_HOUR
    assert found["spikes"] == 2
    assert found["largest"] == [
        {"start": h(2).isoformat(), "change": 995_967.5},
        {"start": h(3).isoformat(), "change": -995_967.4},
    ]
    assert [row[2] for row in await hourly_rows(hass, recorder_mock)][:5] == sums
    await dongle.close()
