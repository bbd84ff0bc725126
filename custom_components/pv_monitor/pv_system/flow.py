"""Config flow steps of the ``pv_system`` kind.

Steps: ``pv_system`` (name, location with elevation, inverter AC limit) ->
``pv_system_sensors`` (production power and energy, optional irradiance, module
temperature, weather, grid and price entities or fixed prices) -> ``pv_system_array`` (the
first array). Arrays are config subentries (type ``array``), added and edited later with
:class:`PvArraySubentryFlow`. Options: the sensors, prices and the underperformance
threshold. Reconfigure: location, elevation and AC limit. Unique id ``pv_system_<name>``.

Entry ``data``: kind, name, latitude, longitude, elevation, ac_limit_kw. Entry
``options``: the sensor, price and threshold keys of :mod:`.pv_system_const`.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryData,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_ELEVATION, CONF_LATITUDE, CONF_LONGITUDE, CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    LocationSelector,
    TextSelector,
)
from homeassistant.util import slugify
import voluptuous as vol

from ..common.flow import OneFormOptionsFlow, number_box
from ..const import CONF_KIND, DOMAIN, EntryKind
from .const import (
    CONF_AC_LIMIT,
    CONF_AZIMUTH,
    CONF_EXPORT_PRICE,
    CONF_EXPORT_PRICE_ENTITY,
    CONF_GAMMA,
    CONF_GRID_EXPORT,
    CONF_GRID_IMPORT,
    CONF_GRID_POWER,
    CONF_IMPORT_PRICE,
    CONF_IMPORT_PRICE_ENTITY,
    CONF_KWP,
    CONF_LOCATION,
    CONF_LOSSES,
    CONF_MODULE_TEMPERATURE,
    CONF_POA_IRRADIANCE,
    CONF_PRODUCTION_ENERGY,
    CONF_PRODUCTION_POWER,
    CONF_REPAIR_SHARE,
    CONF_STRING_POWER,
    CONF_THRESHOLD,
    CONF_TILT,
    CONF_WEATHER,
    DEFAULT_AC_LIMIT,
    DEFAULT_AZIMUTH,
    DEFAULT_GAMMA,
    DEFAULT_LOSSES,
    DEFAULT_TILT,
    SUBENTRY_ARRAY,
)
from .solar.anomaly import DEFAULT_REPAIR_SHARE, DEFAULT_THRESHOLD

STEP_SENSORS: Final = "pv_system_sensors"
STEP_ARRAY: Final = "pv_system_array"
STEP_RECONFIGURE: Final = "reconfigure_pv_system"
STEP_OPTIONS: Final = "pv_system_options"


def _sensor(device_class: SensorDeviceClass | None = None) -> EntitySelector:
    if device_class is None:
        return EntitySelector(EntitySelectorConfig(domain="sensor"))
    return EntitySelector(EntitySelectorConfig(domain="sensor", device_class=device_class))


SITE_FIELDS: Final = {
    vol.Required(CONF_LOCATION): LocationSelector(),
    vol.Required(CONF_ELEVATION): number_box(-500, 9000, 1, "m"),
    vol.Required(CONF_AC_LIMIT): number_box(0.1, 10000, 0.01, "kW"),
}
SITE_SCHEMA: Final = vol.Schema({vol.Required(CONF_NAME): TextSelector(), **SITE_FIELDS})
RECONFIGURE_SCHEMA: Final = vol.Schema(SITE_FIELDS)

SENSORS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_PRODUCTION_POWER): _sensor(),
        vol.Required(CONF_PRODUCTION_ENERGY): _sensor(),
        vol.Optional(CONF_POA_IRRADIANCE): _sensor(SensorDeviceClass.IRRADIANCE),
        vol.Optional(CONF_MODULE_TEMPERATURE): _sensor(SensorDeviceClass.TEMPERATURE),
        vol.Optional(CONF_WEATHER): EntitySelector(EntitySelectorConfig(domain="weather")),
        vol.Optional(CONF_GRID_IMPORT): _sensor(SensorDeviceClass.ENERGY),
        vol.Optional(CONF_GRID_EXPORT): _sensor(SensorDeviceClass.ENERGY),
        vol.Optional(CONF_GRID_POWER): _sensor(SensorDeviceClass.POWER),
        vol.Optional(CONF_IMPORT_PRICE): number_box(0, 10, 0.001),
        vol.Optional(CONF_IMPORT_PRICE_ENTITY): _sensor(),
        vol.Optional(CONF_EXPORT_PRICE): number_box(-10, 10, 0.001),
        vol.Optional(CONF_EXPORT_PRICE_ENTITY): _sensor(),
    }
)
OPTIONS_SCHEMA: Final = SENSORS_SCHEMA.extend(
    {
        vol.Required(CONF_THRESHOLD, default=DEFAULT_THRESHOLD): number_box(0.1, 1.0, 0.05),
        vol.Required(CONF_REPAIR_SHARE, default=DEFAULT_REPAIR_SHARE): number_box(0.0, 1.0, 0.05),
    }
)

ARRAY_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_NAME): TextSelector(),
        vol.Required(CONF_TILT, default=DEFAULT_TILT): number_box(0, 90, 1, "°"),
        vol.Required(CONF_AZIMUTH, default=DEFAULT_AZIMUTH): number_box(0, 360, 1, "°"),
        vol.Required(CONF_KWP): number_box(0.01, 10000, 0.01, "kWp"),
        vol.Required(CONF_GAMMA, default=DEFAULT_GAMMA): number_box(-1.0, 0.0, 0.01, "%/K"),
        vol.Required(CONF_LOSSES, default=DEFAULT_LOSSES): number_box(0, 50, 0.5, "%"),
        vol.Optional(CONF_STRING_POWER): _sensor(SensorDeviceClass.POWER),
    }
)


PRODUCTION_SUFFIXES: Final = {
    CONF_PRODUCTION_POWER: ("_ac_power", "_output_power"),
    CONF_PRODUCTION_ENERGY: ("_energy_total",),
}
"""Unique-id endings of PV Monitor's own inverter sensors that measure production."""


