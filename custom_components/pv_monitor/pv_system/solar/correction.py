"""Learned correction of the PV model from measured hourly production (numpy, pure).

Inputs: hourly measured AC energy (Wh; the recorder's long-term statistics of the production
energy sensor) and the clear-sky model of the same hours split by array
(:func:`.forecast.clear_sky_hourly`). Only *clean* days are used for the fit: complete days
whose hourly measured/model ratio stays near the clear-day envelope of that season and hour
(no passing clouds), see :func:`_classify`.

Fitted:

- a scale per array (ridge-regularised least squares of measured on the arrays' modelled
  energy, pulled towards the common scale so that arrays facing the same way stay equal);
- a shading profile: the median ratio of measured to scaled model by local solar hour and
  season (three bins of solar declination), 1.0 where fewer than three clean hours exist;
- a climatological clear-sky index per month (measured / corrected clear-sky energy over all
  complete days), used for the forecast when no weather forecast exists.

The skill is ``1 - MAE(corrected) / MAE(uncorrected)`` on held-out clean days (every fourth
one). The correction is applied only with at least :data:`MIN_CLEAN_DAYS` clean days and a
positive skill.
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

MIN_CLEAN_DAYS: Final = 14
"""Clean days needed before a correction is applied (two weeks of clear days)."""
SEASONS: Final = 3
"""Season bins by solar declination: below -8 deg, -8 to 8 deg, above 8 deg."""
DECLINATION_EDGE: Final = 8.0
MEANINGFUL_SHARE: Final = 0.1
"""Hours whose modelled energy is below this share of the day's peak hour are ignored."""
CLEAN_MIN_RATIO: Final = 0.5
"""A clean day produces at least half of its clear-sky model."""
CLEAN_MAX_STEP: Final = 0.2
"""A clean day's hourly measured/model ratio stays within 20 % of the clear-day envelope."""
ENVELOPE_PERCENTILE: Final = 90.0
MIN_BIN_SAMPLES: Final = 3
TRIM_ROUNDS: Final = 4
TRIM_RATIO: Final = 0.85
"""Hours below 85 % of the fit are treated as shaded when fitting the scales."""
SCALE_LIMITS: Final = (0.3, 1.5)
PROFILE_LIMITS: Final = (0.1, 1.5)
INDEX_LIMITS: Final = (0.05, 1.2)
MIN_MONTH_DAYS: Final = 3
HOLDOUT_EVERY: Final = 4


def season_of(day_of_year: Any) -> Any:
    """Season bin (0, 1, 2) of day(s) of year from the solar declination.

    Declination by Cooper (1969): ``23.45 * sin(2 pi (284 + n) / 365)`` degrees.
    """
    import numpy as np  # noqa: PLC0415

    declination = 23.45 * np.sin(2 * np.pi * (284 + np.asarray(day_of_year)) / 365)
    return np.where(
        declination < -DECLINATION_EDGE, 0, np.where(declination > DECLINATION_EDGE, 2, 1)
    )


def solar_hour(epoch_seconds: Any, longitude: float) -> Any:
    """Local mean solar hour (0-23) of UTC epoch seconds at ``longitude`` (deg east)."""
    import numpy as np  # noqa: PLC0415

    return (np.floor((np.asarray(epoch_seconds) + longitude * 240.0) / 3600.0) % 24).astype(int)


