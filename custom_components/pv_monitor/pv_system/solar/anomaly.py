"""Anomaly detection that judges only when the judgement is sound; pure Python.

Fed every few minutes with a :class:`Sample`: measured power, the model's expected power
(with the weather forecast, or rescaled by a measured plane-of-array irradiance), the
clear-sky power, the solar elevation and, when the arrays have their own power sensors, the
power of every string / inverter (:class:`StringReading`).

Nothing is judged below :data:`MIN_ELEVATION` degrees of solar elevation (at zenith 86 deg
Erbs turns a little GHI into a large DNI, and horizon shading dominates) or while the
expected power is under :data:`MEANINGFUL_SHARE` of the DC rating. A sample that is not
judged neither counts nor clears. Three detectors:

1. **String comparison** (first, needs no weather): strings with the same orientation
   (``group``) are compared per kWp; a string below ``string_threshold`` x the median of its
   peers for :data:`STRING_DURATION` of daylight is ``string_underperformance``.
2. **Against the model**, only while its uncertainty is low, ``underperformance``:
   - *measured irradiance*: the expected power was rescaled by a plane-of-array sensor;
     threshold ``threshold``;
   - *clear sky*: the weather forecast says clear (forecast clear-sky index
     ``expected / clear_sky`` >= :data:`CLEAR_SKY_INDEX`) and the measured power has the
     shape of clear sky: its ratio to the clear-sky power varies by at most
     :data:`STABILITY` over :data:`STABILITY_WINDOW` (the scale-free shape criterion of
     Reno and Hansen 2016, "Identification of periods of clear sky irradiance in time series
     of GHI measurements", Renewable Energy 90, 520-531, which ``pvlib.clearsky.
     detect_clearsky`` implements), at a sun position the learned correction has seen; the
     threshold widens by :data:`CLEAR_SKY_MARGIN`. Every measured / expected ratio of the
     window must be below it. After a **step** (the window before was all at or above the
     threshold plus :data:`HYSTERESIS`: a loss that starts on a clear day is a step in a
     smooth curve) the window itself is the evidence, and its shape may vary by
     :data:`STEP_STABILITY`; without one (a darkening the forecast missed looks the same)
     the condition must hold :data:`MODEL_DURATION` more. It is judged absent only on a
     smooth window all above the threshold plus :data:`HYSTERESIS`, never on a bright
     moment between clouds.
   With a POA sensor the condition must hold for :data:`MODEL_DURATION` of judged time.
3. **No production**: measured at most :data:`NO_PRODUCTION_SHARE` of the expected power for
   :data:`NO_PRODUCTION_DURATION`, or :data:`UNCERTAIN_NO_PRODUCTION_DURATION` when neither
   a POA sensor nor a forecast of light (clear-sky index >= :data:`CLEAR_SKY_INDEX`) backs it.

An active anomaly clears after :data:`CLEAR_DURATION` of judged samples outside its
condition (with :data:`HYSTERESIS`), and at sunset (elevation below 0 deg): a new day judges
afresh. A repair issue is due (:meth:`AnomalyDetector.issues`) once an anomaly was active for
``repair_share`` of the day's daylight; it stays past sunset and goes once the condition was
judged absent for :data:`CLEAR_DURATION`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import math
from statistics import median
from typing import Any, Final

MIN_ELEVATION: Final = 10.0
"""Degrees of solar elevation below which nothing is judged."""
MEANINGFUL_SHARE: Final = 0.1
"""Expected power below 10 % of the DC rating (100 W/kWp) is not judged against the model."""
MAX_SAMPLE_GAP: Final = timedelta(minutes=15)
"""A sample never stands for more than this much time (gaps in the data do not count)."""
DEFAULT_THRESHOLD: Final = 0.8
"""Measured / expected (or / the peers' median for strings) below which is underperformance."""
HYSTERESIS: Final = 0.05
"""A condition is clearly absent only this far above its threshold."""
CLEAR_DURATION: Final = timedelta(minutes=15)
"""An active anomaly ends after this much judged time clearly outside its condition."""
STRING_MIN_SHARE: Final = 0.05
"""Peers producing under 50 W/kWp are not compared (noise and offsets dominate)."""
STRING_DURATION: Final = timedelta(hours=1)
MODEL_DURATION: Final = timedelta(minutes=20)
CLEAR_SKY_INDEX: Final = 0.7
"""Forecast clear-sky index from which the forecast counts as clear (a forecast of light)."""
CLEAR_SKY_MARGIN: Final = 0.1
"""The threshold widens by this much when judged on clear sky rather than on a POA sensor."""
STABILITY_WINDOW: Final = timedelta(minutes=30)
STABILITY: Final = 0.1
"""Largest relative spread of measured / clear-sky power over the window for clear sky."""
STEP_STABILITY: Final = 0.15
"""Largest relative spread of measured / clear-sky power over the window after a step."""
NO_PRODUCTION_SHARE: Final = 0.02
"""Measured power at most 2 % of expected counts as no production (standby draw, noise)."""
NO_PRODUCTION_DURATION: Final = timedelta(minutes=45)
UNCERTAIN_NO_PRODUCTION_DURATION: Final = timedelta(hours=1)
"""No production must last this long without a POA sensor or a forecast of at least
:data:`CLEAR_SKY_INDEX` (a thunderstorm can darken the sky to a few W/m2 for half an hour)."""
DEFAULT_REPAIR_SHARE: Final = 0.1
"""Share of the day's daylight an anomaly must last before a repair issue is raised."""


def _spread(values: Sequence[float]) -> float:
    """(max - min) / mean of ``values`` (inf when the mean is not positive)."""
    mean = sum(values) / len(values)
    return (max(values) - min(values)) / mean if mean > 0 else math.inf


class AnomalyType(StrEnum):
    """Kind of anomaly."""

    UNDERPERFORMANCE = "underperformance"
    NO_PRODUCTION = "no_production"
    STRING_UNDERPERFORMANCE = "string_underperformance"


class Basis(StrEnum):
    """What a judgement was made against."""

    PEERS = "peers"
    MEASURED_IRRADIANCE = "measured_irradiance"
    CLEAR_SKY = "clear_sky"
    MODEL = "model"


SEVERITY: Final[dict[AnomalyType, str]] = {
    AnomalyType.UNDERPERFORMANCE: "warning",
    AnomalyType.NO_PRODUCTION: "error",
    AnomalyType.STRING_UNDERPERFORMANCE: "warning",
}


@dataclass(frozen=True, slots=True)
class StringReading:
    """Power (W, None = unknown) of one string or inverter of ``kwp`` kWp in ``group``.

    Strings of one ``group`` share their orientation (tilt and azimuth) and are peers.
    """

    name: str
    group: str
    power_w: float | None
    kwp: float


@dataclass(frozen=True, slots=True)
class Sample:
    """One observation at ``when`` (aware).

    ``measured_w`` and ``expected_w`` total AC power (W); ``clear_sky_w`` the model at clear
    sky; ``forecast_csi`` ``expected / clear sky`` of a step that had a weather forecast
    (None without one); ``poa_measured`` whether ``expected_w`` was rescaled by a measured
    plane-of-array irradiance; ``daylight_hours`` today's time above :data:`MIN_ELEVATION`;
    ``model_trusted`` False where the learned correction never saw the sun's position (then
    the model is not judged on clear sky).
    """

    when: datetime
    measured_w: float | None
    expected_w: float | None
    elevation_deg: float | None
    clear_sky_w: float | None = None
    forecast_csi: float | None = None
    poa_measured: bool = False
    daylight_hours: float = 12.0
    strings: Sequence[StringReading] = ()
    model_trusted: bool = True


@dataclass(frozen=True, slots=True)
class AnomalyEvent:
    """An anomaly starting (``active``) or ending, with its figures.

    ``duration`` judged time in the condition; ``measured_wh``/``expected_wh`` energies over
    that time (for strings: per kWp x the string's kWp against its peers); ``subject`` the
    string's name for string anomalies; ``reason`` why it ended (``recovered``, ``sunset``).
    """

    type: AnomalyType
    active: bool
    time: datetime
    duration: timedelta
    measured_wh: float
    expected_wh: float
    basis: Basis = Basis.MODEL
    subject: str | None = None
    reason: str | None = None
    share_of_daylight: float = 0.0

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
            "basis": self.basis.value,
            "string": self.subject,
            "reason": self.reason,
            "share_of_daylight": round(self.share_of_daylight, 3),
        }


