"""EV surplus charging in Home Assistant: the entities drive a real input_boolean charger
switch, input_number current and phase switch, from a grid power sensor."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    mock_restore_cache_with_extra_data,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.diagnostics import async_get_config_entry_diagnostics
from custom_components.pv_monitor.ev_charging.const import GridSign
from custom_components.pv_monitor.ev_charging.coordinator import (
    EvChargingCoordinator,
    grid_power_from_state,
)
from tests.helpers import only_platforms

from .fixtures import (
    CHARGER,
    CURRENT,
    ENTRY_ID,
    GRID,
    PHASE_SWITCH,
    SOC,
    grid,
    make_entry,
    setup_charger,
    setup_entry,
)

SWITCH = "switch.ev_charging_wallbox_solar_surplus_charging"
MODE = "select.ev_charging_wallbox_charging_mode"
STATUS = "sensor.ev_charging_wallbox_controller_state"
SURPLUS = "sensor.ev_charging_wallbox_available_surplus"
TARGET = "sensor.ev_charging_wallbox_target_current"
ENERGY = "sensor.ev_charging_wallbox_solar_energy_to_the_car_today"
MIN_CURRENT = "number.ev_charging_wallbox_minimum_current"
MAX_CURRENT = "number.ev_charging_wallbox_maximum_current"
START_DELAY = "number.ev_charging_wallbox_start_delay"


class House:
    """A house with PV: the meter reads the car (as the helpers are set) minus the surplus."""

    def __init__(self, hass: HomeAssistant, surplus: float) -> None:
        self.hass = hass
        self.surplus = surplus

    def car(self) -> float:
        charger = self.hass.states.get(CHARGER)
        if charger is None or charger.state != STATE_ON:
            return 0.0
        phases = self.hass.states.get(PHASE_SWITCH)
        three = phases is not None and phases.state == STATE_ON
        return float(state(self.hass, CURRENT)) * 230 * (3 if three else 1)

    async def report(self, surplus: float | None = None) -> None:
        if surplus is not None:
            self.surplus = surplus
        grid(self.hass, self.car() - self.surplus)
        await self.hass.async_block_till_done()


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float, house: House | None = None
) -> None:
    """Let ``seconds`` pass in steps of 10 s, the grid meter reporting at each step."""
    remaining = seconds
    while remaining > 0:
        step = min(10.0, remaining)
        freezer.tick(timedelta(seconds=step))
        if house is not None:
            await house.report()
        else:
            meter = hass.states.get(GRID)
            assert meter is not None
            hass.states.async_set(GRID, meter.state, meter.attributes)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        remaining -= step


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "platform", [Platform.NUMBER, Platform.SELECT, Platform.SENSOR, Platform.SWITCH]
)
async def test_entities_snapshot(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    await setup_charger(hass)
    hass.states.async_set(SOC, "90", {"unit_of_measurement": "%"})
    with only_platforms("ev_charging", platform):
        await setup_entry(hass, make_entry(battery_soc=SOC))
        await snapshot_platform(hass, entity_registry, snapshot, ENTRY_ID)


async def test_surplus_day_drives_charger(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Export starts the charger after the start delay, follows the surplus with the current,
    and stops after the stop delay of import."""
    freezer.move_to("2026-06-21 10:00:00+00:00")
    await setup_charger(hass)
    await setup_entry(hass, make_entry())
    assert state(hass, SWITCH) == STATE_ON
    assert state(hass, MODE) == "solar"
    assert state(hass, STATUS) == "no_surplus"
    assert state(hass, SURPLUS) == "-300.0"

    house = House(hass, 2000)
    await house.report()
    assert state(hass, STATUS) == "waiting_to_start"
    await advance(hass, freezer, 50, house)
    assert state(hass, CHARGER) == STATE_OFF
    await advance(hass, freezer, 10, house)
    assert state(hass, STATUS) == "charging_surplus"
    assert state(hass, CHARGER) == STATE_ON
    assert state(hass, CURRENT) == "8.0"
    assert state(hass, TARGET) == "8.0"

    # 700 W more surplus: 11 A, steady while the meter keeps reporting.
    house.surplus = 2700
    await advance(hass, freezer, 3600, house)
    assert state(hass, CURRENT) == "11.0"
    assert state(hass, SURPLUS) == "2700.0"  # 11 A x 230 V = 2530 W of it used
    assert 2.4 < float(state(hass, ENERGY)) < 2.6  # 11 A x 230 V for an hour

    # Clouds: 6 A, then a shortfall for the stop delay.
    house.surplus = 1000
    await advance(hass, freezer, 10, house)
    assert state(hass, CURRENT) == "6.0"
    assert state(hass, STATUS) == "waiting_to_stop"
    await advance(hass, freezer, 170, house)
    assert state(hass, CHARGER) == STATE_ON
    await advance(hass, freezer, 10, house)
    assert state(hass, CHARGER) == STATE_OFF
    assert state(hass, STATUS) == "no_surplus"
    assert state(hass, TARGET) == "0.0"

    # Fast mode: maximum current at once; off: stop.
    await hass.services.async_call(
        "select", "select_option", {"entity_id": MODE, "option": "fast"}, blocking=True
    )
    await hass.async_block_till_done()
    assert state(hass, CHARGER) == STATE_ON
    assert state(hass, CURRENT) == "16.0"
    await hass.services.async_call(
        "select", "select_option", {"entity_id": MODE, "option": "off"}, blocking=True
    )
    await hass.async_block_till_done()
    assert state(hass, CHARGER) == STATE_OFF
    assert state(hass, STATUS) == "disabled"

    # Midnight: today's solar energy starts over.
    freezer.move_to(dt_util.start_of_local_day(dt_util.now() + timedelta(days=1)))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state(hass, ENERGY) == "0.0"


