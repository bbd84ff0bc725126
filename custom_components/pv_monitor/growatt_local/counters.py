"""Energy counters of one Growatt inverter through the shared counter guard (no HA import).

Every lifetime (``*_total``, ``operating_hours``) and daily (``*_today``) counter of a live
record goes through :class:`~..common.counter.CounterGuard`: a reading is published only if
the increase since the last accepted one is physically possible. The power behind the limit
is, in this order of preference:

1. the inverter's nominal power from its announce: holding registers 6-7 "Pmax" (normal work
   power, 0.1 VA, high word first) of Growatt's "Modbus RTU Protocol" documents (V3.04/V3.14
   for TL, V1.24 for TL-X/TL3-X/storage); e.g. 30000 = 3,000 VA in the announce of the MIC
   3000TL-X capture ``shine2mqtt_v6_0103_announce_1``), times :data:`NOMINAL_MARGIN`;
2. else the largest power the inverter has reported, times :data:`SEEN_MARGIN`;
3. else the family's largest plausible power (:data:`.protocol.registers.MAX_POWER`).

Operating hours grow by at most one hour per hour. The glue publishes
:meth:`InverterCounters.value`, raises a repair issue on :attr:`Verdict.RESET` and shows
:meth:`InverterCounters.diagnostics`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
import logging
from typing import Any, Final

from ..common.counter import CounterGuard, CounterLimits, Verdict
from ..common.log import LogOnce
from ..common.redact import redact_serial
from .protocol.registers import MAX_POWER, VALUE_UNITS, InverterFamily

_LOGGER = logging.getLogger(__name__)

NOMINAL_MARGIN: Final = 2.0
"""Nominal (AC) power x this: PV arrays are often 1.3-1.5x the inverter's AC rating and a
hybrid charges its battery beside the AC output."""
SEEN_MARGIN: Final = 3.0
"""Largest power seen x this, while the nominal power is unknown."""
SEEN_MIN_W: Final = 500.0
"""Largest power seen below this (a cloudy morning) says nothing yet: the family maximum."""

COUNTER_KEYS: Final = frozenset(
    key for key, unit in VALUE_UNITS.items() if unit in ("kWh", "kvarh", "h")
)
"""Every decoded value that is an energy (or hours) counter."""
POWER_KEYS: Final = tuple(key for key, unit in VALUE_UNITS.items() if unit in ("W", "VA", "var"))

_HOURS_LIMITS: Final = CounterLimits(max_power_kw=1.0, resolution=0.1)
"""Operating hours: one hour per hour (the 'power' of an hour counter is 1 h/h), plus six
minutes for records sent in a burst."""


def nominal_power_w(registers: Mapping[int, int]) -> float | None:
    """Nominal power (VA) from an announce's holding registers 6-7 (0.1 VA); None if absent."""
    high, low = registers.get(6), registers.get(7)
    if high is None or low is None:
        return None
    value = ((high & 0xFFFF) << 16 | (low & 0xFFFF)) / 10
    return value if 0 < value <= 1_000_000 else None


@dataclass(slots=True)
class InverterCounters:
    """The guards of one inverter's counters and the power limit they share."""

    serial: str
    family: InverterFamily | None = None
    nominal_w: float | None = None
    largest_w: float = 0.0
    guards: dict[str, CounterGuard] = field(default_factory=dict)
    logs: dict[str, LogOnce] = field(default_factory=dict)

    def max_power_kw(self) -> float:
        """The power limit (kW) of the energy counters, by the preference above."""
        if self.nominal_w:
            return self.nominal_w * NOMINAL_MARGIN / 1000
        if self.largest_w >= SEEN_MIN_W:
            return self.largest_w * SEEN_MARGIN / 1000
        family = self.family or InverterFamily.TL3_X  # unknown: the largest family limit
        return MAX_POWER[family] / 1000

    def limits(self, key: str) -> CounterLimits:
        """The guard limits of counter ``key`` under the current power limit."""
        if key == "operating_hours":
            return _HOURS_LIMITS
        return CounterLimits(max_power_kw=self.max_power_kw(), daily=key.endswith("_today"))

    def observe_power(self, values: Mapping[str, Any]) -> None:
        """Remember the largest plausible power reported (used while no nominal power)."""
        if self.nominal_w:
            return
        for key in POWER_KEYS:
            value = values.get(key)
            if isinstance(value, (int, float)) and value > self.largest_w:
                self.largest_w = float(value)

    def _guard(self, key: str) -> CounterGuard:
        guard = self.guards.get(key)
        if guard is None:
            guard = self.guards[key] = CounterGuard(self.limits(key))
        elif key != "operating_hours" and guard.limits.max_power_kw != self.max_power_kw():
            guard.limits = replace(guard.limits, max_power_kw=self.max_power_kw())
        return guard

    def restore(self, key: str, value: float, at: float, day: Any = None) -> None:
        """Seed counter ``key`` with its value from before a restart (the baseline)."""
        self._guard(key).restore(value, at, day)

    def value(self, key: str) -> float | None:
        """What counter ``key`` publishes (None before any accepted value)."""
        guard = self.guards.get(key)
        return None if guard is None else guard.value

    def offer(self, key: str, value: float, at: float, day: Any) -> Verdict:
        """Judge a reading of counter ``key``; log the first drop and the recovery once."""
        guard = self._guard(key)
        previous = guard.value
        verdict = guard.offer(value, at, day)
        if verdict in (Verdict.HELD, Verdict.REJECTED):
            self._log(key).problem(
                "Inverter %s: %s reading %s is not plausible after %s (limit %.1f kW); it is "
                "not published, further drops are counted in the diagnostics",
                redact_serial(self.serial),
                key,
                value,
                previous,
                guard.limits.max_power_kw,
            )
        elif verdict is not Verdict.UNCHANGED and key in self.logs:
            self.logs[key].recovered(
                "Inverter %s: %s plausible again at %s", redact_serial(self.serial), key, value
            )
        return verdict

    def _log(self, key: str) -> LogOnce:
        log = self.logs.get(key)
        if log is None:
            log = self.logs[key] = LogOnce(_LOGGER)
        return log

    def diagnostics(self) -> dict[str, Any]:
        """Power limit and, per counter, value, held candidates, drops and resets."""
        return {
            "max_power_kw": round(self.max_power_kw(), 3),
            "nominal_power_w": self.nominal_w,
            "largest_power_w": self.largest_w,
            "counters": {key: guard.diagnostics() for key, guard in sorted(self.guards.items())},
        }
