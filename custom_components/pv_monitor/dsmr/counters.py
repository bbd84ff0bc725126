"""The meter's energy counters through the lifetime-counter guard (``common/counter.py``).

Every energy counter of a telegram (import/export per tariff and totals, kWh; the M-Bus gas
and water meters, m³; heat meters in their own unit) is offered to its own
:class:`~..common.counter.CounterGuard` before the reading is kept or published: a
reading that grows faster than the connection allows, goes backwards or is negative is
held (counted, logged once per counter) and the last accepted value is published instead;
a held value that following readings confirm is a meter swap: one reset and one repair
issue. The guards start from the values the sensors published before a restart or reload
(Home Assistant's restore-state cache), so the first telegram after a reload is judged too.
"""

from __future__ import annotations

from dataclasses import replace
import logging
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.restore_state import async_get as async_get_restore_state
from homeassistant.util import dt as dt_util

from ..common.counter import CounterGuard, CounterLimits, Verdict
from ..common.issues import async_raise_issue
from ..common.log import LogOnce
from ..common.statistics import async_adjust_reset, sensor_statistic_id
from .const import GAS_MAX_FLOW_M3_H, HEAT_MAX_POWER_KW, WATER_MAX_FLOW_M3_H
from .p1.mapping import ENERGY_KEYS, MbusReading, Medium, MeterReading

_LOGGER = logging.getLogger(__name__)

RESOLUTION: Final = 0.01
"""Counter step allowed as jitter (kWh or m³): DSMR meters count in 0.001 steps."""
_HEAT_PER_HOUR: Final[dict[str, float]] = {
    "GJ": HEAT_MAX_POWER_KW * 0.0036,
    "MJ": HEAT_MAX_POWER_KW * 3.6,
    "kWh": HEAT_MAX_POWER_KW,
    "MWh": HEAT_MAX_POWER_KW / 1000,
}
"""The heat bound per hour in each unit a heat meter reports (1 kWh = 3.6 MJ)."""


def mbus_limits(device: MbusReading) -> CounterLimits:
    """The bound of an M-Bus device's counter, per hour in its own unit."""
    if device.medium is Medium.GAS:
        per_hour = GAS_MAX_FLOW_M3_H
    elif device.medium is Medium.WATER:
        per_hour = WATER_MAX_FLOW_M3_H
    else:
        per_hour = _HEAT_PER_HOUR.get(device.unit, _HEAT_PER_HOUR["GJ"])
    return CounterLimits(max_power_kw=per_hour, resolution=RESOLUTION)


def _number(state: State | Any) -> float | None:
    try:
        return float(state.state)
    except (AttributeError, TypeError, ValueError):
        return None


class MeterCounters:
    """The guards of one meter entry's energy counters, by sensor key."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any], max_power_kw: float) -> None:
        self.hass = hass
        self.entry = entry
        self.electricity = CounterLimits(max_power_kw=max_power_kw, resolution=RESOLUTION)
        self.guards: dict[str, CounterGuard] = {}
        self._logs: dict[str, LogOnce] = {}
        self._restored: dict[str, tuple[float, float]] = {}
        self.resets: dict[str, tuple[float, float]] = {}
        """Confirmed resets since start: ``(old, new)`` by counter key."""

    def restore(self) -> None:
        """Load the values the counter sensors showed before the restart or reload."""
        registry = er.async_get(self.hass)
        last_states = async_get_restore_state(self.hass).last_states
        prefix = f"{self.entry.unique_id or self.entry.entry_id}_"
        for entity in er.async_entries_for_config_entry(registry, self.entry.entry_id):
            if entity.domain != Platform.SENSOR or not entity.unique_id.startswith(prefix):
                continue
            key = entity.unique_id.removeprefix(prefix)
            if key not in ENERGY_KEYS and not key.startswith("mbus"):
                continue
            stored = last_states.get(entity.entity_id)
            state = stored.state if stored is not None else self.hass.states.get(entity.entity_id)
            if (value := _number(state)) is not None and state is not None:
                self._restored[key] = (value, state.last_reported.timestamp())

    def apply(self, reading: MeterReading, at: float) -> None:
        """Replace every counter of ``reading`` by its guarded value (removed if none yet)."""
        values = reading.values
        for key in ENERGY_KEYS:
            if key in values:
                guarded = self._offer(key, float(values[key]), at, self.electricity)
                if guarded is None:
                    del values[key]
                else:
                    values[key] = guarded
        for channel, device in list(reading.mbus.items()):
            limits = mbus_limits(device)
            guarded = self._offer(device.key, device.value, at, limits, device.unit)
            if guarded is None:
                del reading.mbus[channel]
            else:
                reading.mbus[channel] = replace(device, value=guarded)

    def _offer(
        self, key: str, value: float, at: float, limits: CounterLimits, unit: str = "kWh"
    ) -> float | None:
        guard = self.guards.get(key)
        if guard is None:
            guard = self.guards[key] = CounterGuard(limits)
            if (restored := self._restored.pop(key, None)) is not None:
                guard.restore(*restored)
        log = self._logs.setdefault(key, LogOnce(_LOGGER))
        verdict = guard.offer(value, at)
        if verdict in (Verdict.HELD, Verdict.REJECTED):
            log.problem(
                "%s: implausible %s reading %s (kept %s); further ones are only counted "
                "(diagnostics)",
                self.entry.title,
                key,
                value,
                guard.value,
            )
        elif verdict is Verdict.RESET:
            self._reset_issue(key, guard)
            old, new = guard.last_reset or (0.0, 0.0)
            prefix = self.entry.unique_id or self.entry.entry_id
            statistic_id = sensor_statistic_id(self.hass, f"{prefix}_{key}")
            async_adjust_reset(self.hass, statistic_id, old, new, dt_util.utcnow(), unit)
        else:
            log.recovered("%s: %s readings are plausible again", self.entry.title, key)
        return guard.value

    def _reset_issue(self, key: str, guard: CounterGuard) -> None:
        """Log the reset and raise (or update) the entry's one repair issue listing them."""
        old, new = guard.last_reset or (0.0, 0.0)
        self.resets[key] = (old, new)
        _LOGGER.warning(
            "%s: %s restarted from %s at %s (meter replaced?); statistics continue",
            self.entry.title,
            key,
            old,
            new,
        )
        changes = "; ".join(
            f"{name}: {was:g} -> {now:g}" for name, (was, now) in sorted(self.resets.items())
        )
        async_raise_issue(
            self.hass,
            self.issue_id,
            "dsmr_counter_reset",
            {"title": self.entry.title, "changes": changes},
        )

    @property
    def issue_id(self) -> str:
        """The repair issue of this entry's confirmed counter resets (meter swap)."""
        return f"dsmr_counter_reset_{self.entry.entry_id}"

    def counter_guards(self) -> dict[str, CounterGuard]:
        """Each counter's guard by its sensor's unique id."""
        prefix = self.entry.unique_id or self.entry.entry_id
        return {f"{prefix}_{key}": guard for key, guard in self.guards.items()}

    def diagnostics(self) -> dict[str, Any]:
        """Each counter's guard: value, held candidates, drops, resets."""
        return {key: guard.diagnostics() for key, guard in sorted(self.guards.items())}
