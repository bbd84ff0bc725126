"""The pure surplus controller: a replayed real day, and every rule on its own."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import pytest

from custom_components.pv_monitor.ev_charging.controller import (
    ChargeState,
    Command,
    ControllerSettings,
    Mode,
    Status,
    SurplusController,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ev"
ANNUAL_LOAD_KWH = 4000.0
"""Household consumption the BDEW profile is scaled to (kWh a year)."""
GRID_PERIOD = 10
"""Seconds between grid power readings (a DSMR 5 P1 meter sends one every 1-10 s)."""


def load_production() -> dict[int, float]:
    """Measured AC power (W) by second of the day, at each minute of SERF East 2022-03-18."""
    production: dict[int, float] = {}
    with (FIXTURES / "serf_east_2022-03-18_ac_power_1min.csv").open() as file:
        for row in csv.DictReader(file):
            moment = datetime.fromisoformat(row["measured_on"])
            second = moment.hour * 3600 + moment.minute * 60
            production[second] = max(0.0, float(row["ac_power__752"]))
    return production


def load_household() -> list[float]:
    """Mean household load (W) of each quarter hour, BDEW H25 March working day, 4000 kWh/a."""
    with (FIXTURES / "bdew_h25_march_weekday.csv").open() as file:
        rows = list(csv.DictReader(file))
    scale = ANNUAL_LOAD_KWH / 1_000_000
    return [float(row["kwh_per_1e6_kwh_per_year"]) * scale * 4 * 1000 for row in rows]


PRODUCTION = load_production()
HOUSEHOLD = load_household()


def pv_at(second: int) -> float:
    """Production (W), linear between the measured minutes, 0 outside the series."""
    minute = second - second % 60
    first = PRODUCTION.get(minute)
    if first is None:
        return 0.0
    following = PRODUCTION.get(minute + 60, first)
    return first + (following - first) * (second - minute) / 60


def surplus_at(second: int) -> float:
    """Production minus household load (W) at ``second`` of the day, without the car."""
    return pv_at(second) - HOUSEHOLD[second // 900]


def test_fixture_day_is_real() -> None:
    assert len(PRODUCTION) == 1167
    assert max(PRODUCTION.values()) == pytest.approx(4628.5)
    assert len(HOUSEHOLD) == 96
    # BDEW's March working day is 2398.885 kWh per 1e6 kWh/a: 9.6 kWh for 4000 kWh/a.
    assert sum(HOUSEHOLD) / 4 / 1000 == pytest.approx(9.596, abs=0.001)


@dataclass
class Replay:
    """Result of replaying the day: per second, what the charger did."""

    settings: ControllerSettings
    charging: list[bool] = field(default_factory=list)
    current: list[float] = field(default_factory=list)
    phases: list[int] = field(default_factory=list)
    status: list[Status] = field(default_factory=list)
    fresh: list[bool] = field(default_factory=list)
    solar_to_car_wh: float = 0.0
    controller: SurplusController | None = None

    def periods(self, on: bool) -> list[tuple[int, int]]:
        """(start, end) seconds of every run of charging == ``on``, the last one open."""
        runs: list[tuple[int, int]] = []
        start = 0
        for second in range(1, len(self.charging) + 1):
            if second == len(self.charging) or self.charging[second] != self.charging[start]:
                if self.charging[start] == on:
                    runs.append((start, second))
                start = second
        return runs


def replay(
    settings: ControllerSettings,
    mode: Mode = Mode.SOLAR,
    outage: tuple[int, int] | None = None,
    soc: float | None = None,
) -> Replay:
    """Charge on the replayed day, second by second; the car follows each command at once.

    The grid meter reports every :data:`GRID_PERIOD` seconds (none during ``outage``), the
    controller ticks every second.
    """
    controller = SurplusController(settings, now=0.0, mode=mode)
    controller.update_battery(soc)
    result = Replay(settings=settings, controller=controller)
    command = Command(charging=False, current=0.0, phases=settings.phases)
    for second in range(86_400):
        car = command.current * settings.voltage * command.phases if command.charging else 0.0
        grid = car - surplus_at(second)
        in_outage = outage is not None and outage[0] <= second < outage[1]
        if second % GRID_PERIOD == 0 and not in_outage:
            controller.update_grid(grid, float(second))
        if command.charging:
            result.solar_to_car_wh += max(0.0, car - max(0.0, grid)) / 3600
        command = controller.tick(float(second))
        result.charging.append(command.charging)
        result.current.append(command.current)
        result.phases.append(command.phases)
        result.status.append(controller.status)
        result.fresh.append(not in_outage)
    return result


def assert_rules(result: Replay) -> None:
    """The issue's acceptance rules on a replayed day."""
    s = result.settings
    on_periods = result.periods(True)
    off_periods = result.periods(False)
    # No more toggles than the minimum on/off times allow: every completed on period lasts
    # at least min_on_time, every off period between two charges at least min_off_time.
    for start, end in on_periods:
        if end < len(result.charging):
            assert end - start >= s.min_on_time, (start, end)
    for start, end in off_periods:
        if start > 0 and end < len(result.charging):
            assert end - start >= s.min_off_time, (start, end)
    day = len(result.charging)
    assert len(on_periods) <= day / (s.min_on_time + s.min_off_time) + 1
    # Current never outside the limits while charging.
    for charging, current in zip(result.charging, result.current, strict=True):
        if charging:
            assert s.min_current <= current <= s.max_current
        else:
            assert current == 0

    # Stops within the stop delay of sustained import, starts within the start delay of
    # sustained export (once the minimum on/off time allows; one grid period of latency).
    slack = GRID_PERIOD + 1
    shortfall_since: int | None = None
    excess_since: int | None = None
    switched = 0
    for second in range(1, day):
        if result.charging[second] != result.charging[second - 1]:
            switched = second
        if not result.fresh[second]:
            shortfall_since = excess_since = None
            continue
        phases = result.phases[second]
        usable = surplus_at(second)
        fewest = 1 if s.phase_switching else phases
        if usable < s.min_power(fewest) - s.stop_threshold:
            shortfall_since = second if shortfall_since is None else shortfall_since
        else:
            shortfall_since = None
        start_phases = 3 if s.phase_switching and usable >= s.min_power(3) else phases
        if usable >= s.min_power(start_phases) + s.start_threshold:
            excess_since = second if excess_since is None else excess_since
        else:
            excess_since = None
        if result.charging[second] and shortfall_since is not None:
            waited = second - max(shortfall_since, switched + s.min_on_time - s.stop_delay)
            assert waited <= s.stop_delay + slack, f"still charging at {second}"
        if not result.charging[second] and excess_since is not None:
            waited = second - max(excess_since, switched + s.min_off_time - s.start_delay)
            assert waited <= s.start_delay + slack, f"not charging at {second}"


