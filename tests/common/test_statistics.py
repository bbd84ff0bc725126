"""The statistics helpers of the counter rule (pure parts).

Expected values follow Home Assistant's sensor statistics compiler
(``homeassistant/components/sensor/recorder.py``, ``reset_detected``: a new cycle only when
a ``total_increasing`` state falls below 0.9 x the previous one).
"""

from __future__ import annotations

from custom_components.pv_monitor.common.counter import CounterLimits
from custom_components.pv_monitor.common.statistics import hourly_spikes, reset_adjustment


def test_reset_adjustment_cancels_only_what_the_recorder_adds() -> None:
    """Upward: the whole step out; a dip within 10 %: back in; a real drop: the recorder's."""
    assert reset_adjustment(4033.2, 9001.0) == 4033.2 - 9001.0
    assert reset_adjustment(100.0, 95.0) == 5.0
    assert reset_adjustment(100.0, 90.0) == 10.0
    assert reset_adjustment(4032.5, 12.2) == 0.0


def test_hourly_spikes_lists_hours_beyond_the_limit() -> None:
    """6 kW: 9.1 kWh per hour allowed; a +995,967.5 hour and its -995,967.5 return both show."""
    limits = CounterLimits(max_power_kw=6.0)
    rows: list[tuple[float, float | None]] = [
        (0.0, 10.0),
        (3600.0, 19.1),
        (7200.0, None),
        (10800.0, 995_986.6),
        (14400.0, 19.2),
    ]
    spikes = hourly_spikes(rows, limits)
    assert [spike["change"] for spike in spikes] == [995_967.5, -995_967.4]
    assert spikes[0]["start"] == "1970-01-01T03:00:00+00:00"
    assert hourly_spikes(rows[:2], limits) == []
