"""The demo home's day: real PV and household-load shapes mapped onto the demo site.

Everything ``scripts/develop`` replays (the Growatt datalogger, the P1 meter) and the week of
history it imports comes from this module, so the inverter, the meter and the statistics agree:

- **PV**: the minute-by-minute cloud pattern of a real measured day, the AC power of NREL's
  SERF East system (Golden, Colorado, 18 March 2022, a day with passing clouds;
  ``tests/fixtures/ev/serf_east_2022-03-18_ac_power_1min.csv``, source and licence in
  ``tests/fixtures/ev/README.md``). Its clearness ``k`` (measured power over its own upper
  envelope, the running maximum over +/-45 minutes) is moved onto the demo site's daylight
  (sunrise to sunset, stretched linearly) and multiplied with the clear-sky AC power of the
  demo array, modelled with the integration's own pvlib chain (``pv_system/solar/forecast``:
  the same model as the forecast). So the demo follows the real day's clouds under the
  demo site's sun (a Dutch December day is short and low).
- **Load**: the BDEW standard household profile H25, March working day
  (``tests/fixtures/ev/bdew_h25_march_weekday.csv``, demandlib 0.2.2), scaled to
  :data:`ANNUAL_LOAD_KWH` and held for each quarter hour.
- **Grid**: import = max(load - PV, 0), export = max(PV - load, 0), split into the Dutch
  tariffs (1 = low: 23:00-07:00 and weekends, 2 = normal).
- **Gas**: a constant :data:`GAS_M3_PER_HOUR` (an assumption, not measured).

Every day repeats the same real day (with its own date's sun). Counters are the integral
of the powers since the demo's ``epoch`` (persisted by ``scripts/develop``), so they only
grow, whenever the demo runs.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
import math
from pathlib import Path
import sys
from typing import Any, Final
from zoneinfo import ZoneInfo

import numpy as np

REPO: Final = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "custom_components" / "pv_monitor" / "pv_system"))

from solar.forecast import PvArray, PvSite, simulate, solar_geometry  # noqa: E402

FIXTURES: Final = REPO / "tests" / "fixtures" / "ev"
SERF_CSV: Final = FIXTURES / "serf_east_2022-03-18_ac_power_1min.csv"
BDEW_CSV: Final = FIXTURES / "bdew_h25_march_weekday.csv"

TIME_ZONE: Final = ZoneInfo("Europe/Amsterdam")
LATITUDE: Final = 52.0907  # Utrecht, the Netherlands
LONGITUDE: Final = 5.1214
ELEVATION: Final = 5.0
ARRAY: Final = {"name": "Roof", "tilt": 35.0, "azimuth": 180.0, "kwp": 5.0}
AC_LIMIT_KW: Final = 4.6  # a MIN 4600TL-X
SITE: Final = PvSite(
    LATITUDE,
    LONGITUDE,
    ELEVATION,
    (PvArray(str(ARRAY["name"]), 35.0, 180.0, 5.0),),
    AC_LIMIT_KW,
)
ANNUAL_LOAD_KWH: Final = 3500.0  # a Dutch household (CBS average is about 2,800-3,500 kWh)
GAS_M3_PER_HOUR: Final = 0.1
MINUTES: Final = 24 * 60
ENVELOPE_MINUTES: Final = 45
RIPPLE: Final = 0.015


@cache
def serf_clearness() -> tuple[np.ndarray, int, int]:
    """The SERF day's clearness per minute of its day, and its first/last daylight minute."""
    power = np.zeros(MINUTES)
    with SERF_CSV.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            stamp = datetime.fromisoformat(row["measured_on"])
            power[stamp.hour * 60 + stamp.minute] = max(float(row["ac_power__752"]), 0.0)
    lit = np.flatnonzero(power > 0.01 * power.max())
    first, last = int(lit[0]), int(lit[-1])
    envelope = np.array(
        [
            power[max(0, m - ENVELOPE_MINUTES) : m + ENVELOPE_MINUTES + 1].max()
            for m in range(MINUTES)
        ]
    )
    k = np.divide(power, envelope, out=np.zeros(MINUTES), where=envelope > 0)
    return np.clip(k, 0.0, 1.0), first, last


