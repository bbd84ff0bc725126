"""Runtime of an EV surplus charging entry: feeds the controller and carries out its commands.

Gets the grid power in one of two ways. When the grid sensor is the net grid power of a DSMR
entry of this integration, through a typed in-process subscription
(:class:`GridPowerSource`): every telegram's value, the moment it is read, however the
sensor's state writes are throttled. Any other sensor is tracked by its state changes *and*
its unchanged reports (``state_reported``, with the report's own time), so a steady reading
is not mistaken for a stale one. It also tracks the optional battery SOC sensor, ticks the pure
:class:`~.ev.controller.SurplusController` on every change, at its next deadline (end of a
delay, stale timeout) and every :data:`~.ev_const.TICK_INTERVAL` seconds, and acts by
calling the charger entities' services: ``turn_on``/``turn_off`` of the charger switch,
``set_value`` of the current number, ``turn_on``/``turn_off`` of the phase switch.
A stale or unavailable grid power raises a repair issue that clears itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
import logging
from typing import Any, Protocol, runtime_checkable

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_UNIT_OF_MEASUREMENT,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_ON,
    UnitOfPower,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import (
    async_call_later,
    async_track_state_change_event,
    async_track_state_report_event,
    async_track_time_change,
    async_track_time_interval,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..common.issues import async_raise_issue
from ..common.runtime import service_device_info
from ..const import CONF_KIND, DOMAIN, EntryKind
from .const import TICK_INTERVAL, EvChargingSettings, GridSign
from .controller import ChargeState, Command, Mode, Status, SurplusController

_LOGGER = logging.getLogger(__name__)

type EvChargingConfigEntry = ConfigEntry[EvChargingCoordinator]

_POWER_FACTORS: dict[str, float] = {
    UnitOfPower.WATT: 1.0,
    UnitOfPower.KILO_WATT: 1000.0,
    UnitOfPower.MEGA_WATT: 1_000_000.0,
}
"""Factor to watts of each power unit a grid sensor may report in."""


@dataclass(frozen=True, slots=True)
class EvData:
    """What the entities show: controller state, command, surplus (W), energy (kWh)."""

    status: Status
    state: ChargeState
    command: Command
    surplus: float | None
    energy_today_kwh: float


def _number(state: State | None) -> float | None:
    """The state as a float, None when missing, unknown, unavailable or not a number."""
    if state is None:
        return None
    try:
        return float(state.state)
    except ValueError:
        return None


def grid_power_from_state(state: State | None, sign: GridSign) -> float | None:
    """Net grid power (W, import positive) of a grid sensor state, None when unusable.

    The sensor's unit may be W, kW or MW (no unit: W); with ``export_positive`` the sign is
    turned around. Non-numeric states and unknown units give None.
    """
    value = _number(state)
    if value is None:
        return None
    assert state is not None
    factor = _POWER_FACTORS.get(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) or "W")
    if factor is None:
        return None
    watts = value * factor
    return -watts if sign == GridSign.EXPORT_POSITIVE else watts


@runtime_checkable
class GridPowerSource(Protocol):
    """An in-process source of net grid power: a DSMR entry's coordinator.

    ``async_subscribe_net_power(cb)`` calls ``cb(watts)`` with every telegram's net grid
    power (W, import positive) and ``cb(None)`` when the meter goes stale or unloads;
    it returns the unsubscribe callback.
    """

    def async_subscribe_net_power(self, cb: Callable[[float | None], None]) -> CALLBACK_TYPE:
        """Subscribe ``cb``; return its unsubscribe."""


SOURCE_TICK_INTERVAL = 5.0
"""Seconds between controller ticks driven by the meter subscription (a DSMR 5 meter sends
every second): each reading is stored at once, the controller decides and the entities are
written at most this often (and at every deadline and every ``TICK_INTERVAL``), as with a
power sensor written every 5 s."""

NET_POWER_KEY = "net_power"
"""Sensor key (unique-id suffix) of a DSMR entry's signed net grid power sensor."""


def grid_power_source(hass: HomeAssistant, entity_id: str) -> GridPowerSource | None:
    """The loaded DSMR runtime behind ``entity_id`` if it is such an entry's net power sensor."""
    entity = er.async_get(hass).async_get(entity_id)
    if (
        entity is None
        or entity.platform != DOMAIN
        or entity.config_entry_id is None
        or not entity.unique_id.endswith(f"_{NET_POWER_KEY}")
    ):
        return None
    entry = hass.config_entries.async_get_entry(entity.config_entry_id)
    if (
        entry is None
        or entry.data.get(CONF_KIND) != EntryKind.DSMR
        or entry.state is not ConfigEntryState.LOADED
    ):
        return None
    runtime = getattr(entry, "runtime_data", None)
    return runtime if isinstance(runtime, GridPowerSource) else None


