"""The resumable import of a plant's daily energy history into long-term statistics.

The fake enforces what the references document: ShinePhone gives a month's days only for
``PlantDetailAPI.do?type=2&date=YYYY-MM``; OpenAPI V1 ``plant/energy`` gives at most 7 days,
10 calls a day, once every 5 minutes (else 10012). Time moves with the freezer.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date, timedelta
import itertools
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticData, StatisticMeanType
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.pv_monitor.growatt_cloud.api.models import AuthType
from custom_components.pv_monitor.growatt_cloud.coordinator import GrowattCloudCoordinator
from custom_components.pv_monitor.growatt_cloud.statistics import (
    backward_chunk,
    forward_chunk,
    statistic_id,
)

from .fake import FakeGrowatt, fake_cloud  # noqa: F401
from .fixtures import PLANT, V1_PLANT, make_entry
from .test_coordinator import state


async def rows(hass: HomeAssistant, recorder: Recorder, stat_id: str) -> list[dict]:
    await async_wait_recording_done(hass)
    result = await recorder.async_add_executor_job(
        statistics_during_period,
        hass,
        dt_util.utcnow() - timedelta(days=800),
        None,
        {stat_id},
        "hour",
        None,
        {"sum", "state"},
    )
    return list(result.get(stat_id, []))


async def settle(hass: HomeAssistant) -> None:
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)


async def run_for(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta, step: timedelta
) -> None:
    """Move time on in ``step``s, firing due timers and letting requests finish."""
    for _ in range(int(delta / step)):
        freezer.tick(step)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> Generator[None]:
    """The recorder first (before ``hass``), then the custom integrations."""
    yield  # noqa: PT022


@pytest.fixture(autouse=True)
def _evening(freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to("2026-06-21 19:00:00+00:00")


def day_of(row: dict) -> date:
    return dt_util.as_local(dt_util.utc_from_timestamp(row["start"])).date()


def assert_continuous(imported: list[dict], history: dict[date, float]) -> None:
    """One row per day, each day's sum grown by that day's energy (no gaps, no duplicates)."""
    days = [day_of(row) for row in imported]
    assert days == sorted(set(days))
    assert days == [days[0] + timedelta(days=n) for n in range(len(days))]
    for before, row in itertools.pairwise(imported):
        assert row["sum"] - before["sum"] == pytest.approx(history.get(day_of(row), 0.0))
        assert row["state"] == row["sum"]


@pytest.mark.timeout(180)  # a year of rows and a simulated day with the recorder
async def test_shinephone_year_resumes_after_restart(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A year by months (13 requests, a minute apart), a restart in the middle."""
    caplog.set_level(logging.INFO)
    today = dt_util.now().date()
    fake_cloud.history = {today - timedelta(days=n): 0.2 for n in range(1, 500)}
    entry = make_entry(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    await run_for(hass, freezer, timedelta(minutes=4), timedelta(minutes=1))
    await settle(hass)
    partial = await rows(hass, recorder_mock, statistic_id(PLANT))
    assert 0 < len(partial) < 365
    progress = float(state(hass, f"growatt_cloud_{PLANT}_history_progress"))
    assert 0 < progress < 100

    await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    await run_for(hass, freezer, timedelta(minutes=20), timedelta(minutes=1))
    await settle(hass)
    imported = await rows(hass, recorder_mock, statistic_id(PLANT))
    assert len(imported) == 365
    assert day_of(imported[0]) == today - timedelta(days=365)
    assert day_of(imported[-1]) == today - timedelta(days=1)
    assert fake_cloud.requests.count("PlantDetailAPI.do") == 13
    # Yesterday ends where the live lifetime sensor starts: 94.1 kWh minus today's 0.4.
    assert imported[-1]["sum"] == pytest.approx(94.1 - 0.4)
    assert_continuous(imported, fake_cloud.history)
    assert state(hass, f"growatt_cloud_{PLANT}_history_progress") == "100.0"
    assert any(
        "Energy history of plant" in r.message and "imported" in r.message for r in caplog.records
    )
    meta = await recorder_mock.async_add_executor_job(
        list_statistic_ids, hass, {statistic_id(PLANT)}
    )
    assert meta[0]["source"] == "pv_monitor"
    assert meta[0]["has_sum"] is True

    # The next day adds only the new day, continuing the sum.
    fake_cloud.history[today] = 9.5
    await run_for(hass, freezer, timedelta(hours=30), timedelta(minutes=30))
    await settle(hass)
    again = await rows(hass, recorder_mock, statistic_id(PLANT))
    assert again[:-1] == imported
    assert again[-1]["sum"] == pytest.approx(imported[-1]["sum"] + 9.5)
    assert fake_cloud.requests.count("PlantDetailAPI.do") == 14


@pytest.mark.timeout(300)  # six simulated days with the recorder committing each change
async def test_openapi_year_within_documented_limits(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """53 requests of 7 days, at most 9 a day, 5 minutes apart: a year in 6 days.

    A 10012 in the middle and a restart on the third day change nothing but the timing.
    """
    today = dt_util.now().date()
    fake_cloud.history = {today - timedelta(days=n): 0.1 * (n % 7) for n in range(1, 400)}
    entry = make_entry(hass, AuthType.TOKEN)
    await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    await run_for(hass, freezer, timedelta(hours=24), timedelta(hours=1))
    assert fake_cloud.requests.count("v1/plant/energy") == 9
    fake_cloud.v1_error = 10012
    await run_for(hass, freezer, timedelta(hours=6), timedelta(hours=1))
    fake_cloud.v1_error = None
    coordinator: GrowattCloudCoordinator = entry.runtime_data
    assert coordinator.history[V1_PLANT].state["refused"] >= 1
    await run_for(hass, freezer, timedelta(hours=30), timedelta(hours=1))
    await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    await run_for(hass, freezer, timedelta(days=6), timedelta(hours=1))
    await settle(hass)
    assert entry.runtime_data.last_update_success

    imported = await rows(hass, recorder_mock, statistic_id(V1_PLANT))
    # The year back from the first day's yesterday, then the days that passed since.
    assert day_of(imported[0]) == today - timedelta(days=365)
    assert day_of(imported[-1]) >= dt_util.now().date() - timedelta(days=2)
    yesterday = next(row for row in imported if day_of(row) == today - timedelta(days=1))
    assert yesterday["sum"] == pytest.approx(1250.0 - 12.5)
    assert_continuous(imported, fake_cloud.history)
    refused = entry.runtime_data.history[V1_PLANT].state["refused"]
    # 53 for the year, the ones our injected 10012 refused, a few for the days since.
    assert 53 <= fake_cloud.requests.count("v1/plant/energy") - refused <= 53 + 3
    # Only the refusals we injected: the documented limits were never hit.
    assert fake_cloud.energy_refused == 0
    times = fake_cloud.energy_calls
    assert all(b - a >= timedelta(minutes=5) for a, b in itertools.pairwise(times))
    assert (
        max(sum(1 for t in times if start <= t < start + timedelta(hours=24)) for start in times)
        <= 10
    )


async def test_earlier_rows_are_kept(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """Rows written by an earlier version are the base: only later days are added."""
    today = dt_util.now().date()
    fake_cloud.history = {today - timedelta(days=n): 1.0 for n in range(1, 30)}
    stat_id = statistic_id(PLANT)
    start = dt_util.as_utc(dt_util.start_of_local_day(today - timedelta(days=3)))
    async_add_external_statistics(
        hass,
        {
            "mean_type": StatisticMeanType.NONE,
            "has_sum": True,
            "name": "old",
            "source": "pv_monitor",
            "statistic_id": stat_id,
            "unit_class": "energy",
            "unit_of_measurement": "kWh",
        },
        [StatisticData(start=start, state=50.0, sum=50.0)],
    )
    await settle(hass)
    entry = make_entry(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    await run_for(hass, freezer, timedelta(minutes=5), timedelta(minutes=1))
    await settle(hass)
    imported = await rows(hass, recorder_mock, stat_id)
    assert [row["sum"] for row in imported] == [50.0, 51.0, 52.0]
    assert fake_cloud.requests.count("PlantDetailAPI.do") == 1


def test_chunks() -> None:
    """Backward: a month (ShinePhone) or 7 days (V1), never past the target; forward too."""
    target = date(2025, 6, 21)
    assert backward_chunk(AuthType.PASSWORD, date(2026, 6, 21), target) == (
        date(2026, 6, 1),
        date(2026, 6, 20),
    )
    assert backward_chunk(AuthType.TOKEN, date(2026, 6, 21), target) == (
        date(2026, 6, 14),
        date(2026, 6, 20),
    )
    assert backward_chunk(AuthType.PASSWORD, date(2025, 7, 1), target) == (
        target,
        date(2025, 6, 30),
    )
    assert backward_chunk(AuthType.TOKEN, target, target) is None
    assert forward_chunk(AuthType.PASSWORD, date(2026, 6, 20), date(2026, 6, 20)) is None
    assert forward_chunk(AuthType.PASSWORD, date(2026, 5, 20), date(2026, 6, 20)) == (
        date(2026, 5, 21),
        date(2026, 5, 31),
    )
    assert forward_chunk(AuthType.TOKEN, date(2026, 6, 1), date(2026, 6, 20)) == (
        date(2026, 6, 2),
        date(2026, 6, 8),
    )


@pytest.mark.timeout(180)
async def test_openapi_two_plants_share_the_spacing(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two plants of one token account: their history requests stay 5 minutes apart."""
    today = dt_util.now().date()
    fake_cloud.history = {today - timedelta(days=n): 0.5 for n in range(1, 60)}
    entry = make_entry(hass, AuthType.TOKEN)
    data = {k: v for k, v in entry.data.items() if k not in ("plant_id", "plant_name")}
    hass.config_entries.async_update_entry(
        entry,
        unique_id="growatt_cloud_account_token",
        data={
            **data,
            "plant_ids": [V1_PLANT, "7654321"],
            "plants": {V1_PLANT: "a", "7654321": "b"},
        },
    )
    await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    await run_for(hass, freezer, timedelta(hours=2), timedelta(minutes=1))
    await settle(hass)
    assert fake_cloud.energy_refused == 0
    assert len(fake_cloud.energy_calls) == 9
    for plant_id in (V1_PLANT, "7654321"):
        assert await rows(hass, recorder_mock, statistic_id(plant_id))
