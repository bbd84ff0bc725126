"""Constants of the EV surplus charging kind (``ev_charging``): config keys and defaults.

:class:`EvChargingSettings` is what an entry's data and options say, typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Final, Self

from .controller import SETTING_DEFAULTS, ControllerSettings

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


@dataclass(frozen=True, slots=True, kw_only=True)
class EvChargingSettings:
    """What one EV charging entry is set up with, read once from its data and options.

    The runtime works from this object only (a misspelt field is a ``mypy`` error); the
    flow owns the ``CONF_*`` keys it is stored under. Built by :meth:`from_mapping`.
    """

    charger: str
    """Entity id of the charger's on/off entity (``switch``/``input_boolean``; data
    ``charger``)."""
    current_entity: str | None
    """Entity id of the charging-current setting (``number``/``input_number``, A); None: the
    current is fixed (data ``current_entity``)."""
    phase_switch_entity: str | None
    """Entity id of the 1/3-phase switch (on = 3 phases); None: no phase switching (data
    ``phase_switch_entity``)."""
    grid_power: str
    """Entity id of the net grid power sensor (W, kW or MW; data ``grid_power``)."""
    grid_sign: GridSign
    """Sign convention of that sensor (data ``grid_sign``; import positive when absent)."""
    battery_soc: str | None
    """Entity id of the home battery's state of charge sensor (%); None: no battery priority
    (data ``battery_soc``)."""
    controller: ControllerSettings
    """The controller's numbers (W, A, V, s, %), each stored under its field name: the
    set-up values in the data, the timing options in the options; a missing one takes its
    :data:`.controller.SETTING_DEFAULTS` value."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], options: Mapping[str, Any]) -> Self:
        """The settings of an entry's ``data`` and ``options`` (defaults for what is absent).

        Without a current entity the charger's current is fixed: the maximum equals the
        minimum. Without a battery sensor there is no battery priority.

        Raises:
            KeyError: ``data`` lacks the charger, its phases or the grid sensor.
            ValueError: the stored values are inconsistent
                (:meth:`.controller.ControllerSettings.validate`).
        """
        current_entity = data.get(CONF_CURRENT_ENTITY) or None
        phase_switch_entity = data.get(CONF_PHASE_SWITCH_ENTITY) or None
        battery_soc = data.get(CONF_BATTERY_SOC) or None
        stored = {**data, **options}
        numbers: dict[str, Any] = {
            key: float(stored.get(key, default)) for key, default in SETTING_DEFAULTS.items()
        }
        if current_entity is None:
            numbers[CONF_MAX_CURRENT] = numbers[CONF_MIN_CURRENT]
        controller = ControllerSettings(
            phases=int(data[CONF_PHASES]),
            phase_switching=phase_switch_entity is not None,
            **numbers,
        )
        if battery_soc is None:
            controller = replace(controller, battery_priority_soc=None)
        return cls(
            charger=data[CONF_CHARGER],
            current_entity=current_entity,
            phase_switch_entity=phase_switch_entity,
            grid_power=data[CONF_GRID_POWER],
            grid_sign=GridSign(data.get(CONF_GRID_SIGN, GridSign.IMPORT_POSITIVE)),
            battery_soc=battery_soc,
            controller=controller.validate(),
        )
