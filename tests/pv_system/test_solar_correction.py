"""The learned correction: scales, shading profile, clean days, skill, clear-sky index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from custom_components.pv_monitor.pv_system.solar.correction import (
    MIN_CLEAN_DAYS,
    Correction,
    fit_correction,
    season_of,
    solar_hour,
)
from custom_components.pv_monitor.pv_system.solar.forecast import PvArray, PvSite, clear_sky_hourly

SITE = PvSite(
    52.0,
    5.0,
    10.0,
    (PvArray("South", 35, 180, 4.0), PvArray("East", 20, 90, 2.5), PvArray("West", 20, 270, 2.5)),
    7.0,
)
SCALES = np.array([0.9, 0.8, 1.0])


def _history(
    days: int, clear_every: int, start: datetime
) -> tuple[list[float], np.ndarray, np.ndarray]:
    hours = [start + timedelta(hours=h) for h in range(days * 24)]
    model = clear_sky_hourly(SITE, hours)["ac_by_array"]
    epoch = np.array([h.timestamp() for h in hours])
    shade = np.where(np.isin(solar_hour(epoch + 1800, SITE.longitude), [6, 7, 8]), 0.5, 1.0)
    truth = (model.T @ SCALES) * shade
    rng = np.random.default_rng(1)
    measured = truth * (1 + rng.normal(0, 0.01, len(truth)))
    for day in range(days):
        if day % clear_every:  # cloudy day: ragged, low
            sl = slice(day * 24, day * 24 + 24)
            measured[sl] = truth[sl] * rng.uniform(0.05, 0.7, 24)
    return list(epoch), measured, model


def test_fit_recovers_scales_and_shading() -> None:
    epoch, measured, model = _history(120, 2, datetime(2024, 4, 1, tzinfo=UTC))
    correction = fit_correction(epoch, list(measured), model, SITE.longitude)
    assert correction.clean_days >= MIN_CLEAN_DAYS
    assert correction.applied
    assert correction.skill is not None
    assert correction.skill > 0.3
    assert np.asarray(correction.scales) == pytest.approx(SCALES, abs=0.05)
    summer = correction.profile[2]
    assert summer[7] == pytest.approx(0.5, abs=0.05)
    assert summer[12] == pytest.approx(1.0, abs=0.05)
    # Cloudy days pull the climatological index below 1.
    assert 0.4 < correction.clear_sky_index[6] < 0.9
    assert correction.clear_sky_index[1] == correction.clear_sky_index[12]  # overall fallback
    assert correction.as_dict()["applied"] is True
    times = pd.date_range("2024-06-21 07:30", periods=3, freq="h", tz="UTC")
    factors = correction.shade_factors(times, SITE.longitude, {})
    assert factors[0] == pytest.approx(0.5, abs=0.05)


def test_not_applied_without_enough_clean_days() -> None:
    epoch, measured, model = _history(20, 4, datetime(2024, 5, 1, tzinfo=UTC))
    correction = fit_correction(epoch, list(measured), model, SITE.longitude)
    assert correction.clean_days < MIN_CLEAN_DAYS
    assert not correction.applied
    assert correction.skill is None
    assert correction.scales == (1.0, 1.0, 1.0)
    assert 5 in correction.clear_sky_index


def test_incomplete_days_and_empty_history() -> None:
    epoch, measured, model = _history(3, 1, datetime(2024, 5, 1, tzinfo=UTC))
    values: list[float | None] = list(measured)
    values[12] = None  # a missing daylight hour drops that day
    correction = fit_correction(epoch, values, model, SITE.longitude)
    assert correction.clean_days == 2
    empty = fit_correction([], [], np.zeros((3, 0)), SITE.longitude)
    assert empty == Correction.identity(3)
    assert empty.clear_sky_index == {}


def test_season_bins() -> None:
    assert list(season_of([15, 80, 172, 266, 355])) == [0, 1, 2, 1, 0]
