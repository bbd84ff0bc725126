"""Long-term statistics of energy counters: continuous across resets, and spikes found.

Two things the counter guard (:mod:`.counter`) cannot do on its own, with Home Assistant's
own recorder API:

* A confirmed reset publishes ``old -> new`` in one step. For a ``total_increasing`` sensor
  the recorder's sensor compiler (``homeassistant/components/sensor/recorder.py``,
  ``reset_detected``) starts a new cycle only when the state falls below 0.9 x the previous
  one; any other step (an upward jump, a small dip) is added to the ``sum`` as it is. So for
  such a reset :func:`async_adjust_reset` queues one ``recorder.async_adjust_statistics``
  (the task behind the websocket command ``recorder/adjust_sum_statistics`` that Developer
  tools > Statistics uses) that takes the step back out of every row from the reset's
  5-minute period on: the sum stays continuous. It runs :data:`ADJUST_DELAY` after that
  period ends, after the recorder compiled it (the recorder compiles 5-minute statistics at
  second 10 of every fifth minute, ``Recorder._async_five_minute_tasks``, and runs its queue
  in order).
* :func:`async_statistics_spikes` reads a counter's hourly statistics (in the recorder's
  executor) and lists the hours whose ``sum`` moved further than the counter's power limit
  allows: spikes an earlier version let through, for the diagnostics download. Nothing is
  rewritten: the README explains the fix with the Developer tools statistics adjuster.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import logging
from typing import Any, Final, Protocol, runtime_checkable

from homeassistant.core import HassJob, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from .counter import CounterGuard, CounterLimits

_LOGGER = logging.getLogger(__name__)

ADJUST_DELAY: Final = timedelta(seconds=60)
"""After the end of the reset's 5-minute period: the recorder compiles it at second 10."""
HA_RESET_RATIO: Final = 0.9
"""``sensor/recorder.py`` ``reset_detected``: a state below 0.9 x the previous starts a cycle."""
SPIKE_LOOKBACK: Final = timedelta(days=400)
"""How far back :func:`async_statistics_spikes` reads hourly rows (a year and a month)."""
FLOAT_SLACK: Final = 1e-6
"""Sums are floats: a change this close to the allowance is the allowance."""
SPIKES_SHOWN: Final = 20
"""Largest spikes listed per counter (the count covers all of them)."""


@callback
def sensor_statistic_id(hass: HomeAssistant, unique_id: str) -> str | None:
    """The statistic id (entity id) of this integration's sensor ``unique_id``; None if none."""
    return er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id)


def reset_adjustment(old: float, new: float) -> float:
    """The ``sum`` adjustment that cancels a confirmed reset ``old -> new`` (same unit).

    Zero when the recorder itself starts a new cycle (``new < 0.9 x old``); otherwise the
    recorder adds ``new - old`` to the sum, and this is its negative.
    """
    if new < HA_RESET_RATIO * old:
        return 0.0
    return old - new


@callback
def async_adjust_reset(
    hass: HomeAssistant, statistic_id: str | None, old: float, new: float, at: datetime, unit: str
) -> bool:
    """Take a confirmed reset ``old -> new`` (in ``unit``) at ``at`` out of the statistics.

    Once per reset (the glue calls it on :attr:`.counter.Verdict.RESET`). Nothing happens
    without a recorder, a statistic id, or when the recorder handles the step itself.
    Returns whether an adjustment was scheduled. A restart before it runs loses it (the
    repair issue and the diagnostics still say what happened).
    """
    adjustment = reset_adjustment(old, new)
    if statistic_id is None or adjustment == 0 or "recorder" not in hass.config.components:
        return False
    at = dt_util.as_utc(at)
    period = at.replace(minute=at.minute - at.minute % 5, second=0, microsecond=0)

    @callback
    def _adjust(_now: datetime) -> None:
        _LOGGER.info(
            "%s: statistics sum adjusted by %s %s from %s (counter reset %s -> %s)",
            statistic_id,
            adjustment,
            unit,
            period,
            old,
            new,
        )
        from homeassistant.helpers.recorder import get_instance  # noqa: PLC0415

        get_instance(hass).async_adjust_statistics(statistic_id, period, adjustment, unit)

    async_track_point_in_utc_time(
        hass,
        HassJob(_adjust, "pv_monitor counter reset adjustment", cancel_on_shutdown=True),
        period + timedelta(minutes=5) + ADJUST_DELAY,
    )
    return True


def hourly_spikes(
    rows: list[tuple[float, float | None]], limits: CounterLimits
) -> list[dict[str, Any]]:
    """Hours whose ``sum`` grew (or fell) further than ``limits`` allow for one hour.

    Args:
        rows: hourly ``(start timestamp, sum)`` in time order (``sum`` None: skipped).
        limits: the counter's power limit.

    Returns:
        ``{"start": ISO time, "change": sum change}`` per spike, largest first.
    """
    allowed = limits.allowed_increase(3600.0)
    spikes: list[dict[str, Any]] = []
    previous: float | None = None
    for start, total in rows:
        if total is None:
            continue
        if previous is not None and abs(total - previous) > allowed + FLOAT_SLACK:
            when = dt_util.utc_from_timestamp(start).isoformat()
            spikes.append({"start": when, "change": round(total - previous, 3)})
        previous = total
    return sorted(spikes, key=lambda spike: -abs(spike["change"]))


async def async_statistics_spikes(
    hass: HomeAssistant, counters: dict[str, CounterLimits]
) -> dict[str, Any]:
    """Spikes in the hourly statistics of ``counters`` (statistic id -> limits), last 400 days.

    Returns ``{statistic id: {"allowed_per_hour", "spikes", "shown"}}`` for the counters with
    statistics; ``{}`` without a recorder.
    """
    if not counters or "recorder" not in hass.config.components:
        return {}
    # The recorder is imported here, not with the module: kinds import this at set-up.
    from homeassistant.components.recorder.statistics import statistics_during_period  # noqa: PLC0415
    from homeassistant.helpers.recorder import get_instance  # noqa: PLC0415

    start = dt_util.utcnow() - SPIKE_LOOKBACK
    result = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, start, None, set(counters), "hour", None, {"sum"}
    )
    found: dict[str, Any] = {}
    for statistic_id, rows in result.items():
        limits = counters[statistic_id]
        spikes = hourly_spikes([(row["start"], row.get("sum")) for row in rows], limits)
        found[statistic_id] = {
            "allowed_per_hour": round(limits.allowed_increase(3600.0), 3),
            "spikes": len(spikes),
            "largest": spikes[:SPIKES_SHOWN],
        }
    return found


@runtime_checkable
class HasEnergyCounters(Protocol):
    """A kind's runtime with guarded energy counters (for the diagnostics' spike scan)."""

    def counter_guards(self) -> dict[str, CounterGuard]:
        """The guard of each counter sensor, by the sensor's unique id."""


async def async_runtime_spikes(hass: HomeAssistant, runtime: object) -> dict[str, Any]:
    """:func:`async_statistics_spikes` of a runtime's counters (``{}`` if it has none)."""
    if not isinstance(runtime, HasEnergyCounters):
        return {}
    counters: dict[str, CounterLimits] = {}
    for unique_id, guard in runtime.counter_guards().items():
        if (statistic_id := sensor_statistic_id(hass, unique_id)) is not None:
            counters[statistic_id] = guard.limits
    return await async_statistics_spikes(hass, counters)
