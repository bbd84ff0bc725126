"""Import a Growatt cloud plant's daily energy history into long-term statistics, in steps.

The plant's energy per day, up to :data:`HISTORY_DAYS` back, becomes the external statistic
``pv_monitor:growatt_cloud_<plant id>_energy`` (kWh, ``has_sum``): one hourly row per day at
local midnight whose ``sum`` is the plant's lifetime energy at the end of that day. The
newest day (yesterday at the first run) ends at the live lifetime sensor's value minus
today's energy, so the history runs continuously into the live sensor.

The APIs allow little per day, so the import is a resumable walk, newest day first:

* ShinePhone: one request per month (``PlantDetailAPI.do?type=2&date=YYYY-MM``), one
  request a minute: a year arrives in 13 requests, about a quarter of an hour.
* OpenAPI V1: 7 days per ``plant/energy`` request, at most once every 5 minutes and
  10 times a day (Growatt's documentation); we send at most 9 a rolling day, so a year (53
  requests) takes 6 days. Error 10012 postpones the next step by an hour; nothing fails.

Every step also stays within 1/:data:`HISTORY_BUDGET_SHARE` of the account's daily budget.
Progress (the oldest and newest day written and their sums) lives in the account's Store,
so the walk resumes after a restart or the next day where it stopped; rows are keyed by
their start and computed from the stored progress only, so a step repeated after a crash
writes the same rows again (no duplicates). Once the year is in, a step a day adds the
days after the newest row. Modelled on the solaredge integration's statistics import.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any, Final

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
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import EnergyConverter

from ..common.log import LogOnce
from ..const import DOMAIN
from .api.client import V1_HISTORY_DAYS
from .api.errors import GrowattCloudError, GrowattRateLimitedError
from .api.models import AuthType
from .const import HISTORY_DAYS

if TYPE_CHECKING:
    from .coordinator import GrowattCloudCoordinator

_LOGGER = logging.getLogger(__name__)

STEP_SPACING: Final = {
    AuthType.PASSWORD: timedelta(minutes=1),
    AuthType.TOKEN: timedelta(minutes=5),
}
"""Time between two history requests (V1: "once every 5 minutes", showdoc 1494061730868556)."""
RETRY_AFTER: Final = timedelta(hours=1)
"""Delay after a refused or failed history request (10012, an outage)."""
DAILY_CHECK: Final = timedelta(hours=6)
"""Delay between checks for new days once the year is in."""


def statistic_id(plant_id: str) -> str:
    """External statistic id of a plant's energy: ``pv_monitor:growatt_cloud_<id>_energy``."""
    return f"{DOMAIN}:growatt_cloud_{plant_id.lower()}_energy"


def _row_start(day: date) -> datetime:
    """Start of the hourly row of ``day``: local midnight (whole hour in UTC)."""
    return dt_util.as_utc(dt_util.start_of_local_day(day)).replace(minute=0, second=0)


def backward_chunk(auth: AuthType, oldest: date, target: date) -> tuple[date, date] | None:
    """The days of the next request before ``oldest`` (one month, or 7 days), or None."""
    end = oldest - timedelta(days=1)
    if end < target:
        return None
    start = end.replace(day=1) if auth is AuthType.PASSWORD else end - timedelta(days=6)
    return max(start, target), end


def forward_chunk(auth: AuthType, newest: date, yesterday: date) -> tuple[date, date] | None:
    """The days of the next request after ``newest`` up to ``yesterday``, or None."""
    start = newest + timedelta(days=1)
    if start > yesterday:
        return None
    if auth is AuthType.PASSWORD:
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    else:
        end = start + timedelta(days=V1_HISTORY_DAYS - 1)
    return start, min(end, yesterday)