def test_replay_single_phase_defaults() -> None:
    """1 x 230 V, 6-16 A, evcc delays: the car charges through the sunny hours."""
    result = replay(ControllerSettings())
    assert_rules(result)
    on_periods = result.periods(True)
    assert 1 <= len(on_periods) <= 6
    hours_charging = sum(result.charging) / 3600
    assert 5 < hours_charging < 10
    assert result.controller is not None
    # The controller's own solar energy count matches the simulation's.
    assert result.controller.energy_today_wh == pytest.approx(result.solar_to_car_wh, rel=0.02)
    assert result.solar_to_car_wh > 10_000
    assert max(result.current) == 16
    assert Status.WAITING_TO_STOP in result.status
    assert Status.WAITING_TO_START in result.status


def test_replay_thresholds_and_short_times() -> None:
    """Positive thresholds and short guard times still keep every rule."""
    settings = ControllerSettings(
        start_threshold=300,
        stop_threshold=200,
        start_delay=30,
        stop_delay=120,
        min_on_time=60,
        min_off_time=60,
    )
    assert_rules(replay(settings))


def test_replay_three_phase_switching() -> None:
    """3 x 230 V with 1/3-phase switching: both phase counts are used, rules hold.

    The day's surplus covers 3 x 6 A (4140 W) for at most 258 s in a row, so the phase
    switch delay is 2 minutes here (the default 5 minutes never switches on this day).
    """
    settings = ControllerSettings(phases=3, phase_switching=True, phase_switch_delay=120)
    result = replay(settings)
    assert_rules(result)
    charging_phases = {p for p, c in zip(result.phases, result.charging, strict=True) if c}
    assert charging_phases == {1, 3}


def test_replay_three_phase_fixed_rarely_charges() -> None:
    """Without phase switching a 4.6 kW system barely covers 3 x 6 A (4.1 kW)."""
    result = replay(ControllerSettings(phases=3))
    assert_rules(result)
    assert sum(result.charging) < sum(replay(ControllerSettings()).charging)


