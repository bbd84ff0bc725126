"""Rolling 24-hour request budget: count requests, choose a poll interval that stays inside it.

Growatt locks accounts that send roughly 200 requests a day (ShinePhone login ``msg`` 507;
Home Assistant core issues #152145, #158531, #176831), so every request is recorded here and
the poll interval is stretched *before* the budget runs out:

* steady state: polls that cost ``cost`` requests each are spaced at least
  ``24 h * cost / usable`` apart, so a whole day of polls fits the budget;
* when the window already holds many requests (a restart, a history import, re-logins) the
  next poll waits until enough old requests have left the window.

``usable`` is the budget minus a reserve of 10 % (at least 2) kept for re-logins. The
timestamps are plain data (:meth:`RequestBudget.times`, :meth:`RequestBudget.load`), so the
glue persists them and the 24-hour count survives restarts.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Final

WINDOW: Final = timedelta(hours=24)
RESERVE_FRACTION: Final = 0.1


class RequestBudget:
    """Timestamps of the requests of the last 24 hours and the budget they must fit."""

    def __init__(self, daily_budget: int) -> None:
        """``daily_budget``: requests allowed per rolling 24 hours."""
        self.daily_budget = daily_budget
        self._times: deque[datetime] = deque()

    @property
    def usable(self) -> int:
        """Requests available to polls: the budget minus the re-login reserve."""
        reserve = max(2, int(self.daily_budget * RESERVE_FRACTION))
        return max(1, self.daily_budget - reserve)

    def times(self) -> list[float]:
        """The recorded request times as POSIX timestamps (oldest first), to persist."""
        return [when.timestamp() for when in self._times]

    def load(self, timestamps: object) -> None:
        """Add persisted request times (:meth:`times`); anything not a number is skipped."""
        if not isinstance(timestamps, list):
            return
        loaded = [
            datetime.fromtimestamp(value, UTC)
            for value in timestamps
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        ]
        self._times = deque(sorted([*self._times, *loaded]))

    def record(self, when: datetime) -> None:
        """Record one request sent at ``when`` (timezone-aware, not earlier than the last)."""
        self._times.append(when)

    def count(self, now: datetime) -> int:
        """Requests sent in the 24 hours before ``now``."""
        while self._times and self._times[0] <= now - WINDOW:
            self._times.popleft()
        return len(self._times)

    def remaining(self, now: datetime) -> int:
        """Requests still available to polls in the current window (never negative)."""
        return max(0, self.usable - self.count(now))

    def interval(self, base: timedelta, cost: int, now: datetime, reserved: int = 0) -> timedelta:
        """Delay before the next poll of ``cost`` requests.

        At least ``base``, long enough for a day of such polls to fit the budget less
        ``reserved`` requests (kept for the history import), and long enough for the window
        to have room for the next poll.
        """
        cost = max(1, cost)
        usable = max(1, self.usable - max(0, reserved))
        delay = max(base, WINDOW * cost / usable)
        excess = self.count(now) + reserved + cost - self.usable
        if excess > 0 and self._times:
            # The window must first lose its ``excess`` oldest requests.
            index = min(excess, len(self._times)) - 1
            delay = max(delay, self._times[index] + WINDOW - now)
        return delay
