"""Import of the plant's daily energy history into long-term statistics."""

from __future__ import annotations

from collections.abc import Generator
from datetime import date, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import (
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
from custom_components.pv_monitor.growatt_cloud.statistics import async_import_history, statistic_id

from .fake import FakeGrowatt, fake_cloud  # noqa: F401
from .test_coordinator import PLANT, make_entry

STAT_ID = statistic_id(PLANT)


async def rows(hass: HomeAssistant, recorder: Recorder) -> list[dict]:
    await async_wait_recording_done(hass)
    result = await recorder.async_add_executor_job(
        statistics_during_period,
        hass,
        dt_util.utcnow() - timedelta(days=800),
        None,
        {STAT_ID},
        "hour",
        None,
        {"sum", "state"},
    )
    return list(result.get(STAT_ID, []))


async def settle(hass: HomeAssistant) -> None:
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> Generator[None]:
    """The recorder first (before ``hass``), then the custom integrations."""
    yield  # noqa: PT022


@pytest.fixture(autouse=True)
def _noon(freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to("2026-06-21 19:00:00+00:00")


async def test_import_once_continuous_and_idempotent(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """A year of days, ending at the live lifetime value; re-runs add nothing twice."""
    today = dt_util.now().date()
    fake_cloud.set_history(today - timedelta(days=1), 500)
    entry = make_entry(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)

    imported = await rows(hass, recorder_mock)
    assert len(imported) == 365
    assert fake_cloud.requests.count("PlantDetailAPI.do") == 13
    # Yesterday's row ends at the plant's lifetime energy minus today's.
    assert imported[-1]["sum"] == pytest.approx(12500.0 - 8.4)
    assert imported[-1]["state"] == imported[-1]["sum"]
    sums = [row["sum"] for row in imported]
    assert sums == sorted(sums)
    first_day = today - timedelta(days=365)
    assert dt_util.as_local(dt_util.utc_from_timestamp(imported[0]["start"])).date() == first_day
    assert imported[1]["sum"] - imported[0]["sum"] == pytest.approx(
        fake_cloud.history[first_day + timedelta(days=1)]
    )
    meta = await recorder_mock.async_add_executor_job(list_statistic_ids, hass, {STAT_ID})
    assert meta[0]["source"] == "pv_monitor"
    assert meta[0]["unit_class"] == "energy"
    assert meta[0]["has_sum"] is True
    assert meta[0]["mean_type"] == 0

    # Re-running the same day changes nothing and asks the cloud for nothing.
    await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    assert await rows(hass, recorder_mock) == imported
    assert fake_cloud.requests.count("PlantDetailAPI.do") == 13

    # A day later only the new day is added, continuing the sum. After a clock jump
    # the timers that came due are fired explicitly: a daily HA timer lands exactly on
    # the frozen loop time, which asyncio never runs on its own (the float sum
    # time + clock resolution equals time), so the loop would spin and starve the
    # recorder's SQLite thread of the GIL.
    freezer.tick(timedelta(days=1))
    async_fire_time_changed(hass)
    fake_cloud.history[today] = 9.5
    await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    again = await rows(hass, recorder_mock)
    assert again[:-1] == imported
    assert again[-1]["sum"] == pytest.approx(imported[-1]["sum"] + 9.5)
    assert fake_cloud.requests.count("PlantDetailAPI.do") == 14


async def test_token_import_limited_by_budget(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    """OpenAPI: 7 days per request, at most a quarter of the budget (50 -> 350 days)."""
    today = dt_util.now().date()
    fake_cloud.set_history(today - timedelta(days=1), 500)
    entry = make_entry(hass, AuthType.TOKEN)
    await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    assert len(await rows(hass, recorder_mock)) == 350
    assert fake_cloud.requests.count("v1/plant/energy") == 50


async def test_import_failures_and_gaps(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A cloud error or an empty history writes nothing; a missing total starts at 0."""
    entry = make_entry(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    coordinator: GrowattCloudCoordinator = entry.runtime_data
    assert await rows(hass, recorder_mock) == []

    fake_cloud.fail_status = 500
    assert await async_import_history(hass, coordinator) == 0
    assert "energy history" in caplog.text
    fake_cloud.fail_status = None

    coordinator.data.plant.pop("energy_total")
    fake_cloud.history = {date(2026, 6, 19): 5.0, date(2026, 6, 20): 6.0}
    assert await async_import_history(hass, coordinator) == 2
    imported = await rows(hass, recorder_mock)
    assert [row["sum"] for row in imported] == [5.0, 11.0]