class HistoryImporter:
    """The resumable history import of one plant (see the module docstring)."""

    def __init__(
        self, hass: HomeAssistant, coordinator: GrowattCloudCoordinator, plant_id: str
    ) -> None:
        """Attach to the plant's stored progress (created at the first step)."""
        self.hass = hass
        self.coordinator = coordinator
        self.plant_id = plant_id
        self._unsub: CALLBACK_TYPE | None = None
        self._failure = LogOnce(_LOGGER)
        self.statistic_id = statistic_id(plant_id)

    @property
    def state(self) -> dict[str, Any]:
        """The stored progress of the plant's import.

        Keys: ``newest``/``newest_sum``, ``oldest``/``oldest_sum`` (the sum at the start of
        ``oldest``), ``target``, ``complete``, ``rows``, ``refused``.
        """
        plant = self.coordinator.account.plants.setdefault(self.plant_id, {})
        history: dict[str, Any] = plant.setdefault("history", {})
        return history

    @property
    def done(self) -> bool:
        """The year (or all the cloud has) is imported."""
        return bool(self.state.get("complete"))

    @property
    def progress(self) -> float:
        """Percentage of the days back to the target that are imported."""
        state = self.state
        if state.get("complete"):
            return 100.0
        if not state.get("oldest") or not state.get("target") or not state.get("newest"):
            return 0.0
        newest = date.fromisoformat(state["newest"])
        span = (newest - date.fromisoformat(state["target"])).days + 1
        have = (newest - date.fromisoformat(state["oldest"])).days + 1
        return round(100.0 * have / max(1, span), 1)

    def diagnostics(self) -> dict[str, Any]:
        """Progress for the diagnostics download."""
        return {**self.state, "progress": self.progress, "statistic_id": self.statistic_id}

    # -- scheduling -----------------------------------------------------------------------
    @callback
    def async_schedule(self, delay: timedelta) -> None:
        """Run the next step after ``delay`` (replacing any step already planned)."""
        self.async_cancel()
        self._unsub = async_call_later(self.hass, delay, self._async_fire)

    @callback
    def async_cancel(self) -> None:
        """Cancel the planned step."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    @callback
    def _async_fire(self, _now: datetime) -> None:
        self._unsub = None
        self.coordinator.config_entry.async_create_background_task(
            self.hass, self.async_step(), f"{DOMAIN} growatt cloud history {self.plant_id}"
        )

    # -- one step -------------------------------------------------------------------------
    async def async_step(self) -> int:
        """Send at most one history request, write its rows, plan the next step.

        Returns the number of rows written.
        """
        account = self.coordinator.account
        auth = account.client.auth_type
        now = dt_util.utcnow()
        if not await self._async_ready():
            self.async_schedule(STEP_SPACING[auth])
            return 0
        if account.history_left(now) <= 0 or account.budget.remaining(now) <= 0:
            self.async_schedule(self._until_room(now))
            return 0
        if (wait := self._spacing_left(now)) > timedelta(0):
            # Another plant of the account asked just now: the limit is the account's.
            self.async_schedule(wait)
            return 0
        chunk, backward = self._next_chunk(auth)
        if chunk is None:
            self.async_schedule(DAILY_CHECK)
            return 0
        try:
            days = await account.client.daily_energy(self.plant_id, *chunk)
        except GrowattCloudError as err:
            self.state["refused"] = int(self.state.get("refused", 0)) + 1
            self._failure.problem(
                "Energy history of plant %s: %s; the import continues later",
                self.plant_id,
                err if isinstance(err, GrowattRateLimitedError) else f"request failed ({err})",
            )
            account.changed()
            self.async_schedule(RETRY_AFTER)
            return 0
        self._failure.recovered("Energy history of plant %s: requests answered", self.plant_id)
        written = self._write(chunk, days, backward)
        account.changed()
        self.coordinator.async_update_listeners()
        self.async_schedule(STEP_SPACING[auth])
        return written

    def _spacing_left(self, now: datetime) -> timedelta:
        """Time until the account's last history request is :data:`STEP_SPACING` old."""
        account = self.coordinator.account
        if not (times := account.history_calls.times()):
            return timedelta(0)
        last = datetime.fromtimestamp(times[-1], now.tzinfo)
        return last + STEP_SPACING[account.client.auth_type] - now

    def _until_room(self, now: datetime) -> timedelta:
        """Time until the oldest history request (or request) leaves the 24-hour window."""
        account = self.coordinator.account
        times = account.history_calls.times() or account.budget.times()
        if not times:
            return RETRY_AFTER
        free = datetime.fromtimestamp(times[0], now.tzinfo) + timedelta(hours=24) - now
        return max(STEP_SPACING[account.client.auth_type], free + timedelta(seconds=1))

    async def _async_ready(self) -> bool:
        """Set up the progress on the first step: from existing rows, or from the live sensor.

        Returns False while the plant's lifetime energy is not known yet.
        """
        state = self.state
        if state.get("newest"):
            return True
        last = await get_instance(self.hass).async_add_executor_job(
            get_last_statistics, self.hass, 1, self.statistic_id, True, {"sum"}
        )
        today = dt_util.now().date()
        if rows := last.get(self.statistic_id):
            # Imported by an earlier version: keep its rows and only add the days after.
            newest = dt_util.as_local(dt_util.utc_from_timestamp(rows[0]["start"])).date()
            state.update(
                newest=newest.isoformat(),
                newest_sum=float(rows[0].get("sum") or 0.0),
                oldest=newest.isoformat(),
                complete=True,
            )
            return True
        plant = self.coordinator.data.plants.get(self.plant_id, {})
        if "energy_total" not in plant:
            return False
        yesterday = today - timedelta(days=1)
        end_sum = round(max(0.0, plant["energy_total"] - plant.get("energy_today", 0.0)), 3)
        state.update(
            newest=yesterday.isoformat(),
            newest_sum=end_sum,
            oldest=today.isoformat(),
            oldest_sum=end_sum,
            target=(today - timedelta(days=HISTORY_DAYS)).isoformat(),
            rows=0,
        )
        return True

    def _next_chunk(self, auth: AuthType) -> tuple[tuple[date, date] | None, bool]:
        """The next request's days and whether it goes back (True) or forward (False)."""
        state = self.state
        if not state.get("complete"):
            chunk = backward_chunk(
                auth, date.fromisoformat(state["oldest"]), date.fromisoformat(state["target"])
            )
            if chunk is not None:
                return chunk, True
            self._complete()
        yesterday = dt_util.now().date() - timedelta(days=1)
        return forward_chunk(auth, date.fromisoformat(state["newest"]), yesterday), False

    def _complete(self) -> None:
        state = self.state
        state["complete"] = True
        _LOGGER.info(
            "Energy history of plant %s imported: %s days from %s into %s",
            self.plant_id,
            state.get("rows", 0),
            state.get("oldest"),
            self.statistic_id,
        )

    def _write(self, chunk: tuple[date, date], days: dict[date, float], backward: bool) -> int:
        """Write the rows of ``chunk`` and move the progress; an empty old chunk ends it."""
        state = self.state
        start, end = chunk
        known = {day: energy for day, energy in days.items() if start <= day <= end}
        if backward and not known:
            # Nothing older in the cloud: the plant's history starts after this chunk.
            self._complete()
            return 0
        span = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        rows: list[StatisticData] = []
        if backward:
            running = float(state["oldest_sum"])
            for day in reversed(span):
                rows.append(StatisticData(start=_row_start(day), state=running, sum=running))
                running = round(running - known.get(day, 0.0), 3)
            state.update(oldest=start.isoformat(), oldest_sum=running)
        else:
            running = float(state["newest_sum"])
            for day in span:
                running = round(running + known.get(day, 0.0), 3)
                rows.append(StatisticData(start=_row_start(day), state=running, sum=running))
            state.update(newest=end.isoformat(), newest_sum=running)
        rows.sort(key=lambda row: row["start"])
        async_add_external_statistics(self.hass, self._metadata(), rows)
        state["rows"] = int(state.get("rows", 0)) + len(rows)
        return len(rows)

    def _metadata(self) -> StatisticMetaData:
        name = self.coordinator.plants.get(self.plant_id, self.plant_id)
        return StatisticMetaData(
            mean_type=StatisticMeanType.NONE,
            has_sum=True,
            name=f"{name} energy (Growatt cloud)",
            source=DOMAIN,
            statistic_id=self.statistic_id,
            unit_class=EnergyConverter.UNIT_CLASS,
            unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        )