async def test_numbers_and_switch(
    hass: HomeAssistant, init_integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    coordinator: EvChargingCoordinator = init_integration.runtime_data
    await hass.services.async_call(
        "number", "set_value", {"entity_id": START_DELAY, "value": 0}, blocking=True
    )
    await hass.services.async_call(
        "number", "set_value", {"entity_id": MIN_CURRENT, "value": 8}, blocking=True
    )
    assert coordinator.controller.settings.start_delay == 0
    assert state(hass, MIN_CURRENT) == "8.0"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            "number", "set_value", {"entity_id": MAX_CURRENT, "value": 7}, blocking=True
        )
    assert err.value.translation_key == "ev_invalid_setting"

    # Controller off: the charger is left alone, even with plenty of surplus.
    await hass.services.async_call("switch", "turn_off", {"entity_id": SWITCH}, blocking=True)
    grid(hass, -3000)
    await advance(hass, freezer, 600)
    assert state(hass, CHARGER) == STATE_OFF
    assert state(hass, STATUS) == "disabled"
    await hass.services.async_call("switch", "turn_on", {"entity_id": SWITCH}, blocking=True)
    await hass.async_block_till_done()
    assert state(hass, CHARGER) == STATE_ON
    assert state(hass, CURRENT) == "13.0"

    diagnostics = await async_get_config_entry_diagnostics(hass, coordinator.config_entry)
    assert diagnostics["runtime"]["status"] == "charging_surplus"
    assert diagnostics["runtime"]["settings"]["min_current"] == 8
    assert diagnostics["runtime"]["entities"]["charger"] == CHARGER


