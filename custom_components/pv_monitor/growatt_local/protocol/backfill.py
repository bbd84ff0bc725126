"""Plan hourly statistics rows for a lifetime energy counter from buffered records.

Buffered records (0x50) carry the counter as it was at their own (datalogger) time, while
Home Assistant was not receiving: the datalogger could not reach it, or Home Assistant was
restarting. In those hours the recorder has either no hourly statistics row for the sensor
(Home Assistant was down) or flat rows (the sensor kept its last value), and the whole
increase lands in the hour the records came back. This module computes the rows that put
each hour's increase where it happened, keeping every later row valid:

- the *anchor* is the last existing row before the first buffered hour; every row written
  has ``sum = anchor.sum + (state - anchor.state)``, which is exactly what the recorder's own
  rows after the gap already hold (the counter never decreases), so sums stay continuous;
- the *gap* ends at the first existing row whose state differs from the anchor's (the live
  sensor moved): that hour and everything after it are never touched, so an hour covered
  live is never counted twice;
- a buffered value must lie between what the live rows before and after it allow, both
  bounds always finite by the counter's power limit (:class:`~...common.counter.CounterLimits`):
  at least the anchor's state (and the gap end's state minus what the power limit allows
  until then), at most the anchor's state plus what it allows since the anchor (and the gap
  end's state); anything else is inconsistent, ignored and counted (one bad buffered
  record during a flat night never writes a row);
- the plan is a pure function of its inputs, so importing the same records twice writes the
  same rows (the recorder's import replaces rows with the same start).

No Home Assistant import: the glue reads and writes the recorder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...common.counter import CounterLimits

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class StatisticsRow:
    """One hourly long-term statistics row.

    ``start`` is aware and on the hour; ``state`` is the counter at the end of the hour and
    ``sum`` the running sum, both in the counter's unit (kWh).
    """

    start: datetime
    state: float
    sum: float


@dataclass(frozen=True, slots=True)
class BackfillPlan:
    """Rows to import, and how many buffered hours could not be placed and why."""

    rows: tuple[StatisticsRow, ...]
    unanchored: int = 0
    """Hours before any existing row (nothing to continue from)."""
    covered: int = 0
    """Hours the live sensor already covers (or later than the gap's end)."""
    inconsistent: int = 0
    """Hours whose value lies outside the range the surrounding rows allow."""


def hour_start(moment: datetime) -> datetime:
    """The start of the hour containing the aware datetime ``moment``."""
    return moment.replace(minute=0, second=0, microsecond=0)


def hourly_totals(samples: Iterable[tuple[datetime, float]]) -> dict[datetime, float]:
    """Counter value at the end of each hour: the largest sample in it, by hour start.

    ``samples`` are ``(aware time, counter value)`` pairs in any order.
    """
    totals: dict[datetime, float] = {}
    for moment, value in samples:
        start = hour_start(moment)
        if value > totals.get(start, float("-inf")):
            totals[start] = value
    return totals


def plan_backfill(
    totals: dict[datetime, float],
    existing: Iterable[StatisticsRow],
    before: datetime,
    limits: CounterLimits,
) -> BackfillPlan:
    """Rows that fill the gap hours of ``existing`` with the buffered ``totals``.

    Args:
        totals: counter value at the end of each buffered hour (see :func:`hourly_totals`).
        existing: the recorder's hourly rows of the sensor around those hours, any order;
            they must include the row before the first buffered hour (the anchor).
        before: no row at or after this hour start is written (the current hour, which the
            recorder compiles itself).
        limits: the counter's power limit; bounds every buffered value by the rows around it.

    Returns:
        The rows to import: from the first placed buffered hour to the end of the gap, hours
        without a record carrying the previous value (flat rows after a placed record must
        rise with it, or the sums would go backwards); and counts of hours left out.
    """
    if not totals:
        return BackfillPlan(rows=())
    rows = {row.start: row for row in existing}
    first = min(totals)
    before_first = [start for start in rows if start < first]
    if not before_first:
        return BackfillPlan(rows=(), unanchored=len(totals))
    anchor = rows[max(before_first)]
    gap_end = _gap_end(rows, anchor)
    end = gap_end.start - HOUR if gap_end is not None else max(*totals, *rows)
    end = min(end, hour_start(before) - HOUR)
    bounds = _Bounds(anchor, gap_end, limits)
    out: list[StatisticsRow] = []
    covered = sum(1 for start in totals if start > end)
    inconsistent = 0
    state = anchor.state
    hour = anchor.start + HOUR
    while hour <= end:
        value = totals.get(hour)
        if value is not None and not (state <= value and bounds.allow(hour, value)):
            inconsistent += 1
            value = None
        if value is not None:
            state = value
        if out or value is not None:
            out.append(StatisticsRow(hour, state, anchor.sum + (state - anchor.state)))
        hour += HOUR
    return BackfillPlan(rows=tuple(out), covered=covered, inconsistent=inconsistent)


def _gap_end(rows: dict[datetime, StatisticsRow], anchor: StatisticsRow) -> StatisticsRow | None:
    """The first row after ``anchor`` where the live sensor moved (None: it never did)."""
    for start in sorted(s for s in rows if s > anchor.start):
        if rows[start].state != anchor.state:
            return rows[start]
    return None


@dataclass(frozen=True, slots=True)
class _Bounds:
    """What the live rows around a gap allow a buffered hour's counter to be."""

    anchor: StatisticsRow
    gap_end: StatisticsRow | None
    limits: CounterLimits

    def allow(self, hour: datetime, value: float) -> bool:
        """Whether ``value`` at the end of ``hour`` fits between the anchor and the gap end."""
        since = (hour - self.anchor.start).total_seconds()
        if (
            not self.anchor.state
            <= value
            <= self.anchor.state + self.limits.allowed_increase(since)
        ):
            return False
        if self.gap_end is None:
            return True
        until = (self.gap_end.start - hour).total_seconds()
        low = self.gap_end.state - self.limits.allowed_increase(until)
        return low <= value <= self.gap_end.state


MAX_AGE = timedelta(days=366)
"""Buffered records older than this are not imported (no datalogger buffers that long)."""
CLOCK_SLACK = timedelta(hours=1)


def plausible_record_time(
    timestamp: datetime | None, now: datetime, operating_hours: float | None = None
) -> bool:
    """Whether a record's datalogger clock can be trusted to place it in history.

    False for an unset clock (None), a time more than an hour ahead of ``now`` (e.g. the
    year 2051 of an unsynchronised ShineWiFi-X, see the go-grott capture), more than
    :data:`MAX_AGE` ago, or before the inverter existed: earlier than ``now`` minus its
    ``operating_hours`` (input registers of the same inverter) minus a day. ``timestamp``
    and ``now`` must both be naive local or both aware.
    """
    if timestamp is None:
        return False
    if timestamp > now + CLOCK_SLACK:
        return False
    earliest = now - MAX_AGE
    if operating_hours is not None and operating_hours > 0:
        earliest = max(earliest, now - timedelta(hours=operating_hours) - timedelta(days=1))
    return timestamp >= earliest
