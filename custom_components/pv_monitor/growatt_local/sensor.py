"""Sensors of PV Monitor: inverter values, and listener diagnostics.

Inverter sensors are created per inverter for every value its records actually carry (the
register maps decide which), as inverters and values appear, and again at start-up from
the entity registry so restored energy counters are there before the first record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from ..common.entity import UNIT_CLASSES, CountSensor, CountSensorDescription
from .coordinator import GrowattLocalConfigEntry, GrowattLocalCoordinator
from .entity import GrowattEntity, registered_entities, track_new_items
from .protocol.registers import FAULT_STATES, STATUS_NAMES, VALUE_UNITS, WARNING_STATES

PARALLEL_UPDATES = 0

_PRECISION: Final = {
    "W": 0,
    "VA": 0,
    "var": 0,
    "V": 1,
    "A": 1,
    "Hz": 2,
    "kWh": 1,
    "kvarh": 1,
    "°C": 1,
    "%": 0,
}
_COUNTER_UNITS: Final = frozenset({"kWh", "kvarh", "h"})

DIAGNOSTIC_KEYS: Final = frozenset(
    {
        "status_code",
        "fault_code",
        "warning_code",
        "p_bus_voltage",
        "n_bus_voltage",
        "ipm_temperature",
        "boost_temperature",
        "operating_hours",
    }
)
"""Values that describe the inverter's health rather than the energy it makes."""

DISABLED_KEYS: Final = (DIAGNOSTIC_KEYS - {"fault_code"}) | {"output_apparent_power"}
"""Noisy or rarely used values: created disabled, the user can enable them.

Every diagnostic value but the fault code (shown by default: it says why nothing is made),
and the apparent power next to the active power.
"""


_CODE_TEXTS: Final = {"fault": FAULT_STATES, "warning": WARNING_STATES}
"""Fault and warning codes as text: enum sensors, shown by default (the raw codes beside
them are diagnostic; the warning code is disabled by default)."""


def _is_disabled(key: str) -> bool:
    # Per-string daily/lifetime energy is rarely used next to the inverter totals.
    return key in DISABLED_KEYS or (key.startswith("pv") and key[2:3].isdigit() and "energy" in key)


@dataclass(frozen=True, kw_only=True)
class GrowattSensorEntityDescription(SensorEntityDescription):
    """Description of an inverter value sensor; ``key`` is the decoded value's key."""

    counter: bool = False
    """An energy (or hours) counter: restored across restarts, available while stale."""


def build_description(key: str, unit: str | None) -> GrowattSensorEntityDescription:
    """Sensor description of the decoded value ``key`` whose unit is ``unit``.

    Device class, state class and precision follow from the unit; counters (``kWh`` and
    ``kvarh``, ``h``) are ``total_increasing``; ``status`` is an enum of every family's state names,
    ``fault`` and ``warning`` enums of the documented code meanings (see ``protocol/codes.py``).
    """
    category = EntityCategory.DIAGNOSTIC if key in DIAGNOSTIC_KEYS else None
    enabled = not _is_disabled(key)
    if key == "status":
        options = sorted({name for names in STATUS_NAMES.values() for name in names.values()})
        return GrowattSensorEntityDescription(
            key=key,
            translation_key=key,
            device_class=SensorDeviceClass.ENUM,
            options=[*options, "unknown"] if "unknown" not in options else options,
        )
    if key in _CODE_TEXTS:
        return GrowattSensorEntityDescription(
            key=key,
            translation_key=key,
            device_class=SensorDeviceClass.ENUM,
            entity_category=EntityCategory.DIAGNOSTIC,
            options=_CODE_TEXTS[key],
        )
    if unit is None or unit not in UNIT_CLASSES:
        return GrowattSensorEntityDescription(
            key=key,
            translation_key=key,
            entity_category=category,
            entity_registry_enabled_default=enabled,
            native_unit_of_measurement=unit,
        )
    device_class, native_unit = UNIT_CLASSES[unit]
    counter = unit in _COUNTER_UNITS
    if key == "battery_soc":
        device_class = SensorDeviceClass.BATTERY
    return GrowattSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=device_class,
        native_unit_of_measurement=native_unit,
        state_class=SensorStateClass.TOTAL_INCREASING if counter else SensorStateClass.MEASUREMENT,
        suggested_display_precision=_PRECISION.get(unit),
        entity_category=category,
        entity_registry_enabled_default=enabled,
        counter=counter,
    )