@cache
def load_w() -> np.ndarray:
    """Household load per minute of the day (W), BDEW H25 March working day."""
    quarters: list[float] = []
    with BDEW_CSV.open(encoding="utf-8") as f:
        quarters.extend(float(row["kwh_per_1e6_kwh_per_year"]) for row in csv.DictReader(f))
    kwh = np.array(quarters) * ANNUAL_LOAD_KWH / 1e6  # per quarter hour
    return np.repeat(kwh * 4 * 1000, 15)  # W, held for the quarter hour


def _minute_times(day: date) -> Any:
    import pandas as pd  # noqa: PLC0415

    start = datetime.combine(day, time(), TIME_ZONE)
    return pd.DatetimeIndex([start + timedelta(minutes=m, seconds=30) for m in range(MINUTES)])


@cache
def pv_w(day: date) -> np.ndarray:
    """Demo AC power per minute of ``day`` (W, the minute's mean): k(SERF) x clear sky."""
    times = _minute_times(day)
    geometry = solar_geometry(SITE, times)
    clear = simulate(
        SITE, geometry, geometry["ghi_clear"], geometry["dni_clear"], geometry["dhi_clear"]
    )
    clear_ac = np.nan_to_num(np.asarray(clear["ac"], dtype=float).reshape(-1)[:MINUTES])
    clear_ac = np.clip(clear_ac, 0.0, None)
    lit = np.flatnonzero(clear_ac > 0)
    if lit.size < 2:
        return np.zeros(MINUTES)
    k, s_first, s_last = serf_clearness()
    d_first, d_last = int(lit[0]), int(lit[-1])
    share = (np.arange(MINUTES) - d_first) / (d_last - d_first)
    tau = np.clip(np.rint(s_first + share * (s_last - s_first)).astype(int), 0, MINUTES - 1)
    out = k[tau] * clear_ac
    out[(np.arange(MINUTES) < d_first) | (np.arange(MINUTES) > d_last)] = 0.0
    return out


def low_tariff(day: date) -> np.ndarray:
    """Per minute: True in the Dutch low tariff (23:00-07:00 and all weekend)."""
    minutes = np.arange(MINUTES)
    if day.weekday() >= 5:
        return np.ones(MINUTES, dtype=bool)
    return (minutes < 7 * 60) | (minutes >= 23 * 60)


@dataclass(frozen=True, slots=True)
class Day:
    """Per-minute powers (W) of one day and the energy (kWh) of each minute's flows."""

    pv: np.ndarray
    load: np.ndarray
    flows: dict[str, np.ndarray]  # kWh per minute, keys as :data:`COUNTERS`


COUNTERS: Final = (
    "pv",
    "load",
    "import_t1",
    "import_t2",
    "export_t1",
    "export_t2",
    "gas",
)
"""Counter names: PV AC energy, load, grid import/export per tariff (kWh), gas (m3)."""


@cache
def day_data(day: date) -> Day:
    """The demo day ``day`` (local date)."""
    pv = pv_w(day)
    load = load_w()
    imp = np.clip(load - pv, 0.0, None) / 60_000
    exp = np.clip(pv - load, 0.0, None) / 60_000
    low = low_tariff(day)
    flows = {
        "pv": pv / 60_000,
        "load": load / 60_000,
        "import_t1": np.where(low, imp, 0.0),
        "import_t2": np.where(low, 0.0, imp),
        "export_t1": np.where(low, exp, 0.0),
        "export_t2": np.where(low, 0.0, exp),
        "gas": np.full(MINUTES, GAS_M3_PER_HOUR / 60),
    }
    return Day(pv, load, flows)


@cache
def _day_totals(day: date) -> dict[str, float]:
    return {name: float(values.sum()) for name, values in day_data(day).flows.items()}


