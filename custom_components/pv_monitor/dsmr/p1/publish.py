"""Which sensor states to write for a telegram: the recorder-load policy.

Every telegram is kept for in-process consumers; entity states are written less often:

- power sensors (W: import, export, net, per phase) at most once per ``power_interval``
  seconds (option, default 5 s; 0 = every telegram);
- voltage, current and average demand at most once per ``max(power_interval, 30 s)``
  (30 s is core Home Assistant's dsmr throttle; 0 = every telegram);
- everything else (energy counters, gas/water/heat, tariff, event counters) when it
  changes;

and any state only when its value differs from the one last written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from .mapping import MEASUREMENT_KEYS, POWER_KEYS

SLOW_MEASUREMENT_INTERVAL: Final = 30.0
"""Seconds between writes of voltage/current/average-demand states (unless interval 0)."""

_POWER: Final = frozenset(POWER_KEYS)
_MEASUREMENT: Final = frozenset(MEASUREMENT_KEYS)


class StatePublisher:
    """Decides the state writes of one meter; times are monotonic seconds."""

    def __init__(self, power_interval: float) -> None:
        self.power_interval = max(0.0, power_interval)
        self.measurement_interval = (
            0.0 if self.power_interval == 0 else max(self.power_interval, SLOW_MEASUREMENT_INTERVAL)
        )
        self._written: dict[str, float | int | str] = {}
        self._last_power: float | None = None
        self._last_measurement: float | None = None

    def reset(self) -> None:
        """Forget what was written: the next telegram writes every state."""
        self._written.clear()
        self._last_power = self._last_measurement = None

    @staticmethod
    def _due(last: float | None, interval: float, now: float) -> bool:
        return interval == 0 or last is None or now - last >= interval

    def publish(self, now: float, states: Iterable[tuple[str, float | int | str]]) -> list[str]:
        """Keys whose state must be written now, given a telegram's ``(key, value)`` pairs."""
        power_due = self._due(self._last_power, self.power_interval, now)
        measurement_due = self._due(self._last_measurement, self.measurement_interval, now)
        if power_due:
            self._last_power = now
        if measurement_due:
            self._last_measurement = now
        keys: list[str] = []
        for key, value in states:
            if (key in _POWER and not power_due) or (key in _MEASUREMENT and not measurement_due):
                continue
            if key not in self._written or self._written[key] != value:
                self._written[key] = value
                keys.append(key)
        return keys
