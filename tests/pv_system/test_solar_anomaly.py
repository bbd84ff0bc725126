"""Anomaly detection on real-weather days from the TMY3 file shipped with pvlib.

The "measured" production of a healthy plant is the pvlib chain on the measured irradiance
of a day in the Greensboro (NC) TMY3 file with 5 % extra loss and noise; the expected power
is the model on the same irradiance (as with a plane-of-array sensor). Faults are injected
into the measured series. Then small stories for the rules the detector follows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pvlib
import pytest

from custom_components.pv_monitor.pv_system.solar.anomaly import (
    MODEL_DURATION,
    NO_PRODUCTION_DURATION,
    AnomalyDetector,
    AnomalyType,
    Basis,
    Sample,
    StringReading,
)
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
) -> tuple[list[datetime], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
    elevation = 90.0 - geometry["apparent_zenith"]
    times = [t.to_pydatetime() for t in frame.index]
    return times, measured, result["ac"], result["dc"], elevation  # type: ignore[return-value]


def _run(
    times: list[datetime], measured: np.ndarray, expected: np.ndarray, elevation: np.ndarray
) -> tuple[AnomalyDetector, list]:
    detector = AnomalyDetector(kwp=9.0)
    events = []
    # 5-minute samples; TMY values are hourly averages labelled at the hour's end.
    for hour, when in enumerate(times):
        for minute in range(0, 60, 5):
            sample = Sample(
                when=when - timedelta(hours=1) + timedelta(minutes=minute),
                measured_w=float(measured[hour]),
                expected_w=float(expected[hour]),
                elevation_deg=float(elevation[hour]),
                poa_measured=True,
            )
            events += detector.update(sample)
    return detector, events


@pytest.mark.parametrize(("month", "day"), [(6, 12), (6, 13), (1, 15), (10, 2)])
def test_clean_days_raise_nothing(tmy, month: int, day: int) -> None:
    times, measured, expected, _dc, elevation = _day(tmy, month, day)
    _detector, events = _run(times, measured, expected, elevation)
    assert events == []


def test_lost_string_is_underperformance_and_clears(tmy) -> None:
    times, measured, expected, dc, elevation = _day(tmy, 6, 12)
    faulty = measured.copy()
    south_share = dc[0] / np.maximum(dc.sum(axis=0), 1e-9)
    window = slice(10, 16)  # 09:00-15:00 local: the south array's string is open
    faulty[window] = measured[window] * (1 - south_share[window])
    detector, events = _run(times, faulty, expected, elevation)
    started = [e for e in events if e.active]
    assert [e.type for e in started] == [AnomalyType.UNDERPERFORMANCE]
    event = started[0]
    assert event.severity == "warning"
    assert event.basis is Basis.MEASURED_IRRADIANCE
    assert event.duration == MODEL_DURATION
    assert event.ratio is not None
    assert event.ratio < 0.8
    assert event.as_dict()["basis"] == "measured_irradiance"
    cleared = [e for e in events if not e.active]
    assert [(e.type, e.reason) for e in cleared] == [(AnomalyType.UNDERPERFORMANCE, "recovered")]
    assert cleared[0].time < times[16]
    assert not detector.active(AnomalyType.UNDERPERFORMANCE)
    # Six hours of a 14 h day is over 10 %: the repair issue was due, and went with recovery.
    assert detector.issues() == {}


def test_inverter_trip_is_no_production(tmy) -> None:
    times, measured, expected, _dc, elevation = _day(tmy, 6, 12)
    faulty = measured.copy()
    faulty[12:14] = 0.0
    detector, events = _run(times, faulty, expected, elevation)
    kinds = {(e.type, e.active) for e in events}
    assert (AnomalyType.NO_PRODUCTION, True) in kinds
    trip = next(e for e in events if e.type is AnomalyType.NO_PRODUCTION and e.active)
    assert trip.severity == "error"
    assert trip.duration == NO_PRODUCTION_DURATION
    assert trip.ratio == 0.0
    assert detector.figures(AnomalyType.NO_PRODUCTION)["active"] is False


def test_low_sun_and_gaps_are_ignored(tmy) -> None:
    times, measured, expected, _dc, elevation = _day(tmy, 6, 12)
    faulty = measured.copy()
    faulty[elevation < 10] = 0.0  # snow or shade at low sun: not judged
    _detector, events = _run(times, faulty, expected, elevation)
    assert events == []
    detector = AnomalyDetector(kwp=9.0)
    start = times[12]

    def sample(when: datetime, measured: float | None) -> Sample:
        return Sample(when, measured, 5000.0, 50.0, poa_measured=True)

    assert detector.update(sample(start, 0.0)) == []
    assert detector.update(sample(start, 0.0)) == []  # same time: ignored
    assert detector.update(sample(start + timedelta(minutes=5), None)) == []
    # A 3 h gap counts as 15 minutes only.
    assert detector.update(sample(start + timedelta(hours=3), 0.0)) == []
    assert detector.figures(AnomalyType.NO_PRODUCTION)["duration_minutes"] == 15.0


START = datetime(2024, 6, 21, 8, 0, tzinfo=UTC)


def _strings(b_share: float) -> list[StringReading]:
    return [
        StringReading("A", "35/180", 2000.0, 2.0),
        StringReading("B", "35/180", 2000.0 * b_share, 2.0),
        StringReading("West", "20/270", 100.0, 1.0),  # alone in its group: never judged
    ]


def test_string_at_half_without_weather_held_until_sunset() -> None:
    detector = AnomalyDetector(kwp=5.0)
    events = []
    for step in range(12 * 10):  # 10 hours, no expected power at all (no weather)
        when = START + timedelta(minutes=5 * step)
        events += detector.update(Sample(when, 3000.0, None, 40.0, strings=_strings(0.5)))
    started = [e for e in events if e.active]
    assert [(e.type, e.subject, e.basis) for e in started] == [
        (AnomalyType.STRING_UNDERPERFORMANCE, "B", Basis.PEERS)
    ]
    assert started[0].time == START + timedelta(hours=1)
    assert started[0].ratio == pytest.approx(0.5)
    assert detector.active(AnomalyType.STRING_UNDERPERFORMANCE)
    assert (AnomalyType.STRING_UNDERPERFORMANCE, "B") in detector.issues()
    assert detector.figures(AnomalyType.STRING_UNDERPERFORMANCE)["string"] == "B"
    sunset = detector.update(Sample(START + timedelta(hours=11), 0.0, 0.0, -1.0))
    assert [(e.active, e.reason) for e in sunset] == [(False, "sunset")]
    assert not detector.active(AnomalyType.STRING_UNDERPERFORMANCE)
    # The repair issue outlives sunset; a morning of equal strings clears it.
    assert (AnomalyType.STRING_UNDERPERFORMANCE, "B") in detector.issues()
    assert detector.update(Sample(START + timedelta(hours=12), 0.0, 0.0, -1.0)) == []
    for step in range(6):
        when = START + timedelta(days=1, minutes=5 * step)
        assert detector.update(Sample(when, 4000.0, None, 40.0, strings=_strings(1.0))) == []
    assert detector.issues() == {}
    # Issues of a previous run (from the store); unknown types are ignored.
    detector.restore_issues([("string_underperformance", "B"), ("no_such_type", None)])
    assert list(detector.issues()) == [(AnomalyType.STRING_UNDERPERFORMANCE, "B")]


def test_repair_issue_waits_for_the_share_of_daylight() -> None:
    detector = AnomalyDetector(kwp=5.0, repair_share=0.25)
    for step in range(12 * 4):
        when = START + timedelta(minutes=5 * step)
        detector.update(Sample(when, 0.0, 3000.0, 40.0, poa_measured=True, daylight_hours=12.0))
        if step == 12 * 2:  # active after 30 min, 1.5 h of 12 h: not yet 25 %
            assert detector.active(AnomalyType.NO_PRODUCTION)
            assert detector.issues() == {}
    assert (AnomalyType.NO_PRODUCTION, None) in detector.issues()
    figures = detector.figures(AnomalyType.NO_PRODUCTION)
    assert figures["share_of_daylight"] >= 0.25


def _clear_sky_day(measured_share: float, csi: float | None, wobble: float = 0.0) -> list:
    detector = AnomalyDetector(kwp=5.0)
    events = []
    for step in range(12 * 3):
        when = START + timedelta(minutes=5 * step)
        factor = measured_share * (1 + (wobble if step % 2 else -wobble))
        events += detector.update(
            Sample(when, 4000.0 * factor, 4000.0, 45.0, clear_sky_w=4000.0, forecast_csi=csi)
        )
    return events


def test_clear_sky_judgement_needs_both_sides() -> None:
    started = [e for e in _clear_sky_day(0.5, 1.0) if e.active]
    assert [(e.type, e.basis) for e in started] == [(AnomalyType.UNDERPERFORMANCE, Basis.CLEAR_SKY)]
    # Stable measured power but a cloudy forecast, or a clear forecast but ragged power
    # (passing clouds), or no weather entity at all: nothing is judged against the model.
    assert _clear_sky_day(0.5, 0.5) == []
    assert _clear_sky_day(0.5, 1.0, wobble=0.3) == []
    assert _clear_sky_day(0.5, None) == []
    # The threshold widens on clear sky: 75 % of the model is not underperformance there.
    assert _clear_sky_day(0.75, 1.0) == []


def test_no_production_waits_longer_without_light_forecast() -> None:
    detector = AnomalyDetector(kwp=5.0)
    times = []
    for step in range(20):
        when = START + timedelta(minutes=5 * step)
        if detector.update(Sample(when, 0.0, 3000.0, 40.0, clear_sky_w=6000.0)):
            times.append(when)
    assert times == [START + timedelta(hours=1)]  # not NO_PRODUCTION_DURATION: no forecast
