"""Constants of the EV surplus charging kind (``ev_charging``): config keys and defaults."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

CONF_CHARGER: Final = "charger"
"""Entity id of the charger's on/off entity (``switch`` or ``input_boolean``)."""
CONF_CURRENT_ENTITY: Final = "current_entity"
"""Optional entity id of the charging-current setting (``number`` or ``input_number``, A)."""
CONF_PHASES: Final = "phases"
"""Phases the charger uses: ``"1"`` or ``"3"`` (string, as the select selector returns it)."""
CONF_PHASE_SWITCH_ENTITY: Final = "phase_switch_entity"
"""Optional entity id of a 1/3-phase switch (``switch``/``input_boolean``; on = 3 phases)."""
CONF_VOLTAGE: Final = "voltage"
"""Phase voltage (V)."""
CONF_GRID_POWER: Final = "grid_power"
"""Entity id of the net grid power sensor (W or kW)."""
CONF_GRID_SIGN: Final = "grid_sign"
"""Sign convention of the grid power sensor, a :class:`GridSign`."""
CONF_BATTERY_SOC: Final = "battery_soc"
"""Optional entity id of the home battery's state of charge sensor (%)."""

# Settings the number entities change at run time (their initial values live in entry.data);
# the names are the fields of ``ev.controller.ControllerSettings``.
CONF_START_THRESHOLD: Final = "start_threshold"
CONF_STOP_THRESHOLD: Final = "stop_threshold"
CONF_START_DELAY: Final = "start_delay"
CONF_STOP_DELAY: Final = "stop_delay"
CONF_MIN_CURRENT: Final = "min_current"
CONF_MAX_CURRENT: Final = "max_current"
CONF_BATTERY_PRIORITY_SOC: Final = "battery_priority_soc"

# Options (options flow).
CONF_MIN_ON_TIME: Final = "min_on_time"
CONF_MIN_OFF_TIME: Final = "min_off_time"
CONF_PHASE_SWITCH_DELAY: Final = "phase_switch_delay"
CONF_STALE_TIMEOUT: Final = "stale_timeout"

TICK_INTERVAL: Final = 30.0
"""Seconds between controller ticks without any sensor change (energy accounting); delays
and the stale timeout are met exactly by timers at the controller's next deadline."""


class GridSign(StrEnum):
    """Sign convention of the grid power sensor."""

    IMPORT_POSITIVE = "import_positive"
    """Positive while importing (DSMR net power, most meters)."""
    EXPORT_POSITIVE = "export_positive"
    """Positive while exporting."""
