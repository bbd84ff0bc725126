"""Anomaly detection on real-weather days from the TMY3 file shipped with pvlib.

The "measured" production of a healthy plant is the pvlib chain on the measured irradiance
of a day in the Greensboro (NC) TMY3 file with 5 % extra loss and noise; the expected power
is the model on the same irradiance (as with a plane-of-array sensor). Faults are injected
into the measured series.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pvlib
import pytest

from custom_components.pv_monitor.pv_system.solar.anomaly import AnomalyDetector, AnomalyType
from custom_components.pv_monitor.pv_system.solar.forecast import (
    PvArray,
    PvSite,
    simulate,
    solar_geometry,
)

DATA = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"
ARRAYS = (
    PvArray("South", 35, 180, 4.0),
    PvArray("East", 20, 90, 2.5),
    PvArray("West", 20, 270, 2.5),
)


@pytest.fixture(scope="module")
def tmy() -> tuple[object, PvSite]:
    data, meta = pvlib.iotools.read_tmy3(DATA, map_variables=True)
    site = PvSite(meta["latitude"], meta["longitude"], meta["altitude"], ARRAYS, 7.0)
    return data, site


def _day(
    tmy: tuple[object, PvSite], month: int, day: int
) -> tuple[list[datetime], np.ndarray, np.ndarray]:
    data, site = tmy
    frame = data[(data.index.month == month) & (data.index.day == day)]  # type: ignore[attr-defined]
    geometry = solar_geometry(site, frame.index, frame["temp_air"].to_numpy())
    result = simulate(
        site,
        geometry,
        frame["ghi"].to_numpy(float),
        frame["dni"].to_numpy(float),
        frame["dhi"].to_numpy(float),
        frame["temp_air"].to_numpy(float),
        frame["wind_speed"].to_numpy(float),
    )
    rng = np.random.default_rng(month * 100 + day)
    measured = result["ac"] * 0.95 * (1 + rng.normal(0, 0.03, len(frame)))
    return [t.to_pydatetime() for t in frame.index], measured, result["ac"], result["dc"]  # type: ignore[return-value]


def _run(
    times: list[datetime], measured: np.ndarray, expected: np.ndarray
) -> tuple[AnomalyDetector, list]:
    detector = AnomalyDetector(kwp=9.0)
    events = []
    # 5-minute samples; TMY values are hourly averages labelled at the hour's end.
    for hour, when in enumerate(times):
        for minute in range(0, 60, 5):
            sample_time = when - timedelta(hours=1) + timedelta(minutes=minute)
            events += detector.update(sample_time, float(measured[hour]), float(expected[hour]))
    return detector, events


@pytest.mark.parametrize(("month", "day"), [(6, 12), (6, 13), (1, 15), (10, 2)])
def test_clean_days_raise_nothing(tmy, month: int, day: int) -> None:
    times, measured, expected, _dc = _day(tmy, month, day)
    _detector, events = _run(times, measured, expected)
    assert events == []


def test_lost_string_is_underperformance(tmy) -> None:
    times, measured, expected, dc = _day(tmy, 6, 12)
    faulty = measured.copy()
    south_share = dc[0] / np.maximum(dc.sum(axis=0), 1e-9)
    window = slice(10, 16)  # 09:00-15:00 local: the south array's string is open
    faulty[window] = measured[window] * (1 - south_share[window])
    detector, events = _run(times, faulty, expected)
    started = [e for e in events if e.active]
    assert [e.type for e in started] == [AnomalyType.UNDERPERFORMANCE]
    event = started[0]
    assert event.severity == "warning"
    assert event.duration >= timedelta(hours=1)
    assert event.ratio is not None
    assert event.ratio < 0.8
    assert event.as_dict()["type"] == "underperformance"
    cleared = [e for e in events if not e.active]
    assert [e.type for e in cleared] == [AnomalyType.UNDERPERFORMANCE]
    assert not detector.active(AnomalyType.UNDERPERFORMANCE)


def test_inverter_trip_is_no_production(tmy) -> None:
    times, measured, expected, _dc = _day(tmy, 6, 12)
    faulty = measured.copy()
    faulty[12:14] = 0.0
    detector, events = _run(times, faulty, expected)
    kinds = {(e.type, e.active) for e in events}
    assert (AnomalyType.NO_PRODUCTION, True) in kinds
    assert (AnomalyType.UNDERPERFORMANCE, True) in kinds
    trip = next(e for e in events if e.type is AnomalyType.NO_PRODUCTION and e.active)
    assert trip.severity == "error"
    assert trip.duration == timedelta(minutes=30)
    assert trip.ratio == 0.0
    assert detector.figures(AnomalyType.NO_PRODUCTION)["active"] is False


def test_dawn_dusk_and_gaps_are_ignored(tmy) -> None:
    times, measured, expected, _dc = _day(tmy, 6, 12)
    faulty = measured.copy()
    low = expected < 0.1 * 9000
    faulty[low] = 0.0  # snow or shade at low sun: not judged
    _detector, events = _run(times, faulty, expected)
    assert events == []
    detector = AnomalyDetector(kwp=9.0)
    start = times[12]
    assert detector.update(start, 0.0, 5000.0) == []
    assert detector.update(start, 0.0, 5000.0) == []  # same time: ignored
    assert detector.update(start + timedelta(minutes=5), None, 5000.0) == []
    # A 3 h gap counts as 15 minutes only.
    assert detector.update(start + timedelta(hours=3), 0.0, 5000.0) == []
    assert detector.figures(AnomalyType.NO_PRODUCTION)["duration_minutes"] == 15.0
    assert detector.assessable(None) is False
