"""The lifetime-counter rule (common/counter.py): unit cases and a property test.

The cases are the ones the energy-totals issue measured: a valid-CRC record with
``energy_total`` = 1,000,000 kWh after 4,032.5 kWh, a DSMR telegram with 999,999,999.999 kWh,
a negative reading, a meter swap, and zeros at night.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.pv_monitor.common.counter import (
    METER_MAX_POWER_KW,
    CounterGuard,
    CounterLimits,
    Verdict,
)

INVERTER = CounterLimits(max_power_kw=6.0)
"""A 6 kW inverter (the largest TL-X of the captures is 6 kW)."""


def test_lone_spike_is_held_and_the_real_series_continues() -> None:
    guard = CounterGuard(INVERTER)
    assert guard.offer(4032.5, 0) is Verdict.ACCEPTED
    assert guard.offer(1_000_000.0, 300) is Verdict.HELD
    assert guard.value == 4032.5
    for i in range(1, 10):
        assert guard.offer(4032.5 + 0.1 * i, 300 + 300 * i) is Verdict.ACCEPTED
    assert guard.value == pytest.approx(4033.4)
    assert guard.dropped == 1
    assert guard.resets == 0


def test_stuck_garbage_never_confirms() -> None:
    guard = CounterGuard(INVERTER)
    guard.offer(4032.5, 0)
    verdicts = [guard.offer(1_000_000.0, 300 * i) for i in range(1, 20)]
    assert set(verdicts) == {Verdict.HELD}
    assert guard.value == 4032.5


def test_zeros_at_night_never_reset() -> None:
    guard = CounterGuard(INVERTER)
    guard.offer(4032.5, 0)
    assert {guard.offer(0.0, 300 * i) for i in range(1, 100)} == {Verdict.HELD}
    assert guard.value == 4032.5
    assert guard.offer(4032.6, 300 * 100) is Verdict.ACCEPTED


def test_meter_swap_confirms_after_readings_that_move() -> None:
    guard = CounterGuard(CounterLimits(max_power_kw=METER_MAX_POWER_KW))
    guard.offer(12_345.6, 0)
    assert guard.offer(4.5, 60) is Verdict.HELD
    assert guard.offer(4.6, 360) is Verdict.HELD
    assert guard.offer(4.7, 720) is Verdict.RESET
    assert guard.value == 4.7
    assert guard.last_reset == (12_345.6, 4.7)
    assert guard.offer(4.8, 780) is Verdict.ACCEPTED


def test_wrong_restored_baseline_is_replaced() -> None:
    guard = CounterGuard(INVERTER)
    guard.restore(1_000_000.0, 0)
    verdicts = [guard.offer(4032.5 + 0.2 * i, 300 * (i + 1)) for i in range(4)]
    assert verdicts == [Verdict.HELD, Verdict.HELD, Verdict.RESET, Verdict.ACCEPTED]
    assert guard.value == pytest.approx(4033.1)


@pytest.mark.parametrize("value", [-4.6, math.nan, math.inf])
def test_impossible_values_are_rejected(value: float) -> None:
    guard = CounterGuard(INVERTER)
    guard.offer(10.0, 0)
    assert guard.offer(value, 60) is Verdict.REJECTED
    assert guard.value == 10.0
    assert guard.diagnostics()["dropped"] == 1


def test_jitter_within_resolution_keeps_the_value() -> None:
    guard = CounterGuard(INVERTER)
    guard.offer(10.0, 0)
    assert guard.offer(9.95, 60) is Verdict.UNCHANGED
    assert guard.value == 10.0


def test_daily_counter_restarts_once_a_day() -> None:
    guard = CounterGuard(CounterLimits(max_power_kw=6.0, daily=True))
    guard.offer(25.3, 0, day=1)
    assert guard.offer(0.0, 3600, day=2) is Verdict.DAY_STARTED
    assert guard.offer(30.0, 3660, day=2) is Verdict.HELD
    assert guard.value == 0.0


def test_restore_ignores_garbage_and_diagnostics_shape() -> None:
    guard = CounterGuard(INVERTER)
    guard.restore(-1.0, 0)
    assert guard.value is None
    guard.offer(5.0, 0)
    guard.offer(500.0, 60)
    assert guard.diagnostics() == {
        "value": 5.0,
        "held_candidates": [500.0],
        "dropped": 1,
        "resets": 0,
        "last_reset": None,
    }


def _garbage(data: st.DataObject, published: float, allowed: float) -> float:
    """A bad reading that physics rules out (the kinds the energy-totals issue saw)."""
    return data.draw(
        st.one_of(
            st.floats(min_value=published + allowed + 1, allow_infinity=True),
            st.floats(max_value=published - 1, allow_infinity=True),
            st.sampled_from([0.0, -4.6, math.nan, 1_000_000.0 + published, 999_999_999.999]),
        )
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_isolated_garbage_never_shows(data: st.DataObject) -> None:
    """Non-decreasing, within the physical bound from its start, equal to the true series."""
    start = data.draw(st.floats(min_value=10, max_value=1e5))
    guard = CounterGuard(INVERTER)
    value, at, published = start, 0.0, []
    guard.offer(value, at)
    garbage_before = False
    for _ in range(data.draw(st.integers(min_value=1, max_value=60))):
        elapsed = data.draw(st.floats(min_value=1, max_value=7200))
        at += elapsed
        if not garbage_before and data.draw(st.booleans()):
            assert guard.value is not None
            garbage = _garbage(data, guard.value, INVERTER.allowed_increase(at - (guard.at or 0)))
            before = guard.value
            assert guard.offer(garbage, at) is not Verdict.ACCEPTED
            assert guard.value == before
            garbage_before = True
        else:
            power = data.draw(st.floats(min_value=0, max_value=INVERTER.max_power_kw))
            value += power * elapsed / 3600
            guard.offer(value, at)
            assert guard.value == value
            garbage_before = False
        published.append(guard.value)
        assert guard.value <= start + INVERTER.allowed_increase(at)
    assert published == sorted(published)
    assert guard.resets == 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_any_readings_stay_bounded(data: st.DataObject) -> None:
    """Whatever arrives: between resets the counter never drops and never outruns physics."""
    guard = CounterGuard(INVERTER)
    at, resets, last = 0.0, 0, None
    base: tuple[float, float] | None = None
    for _ in range(data.draw(st.integers(min_value=1, max_value=80))):
        at += data.draw(st.floats(min_value=1, max_value=7200))
        verdict = guard.offer(data.draw(st.floats(allow_nan=True, allow_infinity=True)), at)
        if guard.value is None:
            continue
        if base is None or verdict is Verdict.RESET:
            base = (guard.value, at)
            resets += verdict is Verdict.RESET
        else:
            assert last is not None
            assert guard.value >= last
            assert guard.value <= base[0] + INVERTER.allowed_increase(at - base[1])
        last = guard.value
    assert guard.resets == resets