def test_replay_stale_data_stops_within_timeout() -> None:
    """No grid reading from 12:00 for ten minutes: charging stops within the stale timeout."""
    outage = (12 * 3600, 12 * 3600 + 600)
    result = replay(ControllerSettings(), outage=outage)
    assert result.charging[outage[0] - 1]
    last_reading = outage[0] - GRID_PERIOD
    stop = result.charging.index(False, outage[0])
    assert stop <= last_reading + 60
    assert result.status[stop] == Status.STALE_DATA
    assert not any(result.charging[stop : outage[1]])
    # Fresh data: charging resumes after start delay and minimum off time.
    restart = result.charging.index(True, outage[1])
    assert restart - outage[1] <= 300 + GRID_PERIOD


def test_replay_min_solar_charges_all_day() -> None:
    result = replay(ControllerSettings(), mode=Mode.MIN_SOLAR)
    assert all(result.charging)
    assert Status.CHARGING_MINIMUM in result.status
    assert Status.CHARGING_SURPLUS in result.status
    assert result.periods(True) == [(0, 86_400)]


def test_replay_battery_priority_holds_car() -> None:
    result = replay(ControllerSettings(battery_priority_soc=80), soc=40)
    assert not any(result.charging)
    assert set(result.status) == {Status.BATTERY_PRIORITY}
    result = replay(ControllerSettings(battery_priority_soc=80), soc=90)
    assert any(result.charging)


# -- rules one by one ----------------------------------------------------------------------


def make(**kwargs: float | int | bool | None) -> SurplusController:
    return SurplusController(ControllerSettings(**kwargs).validate(), now=0.0)  # type: ignore[arg-type]


