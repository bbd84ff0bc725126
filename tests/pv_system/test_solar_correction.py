"""The learned correction: scales, sun-position shading profile, skill, clear-sky index.

The history is the pvlib clear-sky model itself (pvlib's Ineichen, not our code) with known
scales and a known shading by sun position, on which cloudy hours are laid at random.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from custom_components.pv_monitor.pv_system.solar.correction import (
    MIN_CLEAN_DAYS,
    Correction,
    fit_correction,
    sun_bin,
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
    days: int, cloudy_share: float, start: datetime
) -> tuple[list[float], np.ndarray, dict]:
    hours = [start + timedelta(hours=h) for h in range(days * 24)]
    model = clear_sky_hourly(SITE, hours)
    # A tree in the east: half the light while the sun is at azimuth 90-120 deg.
    shade = np.where((model["azimuth"] >= 90) & (model["azimuth"] < 120), 0.5, 1.0)
    truth = (model["ac_by_array"].T @ SCALES) * shade
    rng = np.random.default_rng(1)
    measured = truth * (1 + rng.normal(0, 0.01, len(truth)))
    cloudy = rng.random(len(truth)) < cloudy_share
    measured[cloudy] *= rng.uniform(0.05, 0.7, cloudy.sum())
    enhanced = rng.random(len(truth)) < 0.03  # cloud enhancement
    measured[enhanced] *= 1.25
    return [h.timestamp() for h in hours], measured, model


def _fit(epoch: list[float], measured: list[float | None] | np.ndarray, model: dict) -> Correction:
    return fit_correction(
        epoch,
        list(measured),
        model["ac_by_array"],
        SITE.longitude,
        model["azimuth"],
        model["elevation"],
    )


def test_fit_within_a_month_of_broken_clouds() -> None:
    epoch, measured, model = _history(30, 0.4, datetime(2024, 6, 1, tzinfo=UTC))
    correction = _fit(epoch, measured, model)
    assert correction.clean_days >= MIN_CLEAN_DAYS
    assert correction.applied
    assert correction.skill is not None
    assert correction.skill > 0.3
    assert np.asarray(correction.scales) == pytest.approx(SCALES, abs=0.05)
    shaded = sun_bin(100.0, 30.0)
    assert correction.profile[shaded] == pytest.approx(0.5, abs=0.05)
    assert correction.profile[sun_bin(180.0, 60.0)] == pytest.approx(1.0, abs=0.05)
    assert 0.5 < correction.clear_sky_index[6] < 0.95
    assert correction.as_dict()["applied"] is True
    # Applied by sun position: any time the sun stands at azimuth 100, elevation 30.
    factors = correction.shade_factors(
        pd.DatetimeIndex([]),
        0.0,
        {"azimuth": np.array([100.0, 180.0]), "apparent_zenith": np.array([60.0, 30.0])},
    )
    assert factors[0] == pytest.approx(0.5, abs=0.05)
    assert factors[1] == pytest.approx(1.0, abs=0.05)
    # June's sun never stands at azimuth 180 and elevation 15 (December's noon sun): the
    # model is not trusted there, but it is next to positions it has seen.
    seen = correction.seen_at(
        {
            "azimuth": np.array([180.0, 180.0, 100.0]),
            "apparent_zenith": np.array([75.0, 30.0, 60.0]),
        }
    )
    assert list(seen) == [False, True, True]
    assert not Correction.identity(3).seen_at({"azimuth": [180.0], "apparent_zenith": [30.0]})[0]


def test_not_applied_without_enough_clean_days() -> None:
    epoch, measured, model = _history(4, 0.0, datetime(2024, 5, 1, tzinfo=UTC))
    correction = _fit(epoch, measured, model)
    assert correction.clean_days < MIN_CLEAN_DAYS
    assert not correction.applied
    assert correction.skill is None
    assert correction.scales == (1.0, 1.0, 1.0)
    assert 5 in correction.clear_sky_index


def test_incomplete_days_and_empty_history() -> None:
    epoch, measured, model = _history(3, 0.0, datetime(2024, 5, 1, tzinfo=UTC))
    values: list[float | None] = list(measured)
    values[12] = None  # a missing daylight hour drops that day
    correction = _fit(epoch, values, model)
    assert correction.clean_days == 2
    empty = fit_correction([], [], np.zeros((3, 0)), SITE.longitude, [], [])
    assert empty == Correction.identity(3)
    assert empty.clear_sky_index == {}


def test_sun_bins() -> None:
    assert sun_bin(0.0, 5.0) == 0
    assert sun_bin(359.0, 95.0) == 23 * 9 + 8
    assert sun_bin(180.0, 45.0) == 12 * 9 + 4