def our_production_sensors(hass: HomeAssistant) -> dict[str, str]:
    """Suggested production sensors: PV Monitor's own inverter AC power and lifetime energy.

    Looks through the entity registry for enabled ``pv_monitor`` sensors whose unique id
    ends as :data:`PRODUCTION_SUFFIXES` says (the local listener's and the cloud poller's
    inverter sensors); returns ``{option: entity_id}`` for the first of each, sorted by
    entity id so the choice is stable. Empty when PV Monitor has no inverter yet.
    """
    registry = er.async_get(hass)
    found: dict[str, str] = {}
    for entry in sorted(registry.entities.values(), key=lambda e: e.entity_id):
        if entry.platform != DOMAIN or entry.domain != "sensor" or entry.disabled_by:
            continue
        for option, suffixes in PRODUCTION_SUFFIXES.items():
            if option not in found and entry.unique_id.endswith(suffixes):
                found[option] = entry.entity_id
    return found


def pv_system_unique_id(name: str) -> str:
    """Unique id of the PV system entry named ``name``."""
    return f"pv_system_{slugify(name)}"


def _site_data(user_input: dict[str, Any]) -> dict[str, Any]:
    location = user_input[CONF_LOCATION]
    return {
        CONF_LATITUDE: float(location[CONF_LATITUDE]),
        CONF_LONGITUDE: float(location[CONF_LONGITUDE]),
        CONF_ELEVATION: float(user_input[CONF_ELEVATION]),
        CONF_AC_LIMIT: float(user_input[CONF_AC_LIMIT]),
    }


def _sensor_options(user_input: dict[str, Any]) -> dict[str, Any]:
    """Keep the given optional fields only (an emptied field removes the option)."""
    return {key: value for key, value in user_input.items() if value not in (None, "")}


def _array_data(user_input: dict[str, Any]) -> dict[str, Any]:
    return {
        CONF_NAME: str(user_input[CONF_NAME]).strip(),
        CONF_TILT: float(user_input[CONF_TILT]),
        CONF_AZIMUTH: float(user_input[CONF_AZIMUTH]) % 360,
        CONF_KWP: float(user_input[CONF_KWP]),
        CONF_GAMMA: float(user_input[CONF_GAMMA]),
        CONF_LOSSES: float(user_input[CONF_LOSSES]),
    } | ({CONF_STRING_POWER: power} if (power := user_input.get(CONF_STRING_POWER)) else {})


def _location_unset(user_input: dict[str, Any]) -> bool:
    """Whether the location is still 0, 0 (a home whose location was never set)."""
    location = user_input[CONF_LOCATION]
    return float(location[CONF_LATITUDE]) == 0 and float(location[CONF_LONGITUDE]) == 0


