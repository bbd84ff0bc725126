"""Anomaly detection on measured versus expected PV power, pure Python.

Fed with samples ``(time, measured W, expected W)``; the expected power is the model given
the current weather (or the measured plane-of-array irradiance). A sample is *assessable*
only while the expected power is meaningful: at least :data:`MEANINGFUL_SHARE` of the DC
rating. That excludes night, dawn, dusk and heavy overcast, where model and meter disagree
by large ratios on small numbers. Non-assessable time pauses the detectors; it neither
counts nor clears.

- underperformance: measured / expected below ``threshold`` (default 0.8) for at least
  ``min_duration`` (default 1 h) of assessable time in a row; severity ``warning``.
- no production: measured at most :data:`NO_PRODUCTION_SHARE` of the expected power for at
  least ``no_production_duration`` (default 30 min) of assessable time; severity ``error``.

An assessable sample outside the condition clears the anomaly (and resets its clock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

MEANINGFUL_SHARE: Final = 0.1
"""Expected power below 10 % of the DC rating (100 W/kWp) is not assessed."""
NO_PRODUCTION_SHARE: Final = 0.02
"""Measured power at most 2 % of expected counts as no production (standby draw, noise)."""
DEFAULT_THRESHOLD: Final = 0.8
DEFAULT_MIN_DURATION: Final = timedelta(hours=1)
DEFAULT_NO_PRODUCTION_DURATION: Final = timedelta(minutes=30)
MAX_SAMPLE_GAP: Final = timedelta(minutes=15)
"""A sample never stands for more than this much time (gaps in the data do not count)."""


class AnomalyType(StrEnum):
    """Kind of anomaly."""

    UNDERPERFORMANCE = "underperformance"
    NO_PRODUCTION = "no_production"


SEVERITY: Final[dict[AnomalyType, str]] = {
    AnomalyType.UNDERPERFORMANCE: "warning",
    AnomalyType.NO_PRODUCTION: "error",
}


@dataclass(frozen=True, slots=True)
class AnomalyEvent:
    """An anomaly starting (``active``) or ending, with its figures.

    ``duration`` assessable time in the condition; ``measured_wh``/``expected_wh`` energies
    over that time; ``ratio`` their quotient (None when nothing was expected).
    """

    type: AnomalyType
    active: bool
    time: datetime
    duration: timedelta
    measured_wh: float
    expected_wh: float

    @property
    def severity(self) -> str:
        """``warning`` or ``error``."""
        return SEVERITY[self.type]

    @property
    def ratio(self) -> float | None:
        """Measured over expected energy during the anomaly."""
        return self.measured_wh / self.expected_wh if self.expected_wh > 0 else None

    def as_dict(self) -> dict[str, Any]:
        """Event data for ``pv_monitor_anomaly`` and the repair issue."""
        ratio = self.ratio
        return {
            "type": self.type.value,
            "severity": self.severity,
            "active": self.active,
            "duration_minutes": round(self.duration.total_seconds() / 60, 1),
            "measured_kwh": round(self.measured_wh / 1000, 3),
            "expected_kwh": round(self.expected_wh / 1000, 3),
            "ratio": None if ratio is None else round(ratio, 3),
        }


@dataclass(slots=True)
class _Track:
    duration: timedelta = timedelta(0)
    measured_wh: float = 0.0
    expected_wh: float = 0.0
    active: bool = False

    def reset(self) -> None:
        self.duration = timedelta(0)
        self.measured_wh = 0.0
        self.expected_wh = 0.0
        self.active = False


@dataclass(slots=True)
class AnomalyDetector:
    """Stateful detector for one PV system of ``kwp`` kWp (see the module docstring)."""

    kwp: float
    threshold: float = DEFAULT_THRESHOLD
    min_duration: timedelta = DEFAULT_MIN_DURATION
    no_production_duration: timedelta = DEFAULT_NO_PRODUCTION_DURATION
    _last: datetime | None = None
    _tracks: dict[AnomalyType, _Track] = field(
        default_factory=lambda: {kind: _Track() for kind in AnomalyType}
    )

    def active(self, kind: AnomalyType) -> bool:
        """Whether an anomaly of ``kind`` is active."""
        return self._tracks[kind].active

    def figures(self, kind: AnomalyType) -> dict[str, Any]:
        """The current figures of ``kind`` (for entity attributes)."""
        track = self._tracks[kind]
        return AnomalyEvent(
            kind,
            track.active,
            self._last or datetime.min,
            track.duration,
            track.measured_wh,
            track.expected_wh,
        ).as_dict()

    def assessable(self, expected_w: float | None) -> bool:
        """Whether an expected power is meaningful enough to judge the measurement."""
        return expected_w is not None and expected_w >= MEANINGFUL_SHARE * self.kwp * 1000

    def update(
        self, when: datetime, measured_w: float | None, expected_w: float | None
    ) -> list[AnomalyEvent]:
        """Add a sample at ``when``; return the anomalies that started or ended."""
        last, self._last = self._last, when
        if last is None or when <= last:
            return []
        if measured_w is None or expected_w is None or not self.assessable(expected_w):
            return []
        step = min(when - last, MAX_SAMPLE_GAP)
        hours = step.total_seconds() / 3600
        conditions = {
            AnomalyType.UNDERPERFORMANCE: measured_w < self.threshold * expected_w,
            AnomalyType.NO_PRODUCTION: measured_w <= NO_PRODUCTION_SHARE * expected_w,
        }
        limits = {
            AnomalyType.UNDERPERFORMANCE: self.min_duration,
            AnomalyType.NO_PRODUCTION: self.no_production_duration,
        }
        events: list[AnomalyEvent] = []
        for kind, condition in conditions.items():
            track = self._tracks[kind]
            if condition:
                track.duration += step
                track.measured_wh += max(measured_w, 0.0) * hours
                track.expected_wh += expected_w * hours
                if not track.active and track.duration >= limits[kind]:
                    track.active = True
                    events.append(self._event(kind, True, when))
            else:
                if track.active:
                    events.append(self._event(kind, False, when))
                track.reset()
        return events

    def _event(self, kind: AnomalyType, active: bool, when: datetime) -> AnomalyEvent:
        track = self._tracks[kind]
        return AnomalyEvent(
            kind, active, when, track.duration, track.measured_wh, track.expected_wh
        )
