"""Backfill of buffered Growatt records into the recorder's long-term statistics.

The plan (which hours, which state and sum) is :mod:`.protocol.backfill`'s; this module
reads the sensor's existing hourly rows and imports the planned ones with the recorder's
statistics import API (``source`` "recorder", the sensor's own statistic id, so the Energy
dashboard shows the hours where they happened).
"""

from __future__ import annotations

from datetime import datetime, timedelta
import logging

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_import_statistics,
    statistics_during_period,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import EnergyConverter

from ..common.counter import CounterLimits
from .protocol.backfill import BackfillPlan, StatisticsRow, hourly_totals, plan_backfill

_LOGGER = logging.getLogger(__name__)

LOOKBACK = timedelta(days=31)
"""How far before the first buffered hour the anchor row is looked for."""


async def _async_hourly_rows(
    hass: HomeAssistant, statistic_id: str, start: datetime
) -> list[StatisticsRow]:
    """The recorder's hourly ``state``/``sum`` rows of ``statistic_id`` from ``start`` on."""
    result = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        start,
        None,
        {statistic_id},
        "hour",
        None,
        {"state", "sum"},
    )
    return [
        StatisticsRow(
            start=dt_util.utc_from_timestamp(row["start"]),
            state=float(row["state"] or 0.0),
            sum=float(row["sum"] or 0.0),
        )
        for row in result.get(statistic_id, [])
    ]


async def async_backfill_counter(
    hass: HomeAssistant,
    statistic_id: str,
    samples: list[tuple[datetime, float]],
    limits: CounterLimits,
) -> BackfillPlan:
    """Import the hours of a lifetime energy sensor (kWh) that ``samples`` cover.

    Args:
        hass: the Home Assistant instance (its recorder must be loaded).
        statistic_id: the sensor's entity id (its long-term statistics id).
        samples: ``(aware time, counter value in kWh)`` from buffered records.
        limits: the counter's power limit (the live guard's): a buffered hour further from
            the live rows around it than this allows is never written.

    Returns:
        The plan that was imported (its rows, and the hours left out and why).
    """
    totals = hourly_totals(samples)
    if not totals:
        return BackfillPlan(rows=())
    existing = await _async_hourly_rows(hass, statistic_id, min(totals) - LOOKBACK)
    plan = plan_backfill(totals, existing, dt_util.utcnow(), limits)
    if plan.rows:
        metadata = StatisticMetaData(
            mean_type=StatisticMeanType.NONE,
            has_sum=True,
            name=None,
            source="recorder",
            statistic_id=statistic_id,
            unit_class=EnergyConverter.UNIT_CLASS,
            unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        )
        async_import_statistics(
            hass,
            metadata,
            [StatisticData(start=row.start, state=row.state, sum=row.sum) for row in plan.rows],
        )
    _LOGGER.debug(
        "Backfill of %s: %d rows, %d hours covered live, %d inconsistent, %d unanchored",
        statistic_id,
        len(plan.rows),
        plan.covered,
        plan.inconsistent,
        plan.unanchored,
    )
    return plan
