"""The typed settings of an EV charging entry (``const.EvChargingSettings``).

The stored keys are written out as literals, exactly as entries hold them (the shapes that
``test_config_flow.py`` asserts the flow saves), so a renamed ``CONF_*`` constant fails here
rather than silently reading a default. The defaults are the controller's documented ones:
230 V (EN 50160), IEC 61851-1's 6 A minimum, evcc's 1 min / 3 min delays and 5 min guard
times, a 60 s stale timeout and 50 % battery priority.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.ev_charging.const import EvChargingSettings, GridSign
from custom_components.pv_monitor.ev_charging.controller import ControllerSettings
from custom_components.pv_monitor.ev_charging.coordinator import EvChargingCoordinator

MINIMAL = {
    "kind": "ev_charging",
    "charger": "switch.wallbox",
    "phases": "1",
    "grid_power": "sensor.grid",
}
"""The data an entry cannot do without."""


def test_every_field_is_read_from_its_key() -> None:
    """Entities and set-up numbers from the data, timing from the options."""
    data = {
        **MINIMAL,
        "current_entity": "number.wallbox_current",
        "phases": "3",
        "phase_switch_entity": "switch.wallbox_3p",
        "voltage": 240,
        "grid_sign": "export_positive",
        "battery_soc": "sensor.battery",
        "start_threshold": 100,
        "stop_threshold": 50,
        "start_delay": 30,
        "stop_delay": 120,
        "min_current": 7,
        "max_current": 20,
        "battery_priority_soc": 80,
    }
    options = {
        "min_on_time": 600,
        "min_off_time": 900,
        "phase_switch_delay": 420,
        "stale_timeout": 45,
    }

    settings = EvChargingSettings.from_mapping(data, options)

    assert settings == EvChargingSettings(
        charger="switch.wallbox",
        current_entity="number.wallbox_current",
        phase_switch_entity="switch.wallbox_3p",
        grid_power="sensor.grid",
        grid_sign=GridSign.EXPORT_POSITIVE,
        battery_soc="sensor.battery",
        controller=ControllerSettings(
            voltage=240.0,
            phases=3,
            phase_switching=True,
            min_current=7.0,
            max_current=20.0,
            start_threshold=100.0,
            stop_threshold=50.0,
            start_delay=30.0,
            stop_delay=120.0,
            min_on_time=600.0,
            min_off_time=900.0,
            phase_switch_delay=420.0,
            stale_timeout=45.0,
            battery_priority_soc=80.0,
        ),
    )


def test_an_old_entry_gets_the_defaults() -> None:
    """No options (an entry from before the options form), no limits, no sign, no voltage."""
    settings = EvChargingSettings.from_mapping(
        {**MINIMAL, "current_entity": "number.c", "battery_soc": "sensor.battery"}, {}
    )
    assert settings.grid_sign is GridSign.IMPORT_POSITIVE
    assert settings.phase_switch_entity is None
    controller = settings.controller
    assert (controller.voltage, controller.phases, controller.phase_switching) == (230.0, 1, False)
    assert (controller.min_current, controller.max_current) == (6.0, 16.0)
    assert (controller.start_threshold, controller.stop_threshold) == (0.0, 0.0)
    assert (controller.start_delay, controller.stop_delay) == (60.0, 180.0)
    assert (controller.min_on_time, controller.min_off_time) == (300.0, 300.0)
    assert controller.phase_switch_delay == 300.0
    assert controller.stale_timeout == 60.0
    assert controller.battery_priority_soc == 50.0


def test_optional_entities_decide_what_applies() -> None:
    """Without a current entity the current is fixed at the minimum; without a battery there
    is no priority; an emptied entity field counts as none."""
    data = {
        **MINIMAL,
        "current_entity": "",
        "battery_soc": "",
        "phase_switch_entity": "",
        "min_current": 8,
        "max_current": 32,
        "battery_priority_soc": 70,
    }
    settings = EvChargingSettings.from_mapping(data, {})
    assert (settings.current_entity, settings.battery_soc, settings.phase_switch_entity) == (
        None,
        None,
        None,
    )
    assert (settings.controller.min_current, settings.controller.max_current) == (8.0, 8.0)
    assert settings.controller.battery_priority_soc is None
    assert settings.controller.phase_switching is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"current_entity": "number.c", "min_current": 20, "max_current": 10}, "min_current"),
        ({"phase_switch_entity": "switch.p"}, "three-phase"),
        ({"phases": "2"}, "phases"),
        ({"battery_soc": "sensor.b", "battery_priority_soc": 120}, "battery_priority_soc"),
    ],
)
def test_inconsistent_values_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EvChargingSettings.from_mapping({**MINIMAL, **data}, {})


@pytest.mark.parametrize("missing", ["charger", "phases", "grid_power"])
def test_missing_data_is_a_key_error(missing: str) -> None:
    data = {key: value for key, value in MINIMAL.items() if key != missing}
    with pytest.raises(KeyError, match=missing):
        EvChargingSettings.from_mapping(data, {})


@pytest.mark.usefixtures("mock_setup_entry")
async def test_an_entry_the_flow_created(hass: HomeAssistant) -> None:
    """What the config flow saves is what the settings read (one round trip)."""
    hass.states.async_set("switch.wallbox", "off")
    hass.states.async_set("number.wallbox_current", "6")
    hass.states.async_set("sensor.grid", "100", {"unit_of_measurement": "W"})
    flow = hass.config_entries.flow
    result = await flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await flow.async_configure(result["flow_id"], {"next_step_id": "ev_charging"})
    entities = {
        "charger": "switch.wallbox",
        "current_entity": "number.wallbox_current",
        "phases": "1",
        "voltage": 235,
        "grid_power": "sensor.grid",
        "grid_sign": "export_positive",
    }
    result = await flow.async_configure(result["flow_id"], entities)
    limits = {
        "start_threshold": 100,
        "stop_threshold": 50,
        "start_delay": 20,
        "stop_delay": 40,
        "min_current": 7,
        "max_current": 13,
    }
    result = await flow.async_configure(result["flow_id"], limits)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]

    settings = EvChargingSettings.from_mapping(entry.data, entry.options)

    assert settings.charger == "switch.wallbox"
    assert settings.current_entity == "number.wallbox_current"
    assert settings.grid_power == "sensor.grid"
    assert settings.grid_sign is GridSign.EXPORT_POSITIVE
    assert settings.controller == ControllerSettings(
        voltage=235.0,
        phases=1,
        min_current=7.0,
        max_current=13.0,
        start_threshold=100.0,
        stop_threshold=50.0,
        start_delay=20.0,
        stop_delay=40.0,
    )


def test_settings_are_frozen() -> None:
    settings = EvChargingSettings.from_mapping(MINIMAL, {})
    with pytest.raises(AttributeError):
        settings.charger = "switch.other"  # type: ignore[misc]


async def test_options_change_reloads_with_new_settings(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Saving options reloads the entry: a new controller runs with the new timing."""
    entry = init_integration
    before: EvChargingCoordinator = entry.runtime_data
    assert before.controller.settings.stale_timeout == 60.0

    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "stale_timeout": 20.0, "min_on_time": 900.0}
    )
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    after: EvChargingCoordinator = entry.runtime_data
    assert after is not before
    assert after.settings.controller.stale_timeout == 20.0
    assert after.controller.settings.stale_timeout == 20.0
    assert after.controller.settings.min_on_time == 900.0
