"""Config-flow steps of EV surplus charging (mixin of the integration's flow).

``ev_charging`` (menu): the charger's entities (on/off switch, optional current number,
optional 1/3-phase switch), phases, voltage, the grid power sensor with its sign convention
and an optional home battery SOC sensor -> ``ev_charging_limits``: thresholds, delays and
current limits (the initial values of the entry's number entities). Unique id:
``ev_charging_<charger entity id>``. Reconfigure changes the entities, phases and voltage;
the options set the minimum on/off times, the phase switch delay and the stale timeout.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers.selector import EntitySelector, EntitySelectorConfig
import voluptuous as vol

from ..common.flow import KindFlowMixin, OneFormOptionsFlow, choice, number_box, schema_defaults
from ..const import CONF_KIND, DOMAIN, EntryKind
from .const import (
    CONF_BATTERY_PRIORITY_SOC,
    CONF_BATTERY_SOC,
    CONF_CHARGER,
    CONF_CURRENT_ENTITY,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    CONF_MAX_CURRENT,
    CONF_MIN_CURRENT,
    CONF_MIN_OFF_TIME,
    CONF_MIN_ON_TIME,
    CONF_PHASE_SWITCH_DELAY,
    CONF_PHASE_SWITCH_ENTITY,
    CONF_PHASES,
    CONF_STALE_TIMEOUT,
    CONF_START_DELAY,
    CONF_START_THRESHOLD,
    CONF_STOP_DELAY,
    CONF_STOP_THRESHOLD,
    CONF_VOLTAGE,
    GridSign,
)
from .controller import SETTING_DEFAULTS

STEP_LIMITS: Final = "ev_charging_limits"
STEP_RECONFIGURE: Final = "reconfigure_ev_charging"
STEP_OPTIONS: Final = "ev_charging_options"

ERROR_ENTITY_NOT_FOUND: Final = "ev_entity_not_found"
ERROR_PHASE_SWITCH_NEEDS_THREE: Final = "ev_phase_switch_needs_three"
ERROR_SAME_ENTITY: Final = "ev_same_entity"
ERROR_MIN_ABOVE_MAX: Final = "ev_min_above_max"
ABORT_ALREADY_CONFIGURED: Final = "ev_already_configured"
ABORT_RECONFIGURED: Final = "ev_reconfigure_successful"

ENTITY_KEYS: Final = (
    CONF_CHARGER,
    CONF_CURRENT_ENTITY,
    CONF_PHASE_SWITCH_ENTITY,
    CONF_GRID_POWER,
    CONF_BATTERY_SOC,
)
"""Entity fields of the first step (optional ones are dropped from the data when empty)."""

_SWITCH_SELECTOR: Final = EntitySelector(EntitySelectorConfig(domain=["switch", "input_boolean"]))


def _box(minimum: float, maximum: float, step: float, unit: str) -> vol.All:
    return vol.All(number_box(minimum, maximum, step, unit), vol.Coerce(float))


def _required(key: str) -> vol.Required:
    """Required field of controller setting ``key``, defaulting to the controller's default."""
    return vol.Required(key, default=SETTING_DEFAULTS[key])


ENTITIES_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_CHARGER): _SWITCH_SELECTOR,
        vol.Optional(CONF_CURRENT_ENTITY): EntitySelector(
            EntitySelectorConfig(domain=["number", "input_number"])
        ),
        vol.Required(CONF_PHASES, default="1"): choice(["1", "3"], translation_key="ev_phases"),
        vol.Optional(CONF_PHASE_SWITCH_ENTITY): _SWITCH_SELECTOR,
        _required(CONF_VOLTAGE): _box(100, 400, 1, "V"),
        vol.Required(CONF_GRID_POWER): EntitySelector(
            EntitySelectorConfig(domain="sensor", device_class=SensorDeviceClass.POWER)
        ),
        vol.Required(CONF_GRID_SIGN, default=GridSign.IMPORT_POSITIVE.value): choice(
            GridSign, translation_key="ev_grid_sign"
        ),
        vol.Optional(CONF_BATTERY_SOC): EntitySelector(
            EntitySelectorConfig(domain="sensor", device_class=SensorDeviceClass.BATTERY)
        ),
    }
)


def limits_schema(current_entity: bool, battery: bool) -> vol.Schema:
    """Schema of the thresholds, delays and limits step.

    The maximum current only with a current entity, battery priority only with a battery.
    """
    fields: dict[vol.Marker, Any] = {
        _required(CONF_START_THRESHOLD): _box(-10_000, 10_000, 10, "W"),
        _required(CONF_STOP_THRESHOLD): _box(-10_000, 10_000, 10, "W"),
        _required(CONF_START_DELAY): _box(0, 3600, 1, "s"),
        _required(CONF_STOP_DELAY): _box(0, 3600, 1, "s"),
        _required(CONF_MIN_CURRENT): _box(1, 32, 1, "A"),
    }
    if current_entity:
        fields[_required(CONF_MAX_CURRENT)] = _box(1, 32, 1, "A")
    if battery:
        fields[_required(CONF_BATTERY_PRIORITY_SOC)] = _box(0, 100, 1, "%")
    return vol.Schema(fields)


