"""Learned correction of the PV model from measured hourly production (numpy, pure).

Inputs: hourly measured AC energy (Wh; the recorder's long-term statistics of the production
energy sensor), the clear-sky model of the same hours split by array and the sun's position
at each hour's middle (:func:`.forecast.clear_sky_hourly`).

Robust to clouds and cloud enhancement, so that it applies within weeks:

- the measured/model ratio of every meaningful hour is binned by **sun position** (azimuth
  in 15 deg, elevation in 10 deg bins); the bin's upper quartile (:data:`ENVELOPE_QUANTILE`)
  over all days is the clear-sky envelope: clouds sit below it and do not move it, the few
  cloud-enhanced hours sit above it and do not move it either;
- *clear hours* are the hours within :data:`CLEAR_BAND` of their bin's envelope, on every
  day (a broken-cloud day contributes its clear hours);
- scales per array: ridge-regularised least squares of measured on the arrays' modelled
  energy over the clear hours (trimmed of shaded hours, pulled towards a common scale);
- shading profile: the median ratio of measured to scaled model of the clear hours per sun
  position bin, filled from the nearest fitted elevation of the same azimuth: a season not
  seen yet gets the correction of the sun positions it shares with the seasons seen;
- a climatological clear-sky index per month (measured / corrected clear-sky energy over all
  complete days), used for the forecast when no weather forecast exists.

The skill is ``1 - MAE(corrected) / MAE(uncorrected)`` on the clear hours of held-out days
(every fourth day, fitted without them). The correction is applied only with at least
:data:`MIN_CLEAN_DAYS` days that have clear hours and a positive skill.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import math
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    type FloatArray = NDArray[np.float64]

MIN_CLEAN_DAYS: Final = 7
"""Days with clear hours needed before a correction is applied (one week)."""
AZIMUTH_BINS: Final = 24
"""Sun azimuth bins of 15 deg (0 = north)."""
ELEVATION_BINS: Final = 9
"""Sun elevation bins of 10 deg (0-90)."""
MEANINGFUL_SHARE: Final = 0.1
"""Hours whose modelled energy is below this share of the day's peak hour are ignored."""
ENVELOPE_QUANTILE: Final = 75.0
"""Percentile of the measured/model ratio of a sun-position bin taken as clear sky."""
CLEAR_BAND: Final = 0.1
"""An hour within 10 % of its bin's envelope is clear."""
CLEAN_SHARE: Final = 0.5
"""A day counts as clean when at least half of its meaningful hours are clear."""
MIN_BIN_SAMPLES: Final = 3
TRIM_ROUNDS: Final = 4
TRIM_RATIO: Final = 0.85
"""Hours below 85 % of the fit are treated as shaded when fitting the scales."""
SCALE_LIMITS: Final = (0.3, 1.5)
PROFILE_LIMITS: Final = (0.1, 1.5)
INDEX_LIMITS: Final = (0.05, 1.2)
MIN_MONTH_DAYS: Final = 3
HOLDOUT_EVERY: Final = 4


def sun_bin(azimuth_deg: Any, elevation_deg: Any) -> Any:
    """Flat sun-position bin index (azimuth bin x :data:`ELEVATION_BINS` + elevation bin)."""
    import numpy as np  # noqa: PLC0415

    azimuth = np.floor(np.mod(np.asarray(azimuth_deg, dtype=float), 360.0) / 15.0).astype(int)
    elevation = np.clip(np.floor(np.asarray(elevation_deg, dtype=float) / 10.0), 0, 8).astype(int)
    return azimuth * ELEVATION_BINS + elevation


def _near(seen: Any) -> Any:
    """Bins that were fitted or border a fitted bin (in elevation or azimuth).

    With hourly data the sun crosses a 15 deg azimuth bin in less than an hour around noon,
    so some bins are skipped although the sun passes through them.
    """
    import numpy as np  # noqa: PLC0415

    table = np.asarray(seen, dtype=bool).reshape(AZIMUTH_BINS, ELEVATION_BINS)
    near = table | np.roll(table, 1, axis=0) | np.roll(table, -1, axis=0)
    near[:, 1:] |= table[:, :-1]
    near[:, :-1] |= table[:, 1:]
    return near.reshape(-1)


