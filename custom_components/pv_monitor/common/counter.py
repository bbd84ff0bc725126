"""The lifetime-counter rule every energy counter of every kind goes through (pure).

An energy counter (kWh, lifetime or daily) from a datalogger, a cloud API or a meter is
trusted only as far as physics allows: since the last accepted reading it can have grown
by at most ``max_power_kw x elapsed hours x margin + resolution``. A reading that goes
backwards or jumps further is not published; it is held as a *candidate*. Candidates that
keep confirming each other (``confirmations`` readings, each a plausible step from the one
before, spanning ``confirm_seconds`` and moving forward) become the new baseline: a
*reset* (a meter swap, an inverter replacement, a restored value that was wrong). A lone
spike, a stuck garbage value and a night of zeros never confirm, so they are only counted.

No Home Assistant import: the glue feeds readings with their time (seconds, any epoch),
publishes :attr:`CounterGuard.value`, logs once per :class:`Verdict` change and raises a
repair issue on :attr:`Verdict.RESET`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
import math
from typing import Any, Final

METER_MAX_POWER_KW: Final = 3 * 63 * 230 / 1000
"""Largest power through a household grid connection: 3 phases x 63 A x 230 V = 43.5 kW
(the largest common residential main fuse in NL/BE/DE; an option of the DSMR kind)."""


class Verdict(StrEnum):
    """What :meth:`CounterGuard.offer` did with a reading."""

    ACCEPTED = "accepted"
    """Plausible: it is the counter's new value."""
    UNCHANGED = "unchanged"
    """A decrease that stays above the last confirmed value (rounding jitter, or the real
    series behind a plausible outlier it accepted): the value stays until it is passed."""
    HELD = "held"
    """Backwards or an impossible jump: kept as a candidate, not published."""
    RESET = "reset"
    """Candidates confirmed a new baseline (meter swap, inverter replacement)."""
    REJECTED = "rejected"
    """Negative, NaN or infinite: never a counter value."""
    DAY_STARTED = "day_started"
    """A daily counter started a new day (it may go back to 0 once a day)."""


@dataclass(frozen=True, slots=True)
class CounterLimits:
    """How fast a counter can physically grow, and what confirms a reset.

    Attributes:
        max_power_kw: largest power (kW) behind the counter: an inverter's nominal power,
            a grid connection's limit (:data:`METER_MAX_POWER_KW`).
        margin: factor on ``max_power_kw`` for clock skew and rated-power overshoot.
        resolution: the counter's step (kWh); added to every allowance and the size of a
            decrease that counts as jitter.
        confirmations: readings in a row that a candidate needs to become the baseline.
        confirm_seconds: and the time they must span.
        daily: a daily counter (energy today), which may restart from 0 once a day.
    """

    max_power_kw: float
    margin: float = 1.5
    resolution: float = 0.1
    confirmations: int = 3
    confirm_seconds: float = 600.0
    daily: bool = False

    def allowed_increase(self, elapsed_s: float) -> float:
        """Largest plausible increase (kWh) over ``elapsed_s`` seconds (never below 0 s)."""
        return self.max_power_kw * max(elapsed_s, 0.0) / 3600.0 * self.margin + self.resolution


@dataclass(slots=True)
class CounterGuard:
    """The published value of one energy counter and what it refused.

    Attributes:
        limits: the counter's :class:`CounterLimits`.
        value: last accepted value (kWh), ``None`` before the first one.
        at: time of ``value`` (seconds).
        floor: the accepted value before ``value``, which ``value`` confirmed by not being
            lower; readings between it and ``value`` leave ``value`` unchanged.
        day: the day ``value`` belongs to (daily counters; any comparable key).
        candidates: readings ``(value, at)`` held since the last accepted one.
        dropped: readings not published (held or rejected), since start.
        resets: confirmed resets, since start.
        last_reset: ``(old value, new value)`` of the latest reset.
    """

    limits: CounterLimits
    value: float | None = None
    at: float | None = None
    floor: float | None = None
    day: Any = None
    candidates: list[tuple[float, float]] = field(default_factory=list)
    dropped: int = 0
    resets: int = 0
    last_reset: tuple[float, float] | None = None

    def restore(self, value: float, at: float, day: Any = None) -> None:
        """Start from a value published before a restart (it is trusted as the baseline)."""
        if math.isfinite(value) and value >= 0:
            self.value, self.at, self.day, self.floor = value, at, day, value

    def offer(self, value: float, at: float, day: Any = None) -> Verdict:
        """Judge a new reading ``value`` (kWh) taken at ``at`` (seconds), of day ``day``.

        Returns the :class:`Verdict`; :attr:`value` is what to publish afterwards.
        """
        if not math.isfinite(value) or value < 0:
            self.dropped += 1
            return Verdict.REJECTED
        if self.value is None or self.at is None:
            self._accept(value, at, day)
            return Verdict.ACCEPTED
        limits = self.limits
        if limits.daily and day != self.day and value <= limits.allowed_increase(at - self.at):
            self._accept(value, at, day, reset=True)
            return Verdict.DAY_STARTED
        delta = value - self.value
        if 0 <= delta <= limits.allowed_increase(at - self.at):
            self._accept(value, at, day)
            return Verdict.ACCEPTED
        floor = self.value if self.floor is None else self.floor
        if delta < 0 and value >= floor - limits.resolution:
            return Verdict.UNCHANGED
        return self._hold(value, at, day)

    def _accept(self, value: float, at: float, day: Any, *, reset: bool = False) -> None:
        previous = self.value
        self.floor = previous if previous is not None and value >= previous and not reset else value
        self.value, self.at, self.day = value, at, day
        self.candidates.clear()

    def _hold(self, value: float, at: float, day: Any) -> Verdict:
        """Add a candidate; confirm it as a reset when the chain is long and moving."""
        limits = self.limits
        chain = self.candidates
        if chain:
            last_value, last_at = chain[-1]
            step = value - last_value
            if not (-limits.resolution <= step <= limits.allowed_increase(at - last_at)):
                chain.clear()
        chain.append((value, at))
        first_value, first_at = chain[0]
        if (
            len(chain) >= limits.confirmations
            and at - first_at >= limits.confirm_seconds
            and value - first_value >= limits.resolution
        ):
            old = self.value if self.value is not None else 0.0
            self.resets += 1
            self.last_reset = (old, value)
            self._accept(value, at, day, reset=True)
            return Verdict.RESET
        self.dropped += 1
        return Verdict.HELD

    def diagnostics(self) -> dict[str, Any]:
        """Plain data for the diagnostics download."""
        return {
            "value": self.value,
            "held_candidates": [value for value, _ in self.candidates],
            "dropped": self.dropped,
            "resets": self.resets,
            "last_reset": list(self.last_reset) if self.last_reset else None,
        }
