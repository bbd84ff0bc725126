"""Sensor entity descriptions that every kind builds the same way: one unit, one rule.

A measured value is described by its key, its unit and its display precision; the device
class and the native unit follow from the unit (:data:`UNIT_CLASSES`), the state class from
whether it is a lifetime counter (``total_increasing``, Home Assistant's rule for meters
that only count up and restart from zero on a meter swap) or a momentary reading
(``measurement``). Growatt cloud, DSMR and EV charging use it; a kind passes its own
description class (extra fields such as ``value_fn`` go through ``**kwargs``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntityDescription,
)
from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfReactiveEnergy,
    UnitOfReactivePower,
    UnitOfTemperature,
    UnitOfTime,
    UnitOfVolume,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .runtime import PlatformSetup

UNIT_CLASSES: Final[dict[str, tuple[SensorDeviceClass | None, str]]] = {
    "W": (SensorDeviceClass.POWER, UnitOfPower.WATT),
    "VA": (SensorDeviceClass.APPARENT_POWER, "VA"),
    "var": (SensorDeviceClass.REACTIVE_POWER, UnitOfReactivePower.VOLT_AMPERE_REACTIVE),
    "V": (SensorDeviceClass.VOLTAGE, UnitOfElectricPotential.VOLT),
    "A": (SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE),
    "Hz": (SensorDeviceClass.FREQUENCY, UnitOfFrequency.HERTZ),
    "kWh": (SensorDeviceClass.ENERGY, UnitOfEnergy.KILO_WATT_HOUR),
    "GJ": (SensorDeviceClass.ENERGY, UnitOfEnergy.GIGA_JOULE),
    "kvarh": (
        SensorDeviceClass.REACTIVE_ENERGY,
        UnitOfReactiveEnergy.KILO_VOLT_AMPERE_REACTIVE_HOUR,
    ),
    "h": (SensorDeviceClass.DURATION, UnitOfTime.HOURS),
    "°C": (SensorDeviceClass.TEMPERATURE, UnitOfTemperature.CELSIUS),
    "m³": (SensorDeviceClass.VOLUME, UnitOfVolume.CUBIC_METERS),
    "%": (None, PERCENTAGE),
}
"""``{unit as the sources write it: (device class, Home Assistant unit)}`` (the Growatt
register units of ``growatt_local/protocol/registers.py``, DSMR's and the EV's); a caller that
knows better (``battery`` for a state of charge, ``gas``/``water`` for a volume) passes
``device_class``."""


def measured_description[D: SensorEntityDescription](
    description_class: type[D],
    key: str,
    unit: str,
    precision: int,
    *,
    total_increasing: bool = False,
    translation_key: str | None = None,
    **kwargs: Any,
) -> D:
    """A ``description_class`` for the value ``key`` in ``unit`` (a key of :data:`UNIT_CLASSES`).

    ``total_increasing``: a lifetime or daily energy/volume counter, else a
    momentary reading (``measurement``). ``translation_key`` defaults to ``key``; ``kwargs``
    (``device_class``, ``translation_placeholders``, a kind's own fields) override or extend
    the description. Raises KeyError for a unit not in :data:`UNIT_CLASSES`.
    """
    device_class, native_unit = UNIT_CLASSES[unit]
    fields: dict[str, Any] = {
        "device_class": device_class,
        "native_unit_of_measurement": native_unit,
        "state_class": (
            SensorStateClass.TOTAL_INCREASING if total_increasing else SensorStateClass.MEASUREMENT
        ),
        "suggested_display_precision": precision,
    }
    fields.update(kwargs)
    return description_class(key=key, translation_key=translation_key or key, **fields)


def connectivity_description(key: str) -> BinarySensorEntityDescription:
    """The diagnostic "connected" binary sensor of a link (P1 port, datalogger): ``key``."""
    return BinarySensorEntityDescription(
        key=key,
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
    )


async def async_last_number(sensor: RestoreSensor) -> float | None:
    """The value ``sensor`` showed before the restart when it was a number, else None.

    Restored counters hand it to their guard (a lifetime counter never starts from 0 again).
    """
    last = await sensor.async_get_last_sensor_data()
    if last is None or not isinstance(last.native_value, (int, float)):
        return None
    return float(last.native_value)


def setup_per_description[C, D](
    factory: Callable[[C, D], Entity],
    descriptions: Sequence[D],
    applies: Callable[[C, D], bool] = lambda _coordinator, _description: True,
) -> PlatformSetup[C]:
    """The set-up of a platform whose entities are known when the entry starts.

    It adds ``factory(coordinator, description)`` at once for each of ``descriptions`` that
    ``applies`` to the entry's coordinator (``entry.runtime_data``); no discovery later.
    """

    async def async_setup(
        hass: HomeAssistant,
        entry: ConfigEntry[C],
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        coordinator = entry.runtime_data
        async_add_entities(
            factory(coordinator, description)
            for description in descriptions
            if applies(coordinator, description)
        )

    return async_setup


def track_new_items[T](
    entry: ConfigEntry,
    subscribe: Callable[[Callable[[], None]], CALLBACK_TYPE],
    current: Callable[[], Iterable[T]],
    add: Callable[[list[T]], None],
    restored: Iterable[T] = (),
) -> None:
    """Call ``add`` with the items of ``current()`` not seen before, now and on every news.

    The one rule by which a platform adds entities as a source reveals them (a meter's new
    OBIS key, a cloud device's new value, a datalogger or inverter): ``current`` lists what
    the coordinator holds now (keys, ``(serial, key)`` pairs, ...); ``subscribe`` registers
    the callback the coordinator calls when something new may have come and returns its
    remover, called when the entry unloads. ``restored`` (items registered before a
    restart) are added first, in one call of their own.
    """
    known: set[T] = set()

    @callback
    def _discover(items: Iterable[T] | None = None) -> None:
        new = [item for item in (current() if items is None else items) if item not in known]
        known.update(new)
        if new:
            add(new)

    _discover(restored)
    _discover()
    entry.async_on_unload(subscribe(_discover))


@dataclass(frozen=True, kw_only=True)
class CountSensorDescription[C](SensorEntityDescription):
    """A count (or gauge) that the coordinator ``C`` keeps about its own source.

    Dropped telegrams of a meter, open connections or dropped frames of a listener: the
    value is ``value_fn(coordinator)``.
    """

    value_fn: Callable[[C], int]


class CountSensor[C](SensorEntity):
    """Mixin of a sensor described by a :class:`CountSensorDescription` of its coordinator."""

    coordinator: C
    entity_description: CountSensorDescription[C]

    @property
    def native_value(self) -> int:
        """The count's current value."""
        return self.entity_description.value_fn(self.coordinator)