async def test_stale_grid_power_stops_and_raises_issue(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    await setup_charger(hass)
    await setup_entry(hass, make_entry(start_delay=0))
    issues = ir.async_get(hass)
    issue_id = f"ev_grid_power_stale_{ENTRY_ID}"
    grid(hass, -2000)
    await hass.async_block_till_done()
    assert state(hass, CHARGER) == STATE_ON

    # The meter goes quiet: 59 s later still charging, at 60 s stopped with a repair issue.
    freezer.tick(timedelta(seconds=59))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state(hass, CHARGER) == STATE_ON
    freezer.tick(timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state(hass, CHARGER) == STATE_OFF
    assert state(hass, STATUS) == "stale_data"
    assert state(hass, SURPLUS) == "unknown"
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {
        "entity": GRID,
        "timeout": "60",
        "title": "EV charging: Wallbox",
    }

    # Data back: the issue clears itself; charging restarts after the minimum off time.
    grid(hass, -2000)
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    assert state(hass, STATUS) == "min_off_time"
    await advance(hass, freezer, 300)
    assert state(hass, CHARGER) == STATE_ON

    # Unavailable is stale at once.
    grid(hass, STATE_UNAVAILABLE)
    await hass.async_block_till_done()
    assert state(hass, CHARGER) == STATE_OFF
    assert issues.async_get_issue(DOMAIN, issue_id) is not None


async def test_steady_reading_is_not_stale(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """An unchanged value that is reported again (state_reported) keeps the data fresh."""
    await setup_charger(hass)
    await setup_entry(hass, make_entry(start_delay=0))
    grid(hass, -2000)
    await hass.async_block_till_done()
    for _ in range(12):
        freezer.tick(timedelta(seconds=10))
        hass.states.async_set(GRID, "-2000", {"unit_of_measurement": "W"})
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert state(hass, STATUS) == "charging_surplus"


async def test_phase_switching_and_battery(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    await setup_charger(hass)
    hass.states.async_set(SOC, "30", {"unit_of_measurement": "%"})
    entry = make_entry(phases="3", phase_switch_entity=PHASE_SWITCH, battery_soc=SOC, start_delay=0)
    await setup_entry(hass, entry)
    house = House(hass, 5000)
    await house.report()
    assert state(hass, STATUS) == "battery_priority"
    hass.states.async_set(SOC, "80", {"unit_of_measurement": "%"})
    await hass.async_block_till_done()
    assert state(hass, CHARGER) == STATE_ON
    assert state(hass, PHASE_SWITCH) == STATE_ON
    assert state(hass, CURRENT) == "7.0"
    # Less sun: below 3 x 6 A (4140 W) for the phase switch delay -> one phase, 14 A.
    house.surplus = 3300
    await advance(hass, freezer, 290, house)
    assert state(hass, PHASE_SWITCH) == STATE_ON
    await advance(hass, freezer, 20, house)
    assert state(hass, PHASE_SWITCH) == STATE_OFF
    assert state(hass, CHARGER) == STATE_ON
    assert state(hass, CURRENT) == "14.0"


async def test_charger_on_at_start_and_kw_sensor(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A charger found on is taken over; a kW export-positive sensor is understood."""
    await setup_charger(hass, charger_on=True)
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": CURRENT, "value": 10}, blocking=True
    )
    grid(hass, 1.0, "kW")  # 1 kW export
    coordinator = await setup_entry(hass, make_entry(grid_sign="export_positive"))
    assert coordinator.controller.command.charging
    assert state(hass, SURPLUS) == "3300.0"  # 10 A x 230 V + 1000 W
    assert state(hass, CURRENT) == "14.0"
    assert state(hass, CHARGER) == STATE_ON


async def test_restore_after_restart(hass: HomeAssistant) -> None:
    mock_restore_cache_with_extra_data(
        hass,
        [
            (State(SWITCH, STATE_OFF), {}),
            (State(MODE, "fast"), {}),
            (
                State(START_DELAY, "30"),
                {
                    "native_value": 30,
                    "native_unit_of_measurement": "s",
                    "native_min_value": 0,
                    "native_max_value": 3600,
                    "native_step": 1,
                },
            ),
            (
                State(MAX_CURRENT, "4"),
                {
                    "native_value": 4,
                    "native_unit_of_measurement": "A",
                    "native_min_value": 1,
                    "native_max_value": 32,
                    "native_step": 1,
                },
            ),
            (
                State(ENERGY, "2.5"),
                {"native_value": 2.5, "native_unit_of_measurement": "kWh"},
            ),
        ],
    )
    await setup_charger(hass)
    coordinator = await setup_entry(hass, make_entry())
    assert coordinator.controller.enabled is False
    assert state(hass, SWITCH) == STATE_OFF
    assert state(hass, MODE) == "fast"
    assert coordinator.controller.settings.start_delay == 30
    assert coordinator.controller.settings.max_current == 16  # 4 A < 6 A: not restored
    assert state(hass, ENERGY) == "2.5"


async def test_charger_service_failure_is_counted(hass: HomeAssistant) -> None:
    await setup_charger(hass)
    coordinator = await setup_entry(hass, make_entry(start_delay=0, current_entity="light.gone"))
    grid(hass, -3000)
    await hass.async_block_till_done()
    grid(hass, -3100)
    await hass.async_block_till_done()
    assert coordinator.action_errors == 2
    assert state(hass, CHARGER) == STATE_OFF


async def test_without_current_entity_and_unload(hass: HomeAssistant) -> None:
    await setup_charger(hass)
    entry = make_entry(current_entity=None, min_current=10.0)
    coordinator = await setup_entry(hass, entry)
    assert coordinator.controller.settings.max_current == 10
    assert hass.states.get(MAX_CURRENT) is None
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED


@pytest.mark.parametrize(
    ("value", "attributes", "sign", "expected"),
    [
        ("500", {"unit_of_measurement": "W"}, GridSign.IMPORT_POSITIVE, 500),
        ("0.5", {"unit_of_measurement": "kW"}, GridSign.EXPORT_POSITIVE, -500),
        ("0.001", {"unit_of_measurement": "MW"}, GridSign.IMPORT_POSITIVE, 1000),
        ("12", {}, GridSign.IMPORT_POSITIVE, 12),
        ("12", {"unit_of_measurement": "BTU/h"}, GridSign.IMPORT_POSITIVE, None),
        ("unknown", {"unit_of_measurement": "W"}, GridSign.IMPORT_POSITIVE, None),
    ],
)
def test_grid_power_from_state(
    value: str, attributes: dict[str, str], sign: GridSign, expected: float | None
) -> None:
    assert grid_power_from_state(State(GRID, value, attributes), sign) == expected
    assert grid_power_from_state(None, sign) is None


async def test_apply_without_change_does_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
) -> None:
    coordinator: EvChargingCoordinator = init_integration.runtime_data
    calls = coordinator.action_errors
    await coordinator._async_apply()  # already applied
    coordinator.async_set_enabled(False)
    await coordinator._async_apply()  # controller off
    assert coordinator.action_errors == calls
    assert state(hass, CHARGER) == STATE_OFF
