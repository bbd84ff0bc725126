"""Import a Growatt cloud plant's daily energy history into long-term statistics.

On first set-up the plant's energy per day, up to :data:`HISTORY_DAYS` back (as far as the
cloud gives it), becomes the external statistic ``pv_monitor:growatt_cloud_<plant id>_energy``
(kWh, ``has_sum``), one hourly row per day at local midnight holding that day's energy, so
the Energy dashboard shows the time before the integration existed.

Sums are a meter reading: the row of yesterday ends at the plant's lifetime energy minus
today's energy, the value the live "Lifetime energy" sensor of the plant starts from, so the
imported history runs continuously into the live sensor. A later run (every set-up) only adds
the days after the last imported row, continuing its sum: re-running never duplicates rows
(rows are keyed by their start, and days already imported are not fetched again).

The import uses at most 1/:data:`HISTORY_BUDGET_SHARE` of the daily request budget (13
requests for a year with the ShinePhone API, one per month; the OpenAPI gives 7 days per
request, so with the default budget of 200 it reaches 350 days back). Modelled on the
solaredge integration's statistics import.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
import logging
from typing import TYPE_CHECKING

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    get_last_statistics,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import EnergyConverter

from ..const import DOMAIN
from .api.errors import GrowattCloudError
from .api.models import AuthType
from .const import HISTORY_BUDGET_SHARE, HISTORY_DAYS

if TYPE_CHECKING:
    from .coordinator import GrowattCloudCoordinator

_LOGGER = logging.getLogger(__name__)

DAYS_PER_REQUEST = {AuthType.PASSWORD: 28, AuthType.TOKEN: 7}
"""Days of history one request gives at least (a month; 7 days for the OpenAPI)."""


def statistic_id(plant_id: str) -> str:
    """External statistic id of a plant's energy: ``pv_monitor:growatt_cloud_<id>_energy``."""
    return f"{DOMAIN}:growatt_cloud_{plant_id.lower()}_energy"


def _row_start(day: date) -> datetime:
    """Start of the hourly row of ``day``: local midnight (whole hour in UTC)."""
    return dt_util.as_utc(dt_util.start_of_local_day(day)).replace(minute=0, second=0)


async def async_import_history(hass: HomeAssistant, coordinator: GrowattCloudCoordinator) -> int:
    """Import the days not yet in the statistic; return the number of rows written.

    Cloud errors are logged (once per run) and leave the import to the next set-up.
    """
    stat_id = statistic_id(coordinator.plant_id)
    last = await get_instance(hass).async_add_executor_job(
        get_last_statistics, hass, 1, stat_id, True, {"sum"}
    )
    today = dt_util.now().date()
    end = today - timedelta(days=1)
    last_sum: float | None = None
    if rows := last.get(stat_id):
        last_day = dt_util.as_local(dt_util.utc_from_timestamp(rows[0]["start"])).date()
        start = last_day + timedelta(days=1)
        last_sum = rows[0].get("sum") or 0.0
    else:
        start = today - timedelta(days=HISTORY_DAYS)
    allowance = max(1, coordinator.budget.daily_budget // HISTORY_BUDGET_SHARE)
    per_request = DAYS_PER_REQUEST[coordinator.client.auth_type]
    start = max(start, end - timedelta(days=allowance * per_request - 1))
    if start > end:
        return 0
    try:
        days = await coordinator.client.daily_energy(coordinator.plant_id, start, end)
    except GrowattCloudError as err:
        _LOGGER.warning(
            "Could not read the energy history of %s (%s); it is imported at the next start",
            coordinator.plant_name,
            err,
        )
        return 0
    ordered = sorted(day for day in days if start <= day <= end)
    if not ordered:
        return 0
    if last_sum is None:
        lifetime = coordinator.data.plant.get("energy_total")
        history = sum(days[day] for day in ordered)
        if lifetime is None:
            last_sum = 0.0
        else:
            # Yesterday's row ends where the live lifetime sensor starts.
            last_sum = max(
                0.0, lifetime - coordinator.data.plant.get("energy_today", 0.0) - history
            )
    running = last_sum
    statistics: list[StatisticData] = []
    for day in ordered:
        running = round(running + days[day], 3)
        statistics.append(StatisticData(start=_row_start(day), state=running, sum=running))
    metadata = StatisticMetaData(
        mean_type=StatisticMeanType.NONE,
        has_sum=True,
        name=f"{coordinator.plant_name} energy (Growatt cloud)",
        source=DOMAIN,
        statistic_id=stat_id,
        unit_class=EnergyConverter.UNIT_CLASS,
        unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    )
    _LOGGER.debug("Importing %s days of energy history into %s", len(statistics), stat_id)
    async_add_external_statistics(hass, metadata, statistics)
    return len(statistics)