def _timestamp(moment: datetime | None = None) -> float:
    return (moment or dt_util.utcnow()).timestamp()


class EvChargingCoordinator(DataUpdateCoordinator[EvData]):
    """Feeds one charger's :class:`SurplusController` and applies its commands.

    The entities change :attr:`controller` through :meth:`async_set_enabled`,
    :meth:`async_set_mode` and :meth:`async_set_setting`, and show :attr:`data`.
    While the controller is switched off the charger is left alone.
    """

    config_entry: EvChargingConfigEntry

    def __init__(self, hass: HomeAssistant, entry: EvChargingConfigEntry) -> None:
        """Build the controller from the entry; nothing is tracked before :meth:`async_start`.

        Raises:
            ValueError: the entry's stored settings are inconsistent.
        """
        self.settings = settings = EvChargingSettings.from_mapping(entry.data, entry.options)
        """The entry's entities and initial controller settings (a reload renews them)."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} ev charging {settings.charger}",
            update_interval=None,
        )
        self.controller = SurplusController(settings.controller, now=_timestamp())
        dr.async_get(hass).async_get_or_create(
            config_entry_id=entry.entry_id,
            **service_device_info(entry, "EV surplus charging controller"),
        )
        self.action_errors = 0
        """Service calls on the charger entities that failed."""
        self._logged_action_error = False
        self._issue_raised = False
        self._started_at: float | None = None
        self._applied: Command | None = None
        self._apply_lock = asyncio.Lock()
        self._unsubs: list[CALLBACK_TYPE] = []
        self._deadline_unsub: CALLBACK_TYPE | None = None
        self._source: GridPowerSource | None = None
        self._source_unsub: CALLBACK_TYPE | None = None
        self._last_source_tick: float | None = None
        self.source_readings = 0
        """Grid power readings received through the in-process subscription."""
        self.data = self._snapshot()

    @property
    def stale_issue_id(self) -> str:
        """Repair issue raised while the grid power is stale or unavailable."""
        return f"ev_grid_power_stale_{self.config_entry.entry_id}"

    # -- lifecycle ----------------------------------------------------------------------------
    async def async_setup(self) -> None:
        """Take over a charger that is already on (it counts as just switched on)."""
        state = self.hass.states.get(self.settings.charger)
        if state is not None and state.state == STATE_ON:
            current = _number(self.hass.states.get(self.settings.current_entity or ""))
            phase_state = self.hass.states.get(self.settings.phase_switch_entity or "")
            phases = None if phase_state is None else 3 if phase_state.state == STATE_ON else 1
            self.controller = SurplusController(
                self.controller.settings,
                now=_timestamp(),
                charging=True,
                current=current,
                phases=phases,
            )
            self._applied = self.controller.command

    async def async_start(self) -> None:
        """Track the sensors and the clock; read the present states and tick."""
        hass = self.hass
        self._started_at = _timestamp()
        self._unsubs = [
            async_track_state_change_event(
                hass, [self.settings.grid_power], self._async_grid_event
            ),
            async_track_state_report_event(
                hass, [self.settings.grid_power], self._async_grid_event
            ),
            async_track_time_interval(
                hass, self._async_timer, timedelta(seconds=TICK_INTERVAL), cancel_on_shutdown=True
            ),
            async_track_time_change(hass, self._async_midnight, hour=0, minute=0, second=0),
            # Before any data arrived the stale state only counts after the timeout.
            async_call_later(hass, self.controller.settings.stale_timeout, self._async_timer),
        ]
        if self.settings.battery_soc:
            self._unsubs.append(
                async_track_state_change_event(
                    hass, [self.settings.battery_soc], self._async_battery_event
                )
            )
            self.controller.update_battery(_number(hass.states.get(self.settings.battery_soc)))
        grid_state = hass.states.get(self.settings.grid_power)
        self._update_grid(grid_state)
        self._attach_source()
        self._async_tick()

    async def async_stop(self) -> None:
        """Stop tracking; the charger keeps its present state."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._detach_source()
        if self._deadline_unsub is not None:
            self._deadline_unsub()
            self._deadline_unsub = None
        self._started_at = None

    def diagnostics(self) -> dict[str, Any]:
        """Settings, entities, controller state and counters (no secrets involved)."""
        controller, settings = self.controller, self.settings
        return {
            "entities": {
                "charger": settings.charger,
                "current": settings.current_entity,
                "phase_switch": settings.phase_switch_entity,
                "grid_power": settings.grid_power,
                "grid_sign": settings.grid_sign.value,
                "battery_soc": settings.battery_soc,
            },
            "settings": asdict(controller.settings),
            "enabled": controller.enabled,
            "mode": controller.mode.value,
            "state": controller.state.value,
            "status": controller.status.value,
            "command": asdict(controller.command),
            "grid_power": controller.grid_power,
            "surplus": controller.surplus,
            "toggles": controller.toggles,
            "energy_today_wh": round(controller.energy_today_wh, 1),
            "action_errors": self.action_errors,
            "grid_source": "subscription" if self._source is not None else "state",
            "source_readings": self.source_readings,
        }

    # -- changes from the entities ------------------------------------------------------------
    @callback
    def async_set_enabled(self, enabled: bool) -> None:
        """Switch the controller on or off (off: the charger is left alone)."""
        self.controller.enabled = enabled
        if not enabled:
            self._applied = None
        self._async_tick()

    @callback
    def async_set_mode(self, mode: Mode) -> None:
        """Change the charging mode."""
        self.controller.mode = mode
        self._async_tick()

    @callback
    def async_set_setting(self, key: str, value: float) -> None:
        """Change one setting (a :class:`ControllerSettings` field).

        Raises:
            ServiceValidationError: the value conflicts with the others (e.g. a minimum
                current above the maximum).
        """
        changes: dict[str, Any] = {key: value}
        try:
            self.controller.settings = replace(self.controller.settings, **changes)
        except ValueError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="ev_invalid_setting",
                translation_placeholders={"setting": key, "value": str(value), "error": str(err)},
            ) from err
        self._async_tick()

    @callback
    def async_restore_energy(self, kwh: float) -> None:
        """Seed today's solar energy with the value restored after a restart."""
        self.controller.energy_today_wh = kwh * 1000
        self.async_set_updated_data(self._snapshot())

    # -- events -------------------------------------------------------------------------------
    def _update_grid(self, state: State | None, reported: datetime | None = None) -> None:
        power = grid_power_from_state(state, self.settings.grid_sign)
        if reported is None and state is not None:
            reported = state.last_reported
        self.controller.update_grid(power, _timestamp(reported))

    @callback
    def _async_grid_event(
        self, event: Event[EventStateChangedData] | Event[EventStateReportedData]
    ) -> None:
        if self._attach_source():
            return  # the subscription brings every telegram, fresher than any state
        # A report's time is in the event data (its state object may be mutated later).
        reported = event.data.get("last_reported")
        self._update_grid(
            event.data["new_state"], reported if isinstance(reported, datetime) else None
        )
        self._async_tick()

    # -- the in-process subscription ------------------------------------------------------------
    def _attach_source(self) -> bool:
        """Subscribe to the grid sensor's DSMR runtime if there is one; return whether subscribed."""
        if self._source is not None:
            return True
        source = grid_power_source(self.hass, self.settings.grid_power)
        if source is None:
            return False
        self._source = source
        self._source_unsub = source.async_subscribe_net_power(self._async_source_power)
        _LOGGER.debug(
            "Grid power of %s read from its meter at every telegram", self.settings.grid_power
        )
        return True

    def _detach_source(self) -> None:
        if self._source_unsub is not None:
            self._source_unsub()
        self._source = self._source_unsub = None

    @callback
    def _async_source_power(self, watts: float | None) -> None:
        """A telegram's net grid power (W, import positive); None: the meter is gone."""
        now = _timestamp()
        if watts is None:
            # Stale or unloaded: attach again (a reloaded entry has a new runtime) on the
            # next state event or tick; meanwhile the data is missing.
            self._detach_source()
            self.controller.update_grid(None, now)
        else:
            self.source_readings += 1
            signed = -watts if self.settings.grid_sign == GridSign.EXPORT_POSITIVE else watts
            self.controller.update_grid(signed, now)
            last = self._last_source_tick
            if last is not None and 0 <= now - last < SOURCE_TICK_INTERVAL:
                return
        self._last_source_tick = now
        self._async_tick()

    @callback
    def _async_battery_event(self, event: Event[EventStateChangedData]) -> None:
        self.controller.update_battery(_number(event.data["new_state"]))
        self._async_tick()

    @callback
    def _async_timer(self, _now: datetime) -> None:
        self._attach_source()
        self._async_tick()

    @callback
    def _async_midnight(self, _now: datetime) -> None:
        self.controller.reset_energy()
        self._async_tick()

    # -- the tick -----------------------------------------------------------------------------
    def _snapshot(self) -> EvData:
        controller = self.controller
        return EvData(
            status=controller.status,
            state=controller.state,
            command=controller.command,
            surplus=controller.surplus,
            energy_today_kwh=controller.energy_today_wh / 1000,
        )

    @callback
    def _async_tick(self) -> None:
        """Tick the controller, update the repair issue, act, and wake the entities."""
        if self._started_at is None:
            return
        now = _timestamp()
        command = self.controller.tick(now)
        self._update_issue(now)
        self._schedule_deadline()
        if self.controller.enabled and command != self._applied:
            self.config_entry.async_create_background_task(
                self.hass, self._async_apply(), f"{DOMAIN} ev charging apply"
            )
        self.async_set_updated_data(self._snapshot())

    def _update_issue(self, now: float) -> None:
        assert self._started_at is not None
        stale = self.controller.status == Status.STALE_DATA
        settings = self.controller.settings
        if stale and not self._issue_raised and now - self._started_at >= settings.stale_timeout:
            self._issue_raised = True
            _LOGGER.warning(
                "Grid power %s is stale or unavailable: solar surplus charging stopped",
                self.settings.grid_power,
            )
            async_raise_issue(
                self.hass,
                self.stale_issue_id,
                "ev_grid_power_stale",
                {
                    "entity": self.settings.grid_power,
                    "timeout": str(round(settings.stale_timeout)),
                    "title": self.config_entry.title,
                },
            )
        elif not stale and self._issue_raised:
            self._issue_raised = False
            _LOGGER.info(
                "Grid power %s is back: solar surplus charging resumes", self.settings.grid_power
            )
            ir.async_delete_issue(self.hass, DOMAIN, self.stale_issue_id)

    def _schedule_deadline(self) -> None:
        if self._deadline_unsub is not None:
            self._deadline_unsub()
            self._deadline_unsub = None
        deadline = self.controller.next_deadline()
        if deadline is not None:
            self._deadline_unsub = async_call_later(
                self.hass, max(0.0, deadline - _timestamp()), self._async_deadline
            )

    @callback
    def _async_deadline(self, _now: datetime) -> None:
        self._deadline_unsub = None
        self._async_tick()

    async def _async_apply(self) -> None:
        """Bring the charger entities to the controller's latest command."""
        async with self._apply_lock:
            desired = self.controller.command
            if not self.controller.enabled or desired == self._applied:
                return
            applied = self._applied
            try:
                if self.settings.phase_switch_entity and (
                    applied is None or applied.phases != desired.phases
                ):
                    if self._is_on(self.settings.charger):
                        # Never change phases under load.
                        await self._async_call(self.settings.charger, SERVICE_TURN_OFF)
                    await self._async_call(
                        self.settings.phase_switch_entity,
                        SERVICE_TURN_ON if desired.phases == 3 else SERVICE_TURN_OFF,
                    )
                if (
                    self.settings.current_entity
                    and desired.charging
                    and (applied is None or applied.current != desired.current)
                ):
                    await self._async_call(
                        self.settings.current_entity, "set_value", {"value": desired.current}
                    )
                if desired.charging != self._is_on(self.settings.charger):
                    await self._async_call(
                        self.settings.charger,
                        SERVICE_TURN_ON if desired.charging else SERVICE_TURN_OFF,
                    )
            except HomeAssistantError as err:
                self.action_errors += 1
                self._applied = None
                if not self._logged_action_error:
                    self._logged_action_error = True
                    _LOGGER.warning(
                        "Cannot steer the charger (%s); further failures are counted in the "
                        "diagnostics and logged at debug level",
                        err,
                    )
                else:
                    _LOGGER.debug("Cannot steer the charger: %s", err)
                return
            self._applied = desired
            _LOGGER.debug("Charger set to %s", desired)

    def _is_on(self, entity_id: str) -> bool:
        state = self.hass.states.get(entity_id)
        return state is not None and state.state == STATE_ON

    async def _async_call(
        self, entity_id: str, service: str, data: dict[str, Any] | None = None
    ) -> None:
        """Call ``service`` of the entity's own domain on it (raises HomeAssistantError)."""
        domain = entity_id.split(".", 1)[0]
        await self.hass.services.async_call(
            domain, service, {ATTR_ENTITY_ID: entity_id, **(data or {})}, blocking=True
        )