def counters_between(start: datetime, end: datetime) -> dict[str, float]:
    """Energy (kWh; gas m3) of every counter from ``start`` to ``end`` (aware; 0 if end<start).

    Whole days are summed from their totals, partial minutes interpolated linearly.
    """
    out = dict.fromkeys(COUNTERS, 0.0)
    if end <= start:
        return out
    start_l, end_l = start.astimezone(TIME_ZONE), end.astimezone(TIME_ZONE)
    day = start_l.date()
    while day <= end_l.date():
        day_start = datetime.combine(day, time(), TIME_ZONE)
        lo = max(start_l, day_start)
        hi = min(end_l, datetime.combine(day + timedelta(days=1), time(), TIME_ZONE))
        if lo == day_start and hi.date() != day:
            for name, total in _day_totals(day).items():
                out[name] += total
        else:
            flows = day_data(day).flows
            a = _minute_of(lo, day_start)
            b = _minute_of(hi, day_start)
            for name, per_minute in flows.items():
                out[name] += _integrate(per_minute, a, b)
        day += timedelta(days=1)
    return out


def _minute_of(when: datetime, day_start: datetime) -> float:
    return (when - day_start).total_seconds() / 60


def _integrate(per_minute: np.ndarray, a: float, b: float) -> float:
    """Sum of a per-minute series from minute ``a`` to ``b`` (fractions pro rata)."""
    cumulative = np.concatenate(([0.0], np.cumsum(per_minute)))

    def at(x: float) -> float:
        i = min(int(x), MINUTES - 1)
        return (
            float(cumulative[i] + (x - i) * per_minute[i]) if x < MINUTES else float(cumulative[-1])
        )

    return at(b) - at(a)


def power_at(when: datetime) -> tuple[float, float]:
    """(PV AC power, household load) in W at ``when`` (aware).

    Linear between the minutes' values (placed at the minutes' middles), plus a ripple of
    +/-3 % on the load that averages out over a minute, so that the power moves every second,
    as a real one does; the counters integrate the minutes' means.
    """
    local = when.astimezone(TIME_ZONE)
    data = day_data(local.date())
    x = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 6e7 - 0.5
    i = max(0, min(int(x // 1), MINUTES - 2))
    f = min(max(x - i, 0.0), 1.0)
    pv = data.pv[i] + f * (data.pv[i + 1] - data.pv[i])
    load = data.load[i] + f * (data.load[i + 1] - data.load[i])
    # A small appliance ripple (an assumption, mean zero over a minute): a real meter's power
    # is never still, and the BDEW profile holds each quarter hour's mean.
    seconds = local.timestamp()
    ripple = RIPPLE * (math.sin(2 * math.pi * seconds / 30) + math.sin(2 * math.pi * seconds / 12))
    return float(pv), float(load * (1 + ripple))


BASE: Final = {
    # Counter readings at the demo's epoch: those of the real captures used as templates
    # (inverter CUK4CBQ05E: 27,161.5 kWh; the Iskra DSMR 5 meter of tests/fixtures/dsmr/v5.txt
    # had a few kWh only, so the meter starts at a plausible few years' worth instead).
    "pv": 27161.5,
    "load": 18887.9,
    "import_t1": 6012.345,
    "import_t2": 5221.871,
    "export_t1": 1402.118,
    "export_t2": 3990.436,
    "gas": 3120.401,
}


def counters_at(epoch: datetime, when: datetime) -> dict[str, float]:
    """Every counter's reading at ``when`` for a demo that started at ``epoch``."""
    delta = counters_between(epoch, when)
    return {name: BASE[name] + delta[name] for name in COUNTERS}


HISTORY_DAYS: Final = 7
"""Days of history ``scripts/develop`` imports before the demo's first start."""


def epoch(state_dir: Path, now: datetime | None = None) -> datetime:
    """The demo's start (aware), read from ``state_dir/epoch`` or written there now.

    A new demo starts :data:`HISTORY_DAYS` days and one hour before ``now`` (at a whole
    hour), so the history import has a full week.
    """
    path = state_dir / "epoch"
    try:
        return datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        pass
    now = now or datetime.now(TIME_ZONE)
    start = (now - timedelta(days=HISTORY_DAYS, hours=1)).replace(minute=0, second=0, microsecond=0)
    state_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(start.isoformat(), encoding="utf-8")
    return start