class PvSystemFlowMixin(ConfigFlow):
    """Config-flow steps of a PV system (mixed into the integration's config flow)."""

    _pv_system: dict[str, Any]
    _pv_system_options: dict[str, Any]

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """PV system entries have array subentries; other kinds ask the next base."""
        if config_entry.data.get(CONF_KIND) == EntryKind.PV_SYSTEM:
            return {SUBENTRY_ARRAY: PvArraySubentryFlow}
        return super().async_get_supported_subentry_types(config_entry)

    async def async_step_pv_system(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Name, location (the home by default), elevation and inverter AC limit."""
        errors: dict[str, str] = {}
        if user_input is not None and _location_unset(user_input):
            errors[CONF_LOCATION] = "location_unset"
        elif user_input is not None:
            name = str(user_input[CONF_NAME]).strip()
            await self.async_set_unique_id(pv_system_unique_id(name))
            self._abort_if_unique_id_configured()
            self._pv_system = {
                CONF_KIND: EntryKind.PV_SYSTEM.value,
                CONF_NAME: name,
                **_site_data(user_input),
            }
            return await self.async_step_pv_system_sensors()
        config = self.hass.config
        defaults = {
            CONF_LOCATION: {CONF_LATITUDE: config.latitude, CONF_LONGITUDE: config.longitude},
            CONF_ELEVATION: config.elevation,
            CONF_AC_LIMIT: DEFAULT_AC_LIMIT,
        } | (user_input or {})
        return self.async_show_form(
            step_id=EntryKind.PV_SYSTEM.value,
            data_schema=self.add_suggested_values_to_schema(SITE_SCHEMA, defaults),
            errors=errors,
        )

    async def async_step_pv_system_sensors(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Production, irradiance, temperature, weather, grid sensors and prices."""
        if user_input is not None:
            self._pv_system_options = {
                **_sensor_options(user_input),
                CONF_THRESHOLD: DEFAULT_THRESHOLD,
                CONF_REPAIR_SHARE: DEFAULT_REPAIR_SHARE,
            }
            return await self.async_step_pv_system_array()
        return self.async_show_form(
            step_id=STEP_SENSORS,
            data_schema=self.add_suggested_values_to_schema(
                SENSORS_SCHEMA, our_production_sensors(self.hass)
            ),
        )

    async def async_step_pv_system_array(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The first array; more are added later as subentries."""
        if user_input is not None:
            array = _array_data(user_input)
            subentry = ConfigSubentryData(
                data=array, subentry_type=SUBENTRY_ARRAY, title=array[CONF_NAME], unique_id=None
            )
            return self.async_create_entry(
                title=self._pv_system[CONF_NAME],
                data=self._pv_system,
                options=self._pv_system_options,
                subentries=[subentry],
            )
        return self.async_show_form(step_id=STEP_ARRAY, data_schema=ARRAY_SCHEMA)

    async def async_step_reconfigure_pv_system(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the location, elevation and AC limit."""
        entry = self._get_reconfigure_entry()
        if user_input is not None:
            return self.async_update_reload_and_abort(entry, data_updates=_site_data(user_input))
        current = {
            CONF_LOCATION: {
                CONF_LATITUDE: entry.data[CONF_LATITUDE],
                CONF_LONGITUDE: entry.data[CONF_LONGITUDE],
            },
            CONF_ELEVATION: entry.data[CONF_ELEVATION],
            CONF_AC_LIMIT: entry.data[CONF_AC_LIMIT],
        }
        return self.async_show_form(
            step_id=STEP_RECONFIGURE,
            data_schema=self.add_suggested_values_to_schema(RECONFIGURE_SCHEMA, current),
        )


class PvSystemOptionsFlow(OneFormOptionsFlow):
    """Options of a PV system: sensors, prices, underperformance threshold."""

    options_step = STEP_OPTIONS

    options_schema = OPTIONS_SCHEMA

    def options_data(self, user_input: dict[str, Any]) -> dict[str, Any]:
        """The options as saved: an emptied optional field removes the option."""
        return _sensor_options(user_input)

    async_step_pv_system_options = OneFormOptionsFlow.async_options_step


class PvArraySubentryFlow(ConfigSubentryFlow):
    """Add or edit one array of a PV system."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add an array."""
        if user_input is not None:
            array = _array_data(user_input)
            return self.async_create_entry(title=array[CONF_NAME], data=array)
        return self.async_show_form(step_id="user", data_schema=ARRAY_SCHEMA)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Edit an array (the entry reloads through its update listener)."""
        subentry = self._get_reconfigure_subentry()
        if user_input is not None:
            array = _array_data(user_input)
            return self.async_update_and_abort(
                self._get_entry(), subentry, title=array[CONF_NAME], data=array
            )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(ARRAY_SCHEMA, dict(subentry.data)),
        )