OPTIONS_SCHEMA: Final = vol.Schema(
    {
        _required(CONF_MIN_ON_TIME): _box(0, 3600, 1, "s"),
        _required(CONF_MIN_OFF_TIME): _box(0, 3600, 1, "s"),
        _required(CONF_PHASE_SWITCH_DELAY): _box(0, 3600, 1, "s"),
        _required(CONF_STALE_TIMEOUT): _box(5, 3600, 1, "s"),
    }
)

DEFAULT_OPTIONS: Final = schema_defaults(OPTIONS_SCHEMA)


def ev_unique_id(charger: str) -> str:
    """Unique id of the entry steering charger entity ``charger``."""
    return f"ev_charging_{charger}"


class EvChargingFlowMixin(KindFlowMixin):
    """Steps adding and reconfiguring an EV surplus charging entry."""

    def _ev_data(self) -> dict[str, Any]:
        return self.kind_values(EntryKind.EV_CHARGING)

    def _ev_entities(self, user_input: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
        """Validated entity fields of ``user_input``; problems go to ``errors``."""
        data = {key: value for key, value in user_input.items() if value not in (None, "")}
        for key in ENTITY_KEYS:
            entity_id = data.get(key)
            if entity_id is not None and self.hass.states.get(entity_id) is None:
                errors[key] = ERROR_ENTITY_NOT_FOUND
        switch = data.get(CONF_PHASE_SWITCH_ENTITY)
        if switch is not None and data[CONF_PHASES] != "3":
            errors[CONF_PHASE_SWITCH_ENTITY] = ERROR_PHASE_SWITCH_NEEDS_THREE
        if switch is not None and switch == data[CONF_CHARGER]:
            errors[CONF_PHASE_SWITCH_ENTITY] = ERROR_SAME_ENTITY
        return data

    def _ev_charger_taken(self, charger: str, own_entry_id: str | None = None) -> bool:
        """Whether another entry than ``own_entry_id`` already steers ``charger``."""
        other = self.hass.config_entries.async_entry_for_domain_unique_id(
            DOMAIN, ev_unique_id(charger)
        )
        return other is not None and other.entry_id != own_entry_id

    async def async_step_ev_charging(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the charger's entities, its phases and voltage, and the grid sensor."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = self._ev_entities(user_input, errors)
            await self.async_set_unique_id(
                ev_unique_id(data[CONF_CHARGER]), raise_on_progress=False
            )
            if self._ev_charger_taken(data[CONF_CHARGER]):
                return self.async_abort(reason=ABORT_ALREADY_CONFIGURED)
            if not errors:
                self._ev_data().clear()
                self._ev_data().update({CONF_KIND: EntryKind.EV_CHARGING.value, **data})
                return await self.async_step_ev_charging_limits()
        return self.async_show_step(
            EntryKind.EV_CHARGING.value, ENTITIES_SCHEMA, user_input, errors
        )

    async def async_step_ev_charging_limits(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set the thresholds, delays and current limits (tunable later as numbers)."""
        data = self._ev_data()
        errors: dict[str, str] = {}
        if user_input is not None:
            maximum = user_input.get(CONF_MAX_CURRENT, user_input[CONF_MIN_CURRENT])
            if user_input[CONF_MIN_CURRENT] > maximum:
                errors[CONF_MIN_CURRENT] = ERROR_MIN_ABOVE_MAX
            else:
                data.update(user_input)
                state = self.hass.states.get(data[CONF_CHARGER])
                name = state.name if state is not None else data[CONF_CHARGER]
                return self.async_create_entry(
                    title=f"EV charging: {name}", data=data, options=dict(DEFAULT_OPTIONS)
                )
        schema = limits_schema(CONF_CURRENT_ENTITY in data, CONF_BATTERY_SOC in data)
        return self.async_show_step(STEP_LIMITS, schema, user_input, errors)

    async def async_step_reconfigure_ev_charging(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the charger's entities, phases, voltage, grid or battery sensor."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = self._ev_entities(user_input, errors)
            if self._ev_charger_taken(data[CONF_CHARGER], entry.entry_id):
                return self.async_abort(reason=ABORT_ALREADY_CONFIGURED)
            if not errors:
                # Entity fields cleared in the form are removed from the entry.
                new_data = {k: v for k, v in entry.data.items() if k not in ENTITY_KEYS}
                new_data.update(data)
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=ev_unique_id(data[CONF_CHARGER]),
                    data=new_data,
                    reason=ABORT_RECONFIGURED,
                )
        return self.async_show_step(
            STEP_RECONFIGURE, ENTITIES_SCHEMA, user_input or dict(entry.data), errors
        )


class EvChargingOptionsFlow(OneFormOptionsFlow):
    """Options of an EV charging entry: minimum on/off times, phase delay, stale timeout."""

    options_step = STEP_OPTIONS

    options_schema = OPTIONS_SCHEMA

    async_step_ev_charging_options = OneFormOptionsFlow.async_options_step