def _fill(profile: FloatArray, fitted: Any) -> FloatArray:
    """Fill the bins that were not fitted.

    First from the nearest fitted elevation bin of the same azimuth, then the azimuths never
    fitted from a fitted neighbour azimuth at the same elevation.
    """
    import numpy as np  # noqa: PLC0415

    table = profile.reshape(AZIMUTH_BINS, ELEVATION_BINS).copy()
    known = np.asarray(fitted, dtype=bool).reshape(AZIMUTH_BINS, ELEVATION_BINS)
    for row in range(AZIMUTH_BINS):
        columns = np.flatnonzero(known[row])
        if not len(columns):
            continue
        for column in range(ELEVATION_BINS):
            if not known[row, column]:
                table[row, column] = table[row, columns[np.argmin(np.abs(columns - column))]]
    rows = np.asarray(known.any(axis=1), dtype=bool)
    for row in np.flatnonzero(~rows):
        for neighbour in ((row - 1) % AZIMUTH_BINS, (row + 1) % AZIMUTH_BINS):
            if rows[neighbour]:
                table[row] = table[neighbour]
                break
    result: FloatArray = table.reshape(-1)
    return result


@dataclass(frozen=True, slots=True)
class Correction:
    """A fitted correction; see the module docstring.

    ``scales`` one factor per array; ``profile[bin]`` shading factor by sun-position bin
    (:func:`sun_bin`); ``seen[bin]`` whether the bin had clear hours to fit (empty: none);
    ``clear_sky_index`` by month (1-12); ``skill`` None when not enough clean days existed
    to measure it.
    """

    scales: tuple[float, ...]
    profile: tuple[float, ...]
    clean_days: int
    skill: float | None
    applied: bool
    clear_sky_index: dict[int, float] = field(default_factory=dict)
    seen: tuple[bool, ...] = ()

    @classmethod
    def identity(cls, arrays: int) -> Correction:
        """No correction for ``arrays`` arrays."""
        return cls(
            scales=(1.0,) * arrays,
            profile=(1.0,) * (AZIMUTH_BINS * ELEVATION_BINS),
            clean_days=0,
            skill=None,
            applied=False,
        )

    def shade_factors(self, times: Any, longitude: float, geometry: Mapping[str, Any]) -> Any:
        """Shading factor at each time from the sun position in ``geometry``.

        ``geometry`` as :func:`.forecast.solar_geometry` returns it (``azimuth`` and
        ``apparent_zenith`` in degrees); ``times`` and ``longitude`` are not needed.
        """
        import numpy as np  # noqa: PLC0415

        del times, longitude
        bins = sun_bin(geometry["azimuth"], 90.0 - np.asarray(geometry["apparent_zenith"]))
        return np.asarray(self.profile)[bins]

    def seen_at(self, geometry: Mapping[str, Any]) -> Any:
        """Whether the fit saw clear hours at (or next to) each sun position of ``geometry``.

        A bin counts as seen when it or a neighbouring bin had clear hours (the sun moves
        through about one elevation bin a month at a given azimuth; see :func:`_near`). Elsewhere (a sun position of a season not seen yet) the model's shading
        is unknown: the anomaly detector does not judge against the model there.
        """
        import numpy as np  # noqa: PLC0415

        bins = sun_bin(geometry["azimuth"], 90.0 - np.asarray(geometry["apparent_zenith"]))
        if not self.seen:
            return np.zeros(len(bins), dtype=bool)
        return _near(self.seen)[bins]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for diagnostics (profile: only the bins that differ from 1)."""
        return {
            "scales": [round(scale, 4) for scale in self.scales],
            "profile": {
                f"az{(index // ELEVATION_BINS) * 15}_el{(index % ELEVATION_BINS) * 10}": round(
                    value, 3
                )
                for index, value in enumerate(self.profile)
                if abs(value - 1.0) > 1e-3
            },
            "clean_days": self.clean_days,
            "skill": None if self.skill is None else round(self.skill, 4),
            "applied": self.applied,
            "clear_sky_index": {
                month: round(value, 3) for month, value in self.clear_sky_index.items()
            },
        }


@dataclass(slots=True)
class _Day:
    key: int
    index: Any  # hour positions of the day
    meaningful: Any  # positions of the meaningful hours
    month: int
    clear: Any = None  # positions of the clear hours


def _days(
    epoch: FloatArray, measured: FloatArray, model: FloatArray, longitude: float
) -> list[_Day]:
    """Group hours into local solar days; complete days only."""
    import numpy as np  # noqa: PLC0415

    keys = np.floor((epoch + 1800.0 + longitude * 240.0) / 86400.0).astype(int)
    days: list[_Day] = []
    for key in np.unique(keys):
        index = np.flatnonzero(keys == key)
        day_model = model[index]
        if day_model.max(initial=0.0) <= 0:
            continue
        daylight = index[day_model > 0]
        if np.isnan(measured[daylight]).any():
            continue  # incomplete day: skipped entirely
        meaningful = index[day_model >= MEANINGFUL_SHARE * day_model.max()]
        month = int(np.datetime64(int(epoch[index[len(index) // 2]]), "s").astype(object).month)
        days.append(_Day(int(key), daylight, meaningful, month))
    return days


def _classify(days: Sequence[_Day], measured: FloatArray, model: FloatArray, bins: Any) -> None:
    """Find every day's clear hours: within :data:`CLEAR_BAND` of their bin's envelope."""
    import numpy as np  # noqa: PLC0415

    if not days:
        return
    rows = np.concatenate([day.meaningful for day in days])
    ratio = np.zeros(len(measured))
    ratio[rows] = measured[rows] / model[rows]
    envelope = np.zeros(AZIMUTH_BINS * ELEVATION_BINS)
    for key in np.unique(bins[rows]):
        envelope[key] = np.percentile(ratio[rows][bins[rows] == key], ENVELOPE_QUANTILE)
    for day in days:
        rel = ratio[day.meaningful] / np.maximum(envelope[bins[day.meaningful]], 1e-9)
        day.clear = day.meaningful[np.abs(rel - 1) <= CLEAR_BAND]


def _clean(day: _Day) -> bool:
    return len(day.clear) >= max(2, CLEAN_SHARE * len(day.meaningful))


def _fit(
    days: Sequence[_Day], measured: FloatArray, by_array: FloatArray, bins: Any
) -> tuple[FloatArray, FloatArray, Any]:
    """Fit scales, sun-position profile and the bins fitted on the clear hours of ``days``."""
    import numpy as np  # noqa: PLC0415

    rows = np.concatenate([day.clear for day in days])
    y = measured[rows]
    design = by_array[:, rows].T  # hours x arrays
    keep = np.ones(len(y), dtype=bool)
    for _ in range(TRIM_ROUNDS):
        # Shaded hours sit below the fit: trim them and refit, so that the scales describe
        # the unshaded system and the profile takes the shading.
        fit_y, fit_x = y[keep], design[keep]
        common = fit_y.sum() / max(fit_x.sum(), 1e-9)
        gram = fit_x.T @ fit_x
        ridge = 1e-3 * np.trace(gram) / len(gram)
        scales = np.linalg.solve(gram + ridge * np.eye(len(gram)), fit_x.T @ fit_y + ridge * common)
        scales = np.clip(scales, *SCALE_LIMITS)
        keep = y >= TRIM_RATIO * (design @ scales)
        if keep.sum() < len(scales):
            break
    scaled = design @ scales
    ratio = np.divide(y, scaled, out=np.ones_like(y), where=scaled > 0)
    profile = np.ones(AZIMUTH_BINS * ELEVATION_BINS)
    fitted = np.zeros(len(profile), dtype=bool)
    for key in np.unique(bins[rows]):
        mask = bins[rows] == key
        if mask.sum() >= MIN_BIN_SAMPLES:
            profile[key] = float(np.median(ratio[mask]))
            fitted[key] = True
    return scales, np.clip(_fill(profile, fitted), *PROFILE_LIMITS), fitted


def _predict(
    scales: FloatArray, profile: FloatArray, by_array: FloatArray, bins: Any
) -> FloatArray:
    result: FloatArray = (by_array.T @ scales) * profile[bins]
    return result


def _skill(
    clean: Sequence[_Day], measured: FloatArray, by_array: FloatArray, model: FloatArray, bins: Any
) -> float:
    """Skill of a fit without every fourth clean day on those days' clear hours."""
    import numpy as np  # noqa: PLC0415

    holdout = clean[HOLDOUT_EVERY - 1 :: HOLDOUT_EVERY]
    training = [day for day in clean if day not in holdout]
    scales, profile, _seen = _fit(training, measured, by_array, bins)
    rows = np.concatenate([day.clear for day in holdout])
    predicted = _predict(scales, profile, by_array[:, rows], bins[rows])
    error_raw = np.abs(measured[rows] - model[rows]).mean()
    error_corrected = np.abs(measured[rows] - predicted).mean()
    return float(1 - error_corrected / error_raw) if error_raw > 0 else 0.0


