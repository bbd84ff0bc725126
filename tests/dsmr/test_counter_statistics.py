"""A meter swapped for one with a higher reading, through the recorder's hourly statistics.

Telegrams: dsmr-parser's DSMR 5 test telegram (``tests/fixtures/dsmr/v5.txt``) with its
tariff-1 import register (``1-0:1.8.1``) edited and the CRC recomputed, over a loopback P1
stream; statistics compiled by Home Assistant's own recorder.
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

from custom_components.pv_monitor.common.counter import METER_MAX_POWER_KW
from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.diagnostics import async_get_config_entry_diagnostics

from .fixtures import make_entry
from .test_counters import IMPORT_TOTAL, TARIFF_1, no_stale, send, setup, tariff_1

__all__ = ["no_stale"]

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
LIMIT_KWH_PER_HOUR = METER_MAX_POWER_KW * 1.5 + 0.01
"""The connection's limit (43.47 kW x margin 1.5 + resolution) over one hour."""


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: RecorderInstanceContextManager) -> None:
    """Prepare the test recorder before the hass fixture (an autouse fixture needs hass)."""


async def test_upward_meter_swap_keeps_hourly_sums_continuous(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    server: object,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The meter is swapped for one reading 1,500 kWh (was 4.4 kWh): three telegrams over
    ten minutes confirm it, one repair issue, and the hourly sums of the tariff and of the
    total never move by more than the connection allows."""
    freezer.move_to(T0 + timedelta(minutes=1))
    entry = make_entry(server.port, "5", power_interval=0.0)  # type: ignore[attr-defined]
    entry.add_to_hass(hass)
    coordinator = await setup(hass, entry)
    for step in range(24):  # two hours, a telegram every 5 minutes
        base = 4.426 if step < 4 else 1500.0
        reading = f"{base + 0.01 * step:010.3f}".encode()
        await send(hass, server, coordinator, tariff_1(reading))  # type: ignore[arg-type]
        freezer.tick(timedelta(minutes=5))
        do_adhoc_statistics(hass, start=T0 + timedelta(minutes=5 * step))
        await async_wait_recording_done(hass)
        async_fire_time_changed(hass)
        await async_wait_recording_done(hass)
    guard = coordinator.meter_counters.guards["energy_import_tariff_1"]
    assert guard.resets == 1
    issue = ir.async_get(hass).async_get_issue(DOMAIN, coordinator.meter_counters.issue_id)
    assert issue is not None
    stats = await recorder_mock.async_add_executor_job(
        statistics_during_period, hass, T0, None, {TARIFF_1, IMPORT_TOTAL}, "hour", None, {"sum"}
    )
    for entity_id in (TARIFF_1, IMPORT_TOTAL):
        sums = [0.0, *(row["sum"] for row in stats[entity_id])]
        assert len(sums) == 3, entity_id
        assert all(0 <= b - a <= LIMIT_KWH_PER_HOUR for a, b in itertools.pairwise(sums))
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_diagnostics_show_a_spike_already_in_statistics(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    server: object,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The issue's 999,999,999.999 kWh telegram from an earlier version left a +999,999,995.6
    hour in the tariff's statistics: the diagnostics list it under the counter."""
    freezer.move_to(T0 + timedelta(hours=5))
    sums = [0.0, 0.5, 999_999_996.1, 1.0]
    async_import_statistics(
        hass,
        {
            "mean_type": StatisticMeanType.NONE,
            "has_sum": True,
            "name": None,
            "source": "recorder",
            "statistic_id": TARIFF_1,
            "unit_class": "energy",
            "unit_of_measurement": "kWh",
        },
        [{"start": T0 + timedelta(hours=n), "sum": total} for n, total in enumerate(sums)],  # type: ignore[misc]
    )
    await async_wait_recording_done(hass)
    entry = make_entry(server.port, "5", power_interval=0.0)  # type: ignore[attr-defined]
    entry.add_to_hass(hass)
    await setup(hass, entry)
    download = await async_get_config_entry_diagnostics(hass, entry)
    found = download["statistics_spikes"][TARIFF_1]
    assert found["allowed_per_hour"] == round(LIMIT_KWH_PER_HOUR, 3)
    assert [spike["start"] for spike in found["largest"]] == [
        (T0 + timedelta(hours=2)).isoformat(),
        (T0 + timedelta(hours=3)).isoformat(),
    ]
    assert found["largest"][0]["change"] == pytest.approx(999_999_995.6)
    assert set(download["statistics_spikes"]) == {TARIFF_1}  # the others have no rows yet
    assert await hass.config_entries.async_unload(entry.entry_id)