INVERTER_SENSORS: Final[dict[str, GrowattSensorEntityDescription]] = {
    key: build_description(key, unit) for key, unit in VALUE_UNITS.items()
}
"""Every inverter value sensor, by decoded value key."""


@dataclass(frozen=True, kw_only=True)
class ListenerSensorEntityDescription(CountSensorDescription[GrowattLocalCoordinator]):
    """Description of a listener-wide diagnostic sensor."""


def _listener_stat(
    key: str,
    value_fn: Callable[[GrowattLocalCoordinator], int],
    *,
    state_class: SensorStateClass | None = None,
    enabled: bool = True,
) -> ListenerSensorEntityDescription:
    """A diagnostic counter or gauge of the listener's :class:`ListenerStats`."""
    return ListenerSensorEntityDescription(
        key=key,
        translation_key=key,
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=state_class,
        entity_registry_enabled_default=enabled,
        value_fn=value_fn,
    )


LISTENER_SENSORS: Final = (
    _listener_stat(
        "connections",
        lambda c: c.listener.stats.connections_open,
        state_class=SensorStateClass.MEASUREMENT,
    ),
    _listener_stat("dropped_frames", lambda c: c.listener.stats.frames_dropped),
    _listener_stat("buffered_records", lambda c: c.listener.stats.records_buffered),
    _listener_stat("rejected_connections", lambda c: c.listener.stats.connections_refused),
    _listener_stat("blocked_commands", lambda c: c.listener.stats.commands_blocked, enabled=False),
)


async def async_setup_growatt_local(
    hass: HomeAssistant,
    entry: GrowattLocalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add listener sensors now, inverter sensors as inverters and values appear."""
    coordinator = entry.runtime_data
    async_add_entities(ListenerSensor(coordinator, description) for description in LISTENER_SENSORS)
    # Entities that existed before a restart come back at once, with restored counters.
    track_new_items(
        entry,
        lambda: [
            (serial, key)
            for serial, inverter in coordinator.data.inverters.items()
            for key in inverter.values
            if key in INVERTER_SENSORS
        ],
        lambda new: async_add_entities(
            InverterSensor(coordinator, serial, INVERTER_SENSORS[key]) for serial, key in new
        ),
        restored=[
            (serial, key)
            for serial, key in registered_entities(hass, entry, "sensor")
            if serial != entry.entry_id and key in INVERTER_SENSORS
        ],
    )


class InverterSensor(GrowattEntity, RestoreSensor):
    """One decoded value of one inverter."""

    entity_description: GrowattSensorEntityDescription

    def __init__(
        self,
        coordinator: GrowattLocalCoordinator,
        serial: str,
        description: GrowattSensorEntityDescription,
    ) -> None:
        """Create the sensor of ``description.key`` for inverter ``serial``."""
        super().__init__(coordinator, serial, description.key, per_value=True)
        self.serial = serial
        self.entity_description = description

    async def async_added_to_hass(self) -> None:
        """Restore a counter's last value: the baseline of the coordinator's counter guard."""
        await super().async_added_to_hass()
        if not self.entity_description.counter:
            return
        last = await self.async_get_last_sensor_data()
        state = await self.async_get_last_state()
        if last is not None and isinstance(last.native_value, (int, float)):
            at = state.last_updated if state is not None else dt_util.utcnow()
            self.coordinator.restore_value(
                self.serial, self.entity_description.key, float(last.native_value), at
            )

    @property
    def _value(self) -> float | int | str | None:
        inverter = self.coordinator.data.inverters.get(self.serial)
        if inverter is not None and self.entity_description.key in inverter.values:
            return inverter.values[self.entity_description.key]
        return self.coordinator.restored_value(self.serial, self.entity_description.key)

    @property
    def available(self) -> bool:
        """Counters stay available with their last value; live values go stale."""
        if self._value is None:
            return False
        return self.entity_description.counter or self.coordinator.inverter_online(self.serial)

    @property
    def native_value(self) -> StateType:
        """The decoded value in the description's unit."""
        return self._value

    def _state_key(self) -> StateType:
        return self._value


class ListenerSensor(GrowattEntity, CountSensor[GrowattLocalCoordinator]):
    """A counter of the listener itself (service device of the entry)."""

    entity_description: ListenerSensorEntityDescription

    def __init__(
        self,
        coordinator: GrowattLocalCoordinator,
        description: ListenerSensorEntityDescription,
    ) -> None:
        """Create the listener sensor ``description``."""
        super().__init__(coordinator, None, description.key)
        self.entity_description = description

    def _state_key(self) -> int:
        return self.native_value