def _climatology(
    days: Sequence[_Day], measured: FloatArray, expected: FloatArray
) -> dict[int, float]:
    """Clear-sky index by month: measured over corrected clear-sky energy of all days."""
    import numpy as np  # noqa: PLC0415

    totals: dict[int, list[float]] = {}
    for day in days:
        month = totals.setdefault(day.month, [0.0, 0.0, 0.0])
        month[0] += float(measured[day.index].sum())
        month[1] += float(expected[day.index].sum())
        month[2] += 1
    overall_model = sum(month[1] for month in totals.values())
    overall = (
        sum(month[0] for month in totals.values()) / overall_model if overall_model > 0 else 1.0
    )
    index: dict[int, float] = {}
    for month_number in range(1, 13):
        meas, expect, count = totals.get(month_number, [0.0, 0.0, 0.0])
        value = meas / expect if count >= MIN_MONTH_DAYS and expect > 0 else overall
        index[month_number] = float(np.clip(value, *INDEX_LIMITS))
    return index


def fit_correction(
    hour_starts: Sequence[float],
    measured_wh: Sequence[float | None],
    model_by_array_wh: Any,
    longitude: float,
    sun_azimuth: Any,
    sun_elevation: Any,
) -> Correction:
    """Fit the correction.

    Args:
        hour_starts: UTC epoch seconds of each hour's start.
        measured_wh: measured AC energy of each hour (Wh); None or NaN = missing.
        model_by_array_wh: clear-sky modelled AC energy, arrays x hours (Wh).
        longitude: degrees east (for local solar days).
        sun_azimuth: sun azimuth (deg, 0 = north) at each hour's middle.
        sun_elevation: apparent sun elevation (deg) at each hour's middle.

    Returns:
        The correction; ``applied`` False with fewer than :data:`MIN_CLEAN_DAYS` clean days
        or a skill that is not positive.
    """
    import numpy as np  # noqa: PLC0415

    epoch = np.asarray(hour_starts, dtype=float)
    measured = np.asarray(
        [math.nan if value is None else value for value in measured_wh], dtype=float
    )
    by_array = np.atleast_2d(np.asarray(model_by_array_wh, dtype=float))
    arrays = by_array.shape[0]
    model = by_array.sum(axis=0)
    bins = sun_bin(np.asarray(sun_azimuth, dtype=float), np.asarray(sun_elevation, dtype=float))
    days = _days(epoch, measured, model, longitude)
    _classify(days, measured, model, bins)
    clean = [day for day in days if _clean(day)]
    if not days:
        return Correction.identity(arrays)
    scales = np.ones(arrays)
    profile = np.ones(AZIMUTH_BINS * ELEVATION_BINS)
    seen = np.zeros(len(profile), dtype=bool)
    skill: float | None = None
    if len(clean) >= MIN_CLEAN_DAYS:
        skill = _skill(clean, measured, by_array, model, bins)
        if skill > 0:
            with_clear = [day for day in days if len(day.clear)]
            scales, profile, seen = _fit(with_clear, measured, by_array, bins)
    applied = skill is not None and skill > 0
    expected = _predict(scales, profile, by_array, bins)
    return Correction(
        scales=tuple(float(value) for value in scales),
        profile=tuple(float(value) for value in profile),
        clean_days=len(clean),
        skill=skill,
        applied=applied,
        clear_sky_index=_climatology(days, measured, expected),
        seen=tuple(bool(value) for value in seen) if applied else (),
    )
