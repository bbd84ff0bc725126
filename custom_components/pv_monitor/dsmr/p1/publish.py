"""Which sensor states to write for a telegram: the recorder-load policy.

Every telegram is kept for in-process consumers; entity states are written less often:

- power sensors (W: import, export, net, per phase) at most once per ``power_interval``
  seconds (option, default 30 s as core Home Assistant's dsmr; 0 = every telegram);
- voltage, current and average demand at most once per ``max(power_interval, 30 s)``
  (0 = every telegram);
- everything else (energy counters, gas/water/heat, tariff, event counters) when it
  changes, at most once per ``max(power_interval, 60 s)`` (0 = every telegram): the
  recorder compiles statistics every 5 minutes, so a counter written once a minute moves
  at most a minute of energy across an hour boundary;
- and every published state again, unchanged, once it is :data:`REWRITE_INTERVAL` old, so
  that any consumer judging freshness by ``last_reported`` sees the meter alive.

A changed state is a new recorder row; an unchanged rewrite is only a ``state_reported``
event, for which Home Assistant's recorder stores no row: ``StateMachine.async_set_internal``
(``homeassistant/core.py``) fires ``EVENT_STATE_REPORTED`` instead of
``EVENT_STATE_CHANGED`` when state and attributes are the same; that event is in
``EVENTS_EXCLUDED_FROM_MATCH_ALL``, so the recorder's ``MATCH_ALL`` listener
(``components/recorder/core.py``) never receives it; ``Recorder._process_one_event`` writes
a ``states`` row only for ``EVENT_STATE_CHANGED``, and
``_process_state_changed_event_into_session`` then sets the previous row's
``last_reported_ts`` from the old state (an update of that row, not a new one).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from .mapping import MEASUREMENT_KEYS, POWER_KEYS

SLOW_MEASUREMENT_INTERVAL: Final = 30.0
"""Seconds between writes of voltage/current/average-demand states (unless interval 0)."""
COUNTER_INTERVAL: Final = 60.0
"""Seconds between writes of counters and other slow states (unless interval 0)."""
REWRITE_INTERVAL: Final = 20.0
"""Seconds after which an unchanged state is written again: a third of the EV surplus
controller's default stale timeout (60 s), so a consumer with that timeout never sees the
meter stale while telegrams arrive."""

_POWER: Final = frozenset(POWER_KEYS)
_MEASUREMENT: Final = frozenset(MEASUREMENT_KEYS)


class StatePublisher:
    """Decides the state writes of one meter; times are monotonic seconds.

    :attr:`written` holds the value each sensor shows (its last written state).
    """

    def __init__(self, power_interval: float) -> None:
        self.power_interval = max(0.0, power_interval)
        self.measurement_interval = (
            0.0 if self.power_interval == 0 else max(self.power_interval, SLOW_MEASUREMENT_INTERVAL)
        )
        self.counter_interval = (
            0.0 if self.power_interval == 0 else max(self.power_interval, COUNTER_INTERVAL)
        )
        self.written: dict[str, float | int | str] = {}
        self._written_at: dict[str, float] = {}
        self._last_power: float | None = None
        self._last_measurement: float | None = None
        self._last_counter: float | None = None

    def reset(self) -> None:
        """Forget when states were written: the next telegram writes every state."""
        self._written_at.clear()
        self._last_power = self._last_measurement = self._last_counter = None

    @staticmethod
    def _due(last: float | None, interval: float, now: float) -> bool:
        return interval == 0 or last is None or now - last >= interval

    def publish(self, now: float, states: Iterable[tuple[str, float | int | str]]) -> list[str]:
        """Keys whose state must be written now, given a telegram's ``(key, value)`` pairs.

        A key is returned when its new value is due and differs from :attr:`written`, or
        when its last write is :data:`REWRITE_INTERVAL` old (then possibly unchanged).
        """
        power_due = self._due(self._last_power, self.power_interval, now)
        measurement_due = self._due(self._last_measurement, self.measurement_interval, now)
        counter_due = self._due(self._last_counter, self.counter_interval, now)
        if power_due:
            self._last_power = now
        if measurement_due:
            self._last_measurement = now
        if counter_due:
            self._last_counter = now
        keys: list[str] = []
        for key, value in states:
            if key in _POWER:
                due = power_due
            elif key in _MEASUREMENT:
                due = measurement_due
            else:
                due = counter_due
            if due and (key not in self._written_at or self.written.get(key) != value):
                self.written[key] = value
            elif (
                key in self._written_at and now - self._written_at[key] < REWRITE_INTERVAL
            ) or key not in self.written:
                continue
            self._written_at[key] = now
            keys.append(key)
        return keys