def feed(controller: SurplusController, grid: float, now: float) -> Command:
    controller.update_grid(grid, now)
    return controller.tick(now)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"voltage": 0}, "voltage"),
        ({"phases": 2}, "phases must be 1 or 3"),
        ({"phase_switching": True}, "phase switching"),
        ({"min_current": 0}, "min_current"),
        ({"min_current": 10, "max_current": 8}, "min_current <= max_current"),
        ({"current_step": 0}, "current_step"),
        ({"stop_delay": -1}, "negative"),
        ({"stale_timeout": 0}, "stale_timeout"),
        ({"battery_priority_soc": 101}, "battery_priority_soc"),
    ],
)
def test_invalid_settings(changes: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(ControllerSettings(), **changes).validate()  # type: ignore[arg-type]


def test_start_and_stop_delays() -> None:
    c = make()
    assert c.next_deadline() is None
    assert feed(c, -2000, 0).charging is False
    assert c.status == Status.WAITING_TO_START
    assert c.state == ChargeState.WAITING_TO_START
    assert c.next_deadline() == 60  # start delay; stale at 60 too
    assert feed(c, -2000, 59).charging is False
    command = feed(c, -2000, 60)
    assert command == Command(charging=True, current=8, phases=1)
    assert c.status == Status.CHARGING_SURPLUS
    assert c.surplus == 2000
    # The car now takes 8 A (1840 W); 500 W more export: 10 A.
    assert feed(c, -500, 70).current == 10
    # Import at 10 A: down to what the surplus allows, then a shortfall.
    assert feed(c, 1000, 80).current == 6
    assert feed(c, 1500, 90).current == 6
    assert c.status == Status.WAITING_TO_STOP
    assert c.next_deadline() == 150  # stale comes first; the shortfall began at 80
    feed(c, 1500, 259)
    assert c.status == Status.WAITING_TO_STOP
    assert feed(c, 1500, 260).charging  # stop delay over, on for 200 s only
    assert c.status == Status.MIN_ON_TIME
    assert feed(c, 1500, 359).charging
    assert feed(c, 1500, 360).charging is False
    assert c.status == Status.NO_SURPLUS
    assert c.toggles == 2


def test_min_on_and_off_times() -> None:
    c = make(start_delay=0, stop_delay=0, min_on_time=100, min_off_time=200)
    assert feed(c, -1500, 0).charging
    feed(c, 500, 10)
    assert c.status == Status.MIN_ON_TIME
    assert c.state == ChargeState.WAITING_TO_STOP
    assert c.next_deadline() == 70  # stale before min on time (100)
    assert feed(c, 500, 100).charging is False
    feed(c, -1500, 110)
    assert c.status == Status.MIN_OFF_TIME
    assert c.next_deadline() == 170
    feed(c, -1500, 170)
    assert c.next_deadline() == 230
    assert c.command.charging is False
    assert feed(c, -1500, 300).charging


def test_surplus_comes_back_while_waiting() -> None:
    c = make(start_delay=0)
    feed(c, -1500, 0)
    feed(c, 300, 10)
    assert c.status == Status.WAITING_TO_STOP
    feed(c, -100, 20)
    assert c.status == Status.CHARGING_SURPLUS
    assert c.command.current == 6


def test_modes_off_fast_and_disabled() -> None:
    c = make(phases=3)
    c.mode = Mode.FAST
    assert feed(c, 500, 0) == Command(charging=True, current=16, phases=3)
    assert c.status == Status.CHARGING_FAST
    c.mode = Mode.OFF
    assert feed(c, 500, 1).charging is False
    assert c.status == Status.DISABLED
    assert c.surplus == 16 * 230 * 3 - 500  # the car still counted
    c.mode = Mode.SOLAR
    c.enabled = False
    assert feed(c, -9000, 2).charging is False
    assert c.status == Status.DISABLED
    assert c.grid_power == -9000


def test_stale_and_unavailable() -> None:
    c = make(stale_timeout=30)
    assert c.tick(0).charging is False
    assert c.status == Status.STALE_DATA
    assert c.surplus is None
    c.mode = Mode.FAST
    assert feed(c, 0, 1).charging
    assert c.tick(30).charging
    assert c.tick(31).charging is False
    assert c.status == Status.STALE_DATA
    assert c.next_deadline() is None
    feed(c, 0, 40)
    c.update_grid(None, 41)
    assert c.tick(41).charging is False
    c.enabled = False
    c.tick(42)
    assert c.surplus is None


def test_min_solar_and_battery_priority() -> None:
    c = make(battery_priority_soc=60)
    c.mode = Mode.MIN_SOLAR
    c.update_battery(20)
    assert feed(c, -5000, 0) == Command(charging=True, current=6, phases=1)
    assert c.status == Status.CHARGING_MINIMUM
    c.update_battery(None)
    assert feed(c, -1000, 10).current == 10
    c.mode = Mode.SOLAR
    c.update_battery(59)
    feed(c, -1000, 20)
    assert c.status == Status.WAITING_TO_STOP


def test_phase_switching_up_and_down() -> None:
    c = make(phases=3, phase_switching=True, start_delay=0, phase_switch_delay=100)
    assert feed(c, -2000, 0) == Command(charging=True, current=8, phases=1)
    assert feed(c, -2500, 10).phases == 1  # 4340 W available, switch after 100 s
    assert c.next_deadline() == 70
    assert feed(c, -2500, 60).phases == 1
    feed(c, -2500, 109)
    command = feed(c, -2500, 110)
    assert command.phases == 3
    assert command.current == 8  # (16 A x 230 V + 2500 W) / (3 x 230 V)
    # Two cloudy readings reset the timer, then a dip below 3 x 6 A switches back down.
    assert feed(c, 500, 120).phases == 3
    assert feed(c, -100, 130).phases == 3
    assert feed(c, 500, 140).phases == 3  # 4330 W: still enough for 3 x 6 A
    assert feed(c, 500, 150).phases == 3  # 3640 W: not enough, switch after 100 s
    assert c.status == Status.CHARGING_MINIMUM  # enough for one phase: no shortfall
    assert feed(c, 500, 249).phases == 3
    command = feed(c, 500, 250)
    assert command == Command(charging=True, current=15, phases=1)
    assert c.status == Status.CHARGING_SURPLUS
    # A start with plenty of surplus uses three phases at once.
    c2 = make(phases=3, phase_switching=True, start_delay=0)
    assert feed(c2, -5000, 0).phases == 3


def test_charger_found_on_and_settings_change() -> None:
    c = SurplusController(
        ControllerSettings(phases=3, phase_switching=True),
        now=0,
        charging=True,
        current=11.7,
        phases=1,
    )
    assert c.command == Command(charging=True, current=11, phases=1)
    assert c.state == ChargeState.CHARGING
    c.settings = ControllerSettings(phases=3)
    assert c.command.phases == 3
    assert c.settings.phases == 3
    with pytest.raises(ValueError, match="phases"):
        c.settings = ControllerSettings(phases=5)
    c.energy_today_wh = 5.0
    c.reset_energy()
    assert c.energy_today_wh == 0
    assert c.is_stale(0)