@dataclass(frozen=True, slots=True)
class Correction:
    """A fitted correction; see the module docstring.

    ``scales`` one factor per array; ``profile[season][hour]`` shading factor by season bin
    and local solar hour; ``clear_sky_index`` by month (1-12); ``skill`` None when not
    enough clean days existed to measure it.
    """

    scales: tuple[float, ...]
    profile: tuple[tuple[float, ...], ...]
    clean_days: int
    skill: float | None
    applied: bool
    clear_sky_index: dict[int, float] = field(default_factory=dict)

    @classmethod
    def identity(cls, arrays: int) -> Correction:
        """No correction for ``arrays`` arrays."""
        return cls(
            scales=(1.0,) * arrays,
            profile=((1.0,) * 24,) * SEASONS,
            clean_days=0,
            skill=None,
            applied=False,
        )

    def shade_factors(self, times: Any, longitude: float, geometry: Mapping[str, Any]) -> Any:
        """Shading factor for each time of a pandas DatetimeIndex (UTC)."""
        import numpy as np  # noqa: PLC0415

        del geometry  # the profile is indexed by solar hour and season, not sun position
        hours = solar_hour(np.asarray(times.asi8) / 1e9, longitude)
        seasons = season_of(np.asarray(times.dayofyear))
        return np.asarray(self.profile)[seasons, hours]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for diagnostics."""
        return {
            "scales": [round(scale, 4) for scale in self.scales],
            "profile": [[round(value, 3) for value in row] for row in self.profile],
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
    clean: bool
    month: int


def _days(
    epoch: FloatArray, measured: FloatArray, model: FloatArray, longitude: float
) -> list[_Day]:
    """Group hours into local solar days; complete days only, not yet classified."""
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
        days.append(_Day(int(key), daylight, meaningful, False, month))
    return days


def _classify(
    days: Sequence[_Day], measured: FloatArray, model: FloatArray, hours: Any, seasons: Any
) -> None:
    """Mark the clean days.

    The envelope of the measured/model ratio per season and solar hour (its 90th percentile
    over all complete days) holds the system's scale and static shading; a clean (clear)
    day stays within :data:`CLEAN_MAX_STEP` of that envelope in every meaningful hour and
    produces at least :data:`CLEAN_MIN_RATIO` of the model over the day.
    """
    import numpy as np  # noqa: PLC0415

    if not days:
        return
    rows = np.concatenate([day.meaningful for day in days])
    ratio = np.zeros(len(measured))
    ratio[rows] = measured[rows] / model[rows]
    envelope = np.zeros((SEASONS, 24))
    for season in range(SEASONS):
        for hour in range(24):
            values = ratio[rows][(seasons[rows] == season) & (hours[rows] == hour)]
            if len(values):
                envelope[season, hour] = np.percentile(values, ENVELOPE_PERCENTILE)
    for day in days:
        rel = ratio[day.meaningful] / np.maximum(
            envelope[seasons[day.meaningful], hours[day.meaningful]], 1e-9
        )
        day.clean = bool(
            len(rel) >= 4
            and measured[day.index].sum() >= CLEAN_MIN_RATIO * model[day.index].sum()
            and np.abs(rel - 1).max() <= CLEAN_MAX_STEP
        )


def _fit(
    days: Sequence[_Day],
    measured: FloatArray,
    by_array: FloatArray,
    hours: Any,
    seasons: Any,
) -> tuple[FloatArray, FloatArray]:
    """Fit scales and profile on the meaningful hours of ``days``."""
    import numpy as np  # noqa: PLC0415

    rows = np.concatenate([day.meaningful for day in days])
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
        fitted = design @ scales
        keep = y >= TRIM_RATIO * fitted
        if keep.sum() < len(scales):
            break
    scaled = design @ scales
    ratio = np.divide(y, scaled, out=np.ones_like(y), where=scaled > 0)
    profile = np.ones((SEASONS, 24))
    for season in range(SEASONS):
        for hour in range(24):
            mask = (seasons[rows] == season) & (hours[rows] == hour)
            if mask.sum() >= MIN_BIN_SAMPLES:
                profile[season, hour] = float(np.median(ratio[mask]))
    return scales, np.clip(profile, *PROFILE_LIMITS)


def _predict(
    scales: FloatArray, profile: FloatArray, by_array: FloatArray, hours: Any, seasons: Any
) -> FloatArray:
    result: FloatArray = (by_array.T @ scales) * profile[seasons, hours]
    return result


def fit_correction(
    hour_starts: Sequence[float],
    measured_wh: Sequence[float | None],
    model_by_array_wh: Any,
    longitude: float,
) -> Correction:
    """Fit the correction.

    Args:
        hour_starts: UTC epoch seconds of each hour's start.
        measured_wh: measured AC energy of each hour (Wh); None or NaN = missing.
        model_by_array_wh: clear-sky modelled AC energy, arrays x hours (Wh).
        longitude: degrees east (for local solar hours and days).

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
    hours = solar_hour(epoch + 1800.0, longitude)
    seasons = season_of(
        np.asarray(
            [np.datetime64(int(value), "s").astype(object).timetuple().tm_yday for value in epoch]
        )
        if len(epoch)
        else np.zeros(0, dtype=int)
    )
    days = _days(epoch, measured, model, longitude)
    _classify(days, measured, model, hours, seasons)
    clean = [day for day in days if day.clean]
    result = Correction.identity(arrays)
    scales = np.ones(arrays)
    profile = np.ones((SEASONS, 24))
    skill: float | None = None
    if len(clean) >= MIN_CLEAN_DAYS:
        holdout = clean[HOLDOUT_EVERY - 1 :: HOLDOUT_EVERY]
        training = [day for day in clean if day not in holdout]
        trial = _fit(training, measured, by_array, hours, seasons)
        rows = np.concatenate([day.meaningful for day in holdout])
        predicted = _predict(*trial, by_array[:, rows], hours[rows], seasons[rows])
        error_raw = np.abs(measured[rows] - model[rows]).mean()
        error_corrected = np.abs(measured[rows] - predicted).mean()
        skill = float(1 - error_corrected / error_raw) if error_raw > 0 else 0.0
        scales, profile = _fit(clean, measured, by_array, hours, seasons)
    applied = skill is not None and skill > 0
    if not applied:
        scales = np.ones(arrays)
        profile = np.ones((SEASONS, 24))
    expected = _predict(scales, profile, by_array, hours, seasons)
    index: dict[int, float] = {}
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
    for month_number in range(1, 13):
        meas, expect, count = totals.get(month_number, [0.0, 0.0, 0.0])
        value = meas / expect if count >= MIN_MONTH_DAYS and expect > 0 else overall
        index[month_number] = float(np.clip(value, *INDEX_LIMITS))
    if not days:
        index = {}
    return Correction(
        scales=tuple(float(value) for value in scales),
        profile=tuple(tuple(float(value) for value in row) for row in profile),
        clean_days=len(clean),
        skill=skill,
        applied=applied,
        clear_sky_index=index if days else result.clear_sky_index,
    )