@dataclass(slots=True)
class _Track:
    """State of one anomaly type (and string)."""

    duration: timedelta = timedelta(0)
    clear: timedelta = timedelta(0)
    active_time: timedelta = timedelta(0)
    measured_wh: float = 0.0
    expected_wh: float = 0.0
    active: bool = False
    issue: bool = False
    basis: Basis = Basis.MODEL
    daylight_hours: float = 12.0

    def restart(self) -> None:
        """Forget the running condition (keeps the repair issue flag)."""
        self.duration = timedelta(0)
        self.clear = timedelta(0)
        self.active_time = timedelta(0)
        self.measured_wh = 0.0
        self.expected_wh = 0.0
        self.active = False


type _Key = tuple[AnomalyType, str | None]
type _Judgement = tuple[bool, bool, float, float, Basis, timedelta]
"""(in condition, clearly out of it, measured W, expected W, basis, duration to activate)."""


@dataclass(slots=True)
class AnomalyDetector:
    """Stateful detector for one PV system of ``kwp`` kWp (see the module docstring)."""

    kwp: float
    threshold: float = DEFAULT_THRESHOLD
    string_threshold: float = DEFAULT_THRESHOLD
    repair_share: float = DEFAULT_REPAIR_SHARE
    _last: datetime | None = None
    _daylit: bool = False
    _ratios: deque[tuple[datetime, float, float]] = field(default_factory=deque)
    _tracks: dict[_Key, _Track] = field(default_factory=dict)

    def _track(self, key: _Key) -> _Track:
        return self._tracks.setdefault(key, _Track())

    def active(self, kind: AnomalyType) -> bool:
        """Whether an anomaly of ``kind`` (of any string) is active."""
        return any(t.active for (k, _), t in self._tracks.items() if k is kind)

    def issues(self) -> dict[_Key, _Track]:
        """Anomalies (type, string) whose repair issue is due, with their figures."""
        return {key: track for key, track in self._tracks.items() if track.issue}

    def restore_issues(self, keys: Sequence[tuple[str, str | None]]) -> None:
        """Mark the repair issues of a previous run as due again (``(type, string)`` pairs).

        Unknown types are ignored; the issues go once their condition is judged absent.
        """
        for kind, subject in keys:
            if kind in AnomalyType.__members__.values():
                self._track((AnomalyType(kind), subject)).issue = True

    def figures(self, kind: AnomalyType) -> dict[str, Any]:
        """The current figures of ``kind`` (the worst string's for string anomalies)."""
        tracks = [(s, t) for (k, s), t in self._tracks.items() if k is kind]
        subject, track = max(
            tracks, key=lambda item: (item[1].active, item[1].duration), default=(None, _Track())
        )
        return self._event(kind, subject, track, self._last or datetime.min).as_dict()

    def update(self, sample: Sample) -> list[AnomalyEvent]:
        """Add a sample; return the anomalies that started or ended."""
        last, self._last = self._last, sample.when
        elevation = sample.elevation_deg
        if elevation is not None and elevation < 0:
            return self._sunset(sample.when)
        if elevation is not None:
            self._daylit = True
        if last is None or sample.when <= last or elevation is None or elevation < MIN_ELEVATION:
            return []
        step = min(sample.when - last, MAX_SAMPLE_GAP)
        judgements = self._judge_model(sample) | self._judge_strings(sample)
        events: list[AnomalyEvent] = []
        for key, judgement in judgements.items():
            if (event := self._advance(key, judgement, step, sample)) is not None:
                events.append(event)
        return events

    def _sunset(self, when: datetime) -> list[AnomalyEvent]:
        """End every active anomaly: the next day judges afresh."""
        if not self._daylit:
            return []
        self._daylit = False
        self._ratios.clear()
        events: list[AnomalyEvent] = []
        for (kind, subject), track in self._tracks.items():
            if track.active:
                events.append(self._event(kind, subject, track, when, False, "sunset"))
            track.restart()
        return events

    def _clear_sky_window(self, sample: Sample) -> tuple[list[float], bool] | None:
        """The measured / expected ratios of the window, if it had the clear-sky shape.

        Returns ``(ratios over the last STABILITY_WINDOW, whether it follows a step)``, or
        None when the window is incomplete or not smooth. Smooth: the measured clear-sky
        index (measured / clear-sky power) varied by at most :data:`STABILITY` over the
        window, or by :data:`STEP_STABILITY` after a step: the window before it was smooth
        (:data:`STABILITY`) with production as expected (ratio at least the clear-sky
        threshold plus :data:`HYSTERESIS`), the shape of a fault in a clear day's curve.
        """
        clear, measured, expected = sample.clear_sky_w, sample.measured_w, sample.expected_w
        if clear is None or measured is None or clear < MEANINGFUL_SHARE * self.kwp * 1e3:
            self._ratios.clear()
            return None
        ratio = max(measured, 0.0) / expected if expected else math.inf
        self._ratios.append((sample.when, measured / clear, ratio))
        while self._ratios and sample.when - self._ratios[0][0] > 2 * STABILITY_WINDOW:
            self._ratios.popleft()
        start = sample.when - STABILITY_WINDOW
        window = [(index, ratio) for when, index, ratio in self._ratios if when >= start]
        prior = [(index, ratio) for when, index, ratio in self._ratios if when < start]
        if len(window) < 3 or self._ratios[0][0] > start:
            return None
        spread = _spread([index for index, _ in window])
        step = (
            len(prior) >= 2
            and min(ratio for _, ratio in prior) >= self.threshold - CLEAR_SKY_MARGIN + HYSTERESIS
        )
        if spread <= STABILITY or (step and spread <= STEP_STABILITY):
            return [ratio for _, ratio in window], step
        return None

    def _judge_model(self, sample: Sample) -> dict[_Key, _Judgement]:
        """Judgements against the model that are sound for this sample."""
        measured, expected = sample.measured_w, sample.expected_w
        window = self._clear_sky_window(sample)
        if measured is None or expected is None or expected < MEANINGFUL_SHARE * self.kwp * 1e3:
            return {}
        light = sample.poa_measured or (sample.forecast_csi or 0.0) >= CLEAR_SKY_INDEX
        result: dict[_Key, _Judgement] = {
            (AnomalyType.NO_PRODUCTION, None): (
                measured <= NO_PRODUCTION_SHARE * expected,
                measured > 2 * NO_PRODUCTION_SHARE * expected,
                measured,
                expected,
                Basis.MODEL,
                NO_PRODUCTION_DURATION if light else UNCERTAIN_NO_PRODUCTION_DURATION,
            )
        }
        ratio = max(measured, 0.0) / expected
        key = (AnomalyType.UNDERPERFORMANCE, None)
        if sample.poa_measured:
            result[key] = (
                ratio < self.threshold,
                ratio >= self.threshold + HYSTERESIS,
                measured,
                expected,
                Basis.MEASURED_IRRADIANCE,
                MODEL_DURATION,
            )
        elif (
            window is not None
            and sample.model_trusted
            and (sample.forecast_csi or 0.0) >= CLEAR_SKY_INDEX
        ):
            ratios, step = window
            threshold = self.threshold - CLEAR_SKY_MARGIN
            # After a step from a smooth expected production the low window is the
            # evidence; otherwise (a darkening the forecast missed looks the same) the
            # low window must last MODEL_DURATION more.
            result[key] = (
                max(ratios) < threshold,
                min(ratios) >= threshold + HYSTERESIS,
                measured,
                expected,
                Basis.CLEAR_SKY,
                timedelta(0) if step else MODEL_DURATION,
            )
        return result

    def _judge_strings(self, sample: Sample) -> dict[_Key, _Judgement]:
        """Every string against the median of its peers (same group), per kWp."""
        groups: dict[str, list[StringReading]] = {}
        for reading in sample.strings:
            if reading.power_w is not None and reading.kwp > 0:
                groups.setdefault(reading.group, []).append(reading)
        result: dict[_Key, _Judgement] = {}
        for members in groups.values():
            for reading in members:
                peers = [p for p in members if p is not reading]
                if not peers:
                    continue
                reference = median(max(p.power_w or 0.0, 0.0) / p.kwp for p in peers)
                if reference < STRING_MIN_SHARE * 1e3:
                    continue
                specific = max(reading.power_w or 0.0, 0.0) / reading.kwp
                result[(AnomalyType.STRING_UNDERPERFORMANCE, reading.name)] = (
                    specific < self.string_threshold * reference,
                    specific >= (self.string_threshold + HYSTERESIS) * reference,
                    specific * reading.kwp,
                    reference * reading.kwp,
                    Basis.PEERS,
                    STRING_DURATION,
                )
        return result

    def _advance(
        self, key: _Key, judgement: _Judgement, step: timedelta, sample: Sample
    ) -> AnomalyEvent | None:
        """Count one judged sample into a track; the event if it started or ended."""
        kind, subject = key
        in_condition, out_of_it, measured, expected, basis, limit = judgement
        track = self._track(key)
        hours = step.total_seconds() / 3600
        track.daylight_hours = max(sample.daylight_hours, 1.0)
        if track.active:
            track.active_time += step
            share = track.active_time.total_seconds() / 3600 / track.daylight_hours
            track.issue = track.issue or share >= self.repair_share
        if in_condition:
            track.clear = timedelta(0)
            track.duration += step
            track.measured_wh += max(measured, 0.0) * hours
            track.expected_wh += expected * hours
            track.basis = basis
            if not track.active and track.duration >= limit:
                track.active = True
                return self._event(kind, subject, track, sample.when, True)
            return None
        if not out_of_it:
            return None
        track.clear += step
        if track.clear < CLEAR_DURATION:
            return None
        track.issue = False
        if track.active:
            event = self._event(kind, subject, track, sample.when, False, "recovered")
            track.restart()
            return event
        track.restart()
        return None

    def _event(
        self,
        kind: AnomalyType,
        subject: str | None,
        track: _Track,
        when: datetime,
        active: bool | None = None,
        reason: str | None = None,
    ) -> AnomalyEvent:
        return AnomalyEvent(
            kind,
            track.active if active is None else active,
            when,
            track.duration,
            track.measured_wh,
            track.expected_wh,
            track.basis,
            subject,
            reason,
            track.active_time.total_seconds() / 3600 / track.daylight_hours,
        )
