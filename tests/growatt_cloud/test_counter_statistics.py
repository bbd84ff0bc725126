"""An inverter replaced by one with a higher lifetime counter, through the recorder.

The cloud answers are the ShinePhone fixtures of the cloud fake (``fake.py`` names their
sources) with the TL-X ``eacTotal`` edited; statistics compiled by Home Assistant's recorder.
"""

from __future__ import annotations

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
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)
from pytest_homeassistant_custom_component.typing import RecorderInstanceContextManager

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.diagnostics import async_get_config_entry_diagnostics
from custom_components.pv_monitor.growatt_cloud.const import CLOUD_MAX_POWER_KW

from .fake import FakeGrowatt, fake_cloud
from .test_coordinator import PLANT, entity_id, make_entry, setup, state

__all__ = ["fake_cloud"]

T0 = datetime(2026, 6, 21, 6, 0, tzinfo=UTC)
LIMIT_KWH_PER_HOUR = CLOUD_MAX_POWER_KW * 1.5 + 0.1
"""The device counters' power limit over one hour (margin 1.5, resolution 0.1)."""


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: RecorderInstanceContextManager) -> None:
    """Prepare the test recorder before the hass fixture (an autouse fixture needs hass)."""


async def run_minutes(hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: int) -> None:
    """Move time on a minute at a time; compile every 5-minute period as the recorder does."""
    for _ in range(minutes):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        now = datetime.now(UTC)
        if now.minute % 5 == 0:
            do_adhoc_statistics(
                hass, start=now.replace(second=0, microsecond=0) - timedelta(minutes=5)
            )
            await async_wait_recording_done(hass)


async def test_upward_inverter_replacement_keeps_hourly_sums_continuous(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The replacement's lifetime is 20,000 kWh (was 12,500.3): confirmed, one repair issue,
    and the hourly statistics sum never moves by more than the device limit allows."""
    freezer.move_to(T0)
    entry = make_entry(hass)
    await setup(hass, entry)
    tlx = fake_cloud.answers["shinephone_tlx_detail"]["data"]
    for total in ("12500.3", "20000.0", "20000.4", "20000.8", "20001.2"):
        tlx["eacTotal"] = total
        await run_minutes(hass, freezer, 30)
    await run_minutes(hass, freezer, 40)  # the hour of the reset is compiled
    guard = entry.runtime_data.guards[("AB12345678", "energy_total")]
    assert (guard.resets, guard.last_reset) == (1, (12500.3, 20001.2))
    unique = f"growatt_cloud_{PLANT}_AB12345678_energy_total"
    assert state(hass, unique) == "20001.2"
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"growatt_cloud_counter_reset_AB12345678_energy_total_{entry.entry_id}"
    )
    assert issue is not None
    statistic_id = entity_id(hass, unique)
    stats = await recorder_mock.async_add_executor_job(
        statistics_during_period, hass, T0, None, {statistic_id}, "hour", None, {"sum"}
    )
    sums = [0.0, *(row["sum"] for row in stats[statistic_id])]
    assert len(sums) == 4
    assert all(0 <= b - a <= LIMIT_KWH_PER_HOUR for a, b in itertools.pairwise(sums))


async def test_diagnostics_show_a_spike_already_in_statistics(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 10 MWh step an earlier version counted in one hour (the "2.56 MWh" lifetime read
    in MWh steps) is listed under the device counter in the diagnostics."""
    freezer.move_to(T0 + timedelta(hours=5))
    entry = make_entry(hass)
    await setup(hass, entry)
    statistic_id = entity_id(hass, f"growatt_cloud_{PLANT}_AB12345678_energy_total")
    sums = [0.0, 10.0, 10_010.0, 10_020.0]
    async_import_statistics(
        hass,
        {
            "mean_type": StatisticMeanType.NONE,
            "has_sum": True,
            "name": None,
            "source": "recorder",
            "statistic_id": statistic_id,
            "unit_class": "energy",
            "unit_of_measurement": "kWh",
        },
        [{"start": T0 + timedelta(hours=n), "sum": total} for n, total in enumerate(sums)],  # type: ignore[misc]
    )
    await async_wait_recording_done(hass)
    download = await async_get_config_entry_diagnostics(hass, entry)
    found = download["statistics_spikes"][statistic_id]
    assert found["allowed_per_hour"] == LIMIT_KWH_PER_HOUR
    assert found["largest"] == [
        {"start": (T0 + timedelta(hours=2)).isoformat(), "change": 10_000.0}
    ]
