"""Config, reconfigure and options flow of EV surplus charging, every branch."""

from __future__ import annotations

from typing import Any
from unittest.mock import AsyncMock

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.const import DOMAIN

CHARGER = "switch.wallbox"
GRID = "sensor.grid_power"

ENTITIES = {
    "charger": CHARGER,
    "current_entity": "number.wallbox_current",
    "phases": "1",
    "voltage": 230,
    "grid_power": GRID,
    "grid_sign": "import_positive",
}
LIMITS = {
    "start_threshold": 100,
    "stop_threshold": 50,
    "start_delay": 60,
    "stop_delay": 180,
    "min_current": 6,
    "max_current": 16,
}


@pytest.fixture(autouse=True)
def entities(hass: HomeAssistant) -> None:
    hass.states.async_set(CHARGER, "off", {"friendly_name": "Wallbox"})
    hass.states.async_set("number.wallbox_current", "6")
    hass.states.async_set("switch.wallbox_3p", "off")
    hass.states.async_set(GRID, "100", {"unit_of_measurement": "W", "device_class": "power"})
    hass.states.async_set("sensor.battery", "50", {"device_class": "battery"})


async def start(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert "ev_charging" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ev_charging"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ev_charging"
    return result


async def test_full_flow(hass: HomeAssistant, mock_setup_entry: AsyncMock) -> None:
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], ENTITIES)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ev_charging_limits"
    assert "max_current" in result["data_schema"].schema
    assert "battery_priority_soc" not in result["data_schema"].schema
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**LIMITS, "min_current": 17}
    )
    assert result["errors"] == {"min_current": "ev_min_above_max"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "EV charging: Wallbox"
    assert result["result"].unique_id == "ev_charging_switch.wallbox"
    assert result["data"] == {"kind": "ev_charging", **ENTITIES, **LIMITS}
    assert result["options"] == {
        "min_on_time": 300.0,
        "min_off_time": 300.0,
        "phase_switch_delay": 300.0,
        "stale_timeout": 60.0,
    }
    assert len(mock_setup_entry.mock_calls) == 1

    # The same charger again: aborted.
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], ENTITIES)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ev_already_configured"


async def test_errors_and_minimal_charger(hass: HomeAssistant, mock_setup_entry: AsyncMock) -> None:
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**ENTITIES, "grid_power": "sensor.missing", "phase_switch_entity": "switch.wallbox_3p"},
    )
    assert result["errors"] == {
        "grid_power": "ev_entity_not_found",
        "phase_switch_entity": "ev_phase_switch_needs_three",
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**ENTITIES, "phases": "3", "phase_switch_entity": CHARGER}
    )
    assert result["errors"] == {"phase_switch_entity": "ev_same_entity"}
    # No current entity, a battery: no maximum current, a battery priority instead.
    minimal = {k: v for k, v in ENTITIES.items() if k != "current_entity"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**minimal, "battery_soc": "sensor.battery"}
    )
    assert result["step_id"] == "ev_charging_limits"
    schema = result["data_schema"].schema
    assert "max_current" not in schema
    assert "battery_priority_soc" in schema
    limits = {k: v for k, v in LIMITS.items() if k != "max_current"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**limits, "battery_priority_soc": 40}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "current_entity" not in result["data"]
    assert result["data"]["battery_soc"] == "sensor.battery"


async def test_title_without_state(hass: HomeAssistant, mock_setup_entry: AsyncMock) -> None:
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], ENTITIES)
    hass.states.async_remove(CHARGER)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], LIMITS)
    assert result["title"] == "EV charging: switch.wallbox"


def make_entry(hass: HomeAssistant, charger: str = CHARGER) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=f"ev_charging_{charger}",
        title="EV charging: Wallbox",
        data={"kind": "ev_charging", **ENTITIES, "charger": charger, **LIMITS},
        options={
            "min_on_time": 300.0,
            "min_off_time": 300.0,
            "phase_switch_delay": 300.0,
            "stale_timeout": 60.0,
        },
    )
    entry.add_to_hass(hass)
    return entry


async def test_reconfigure(hass: HomeAssistant, mock_setup_entry: AsyncMock) -> None:
    entry = make_entry(hass)
    make_entry(hass, "switch.other")
    hass.states.async_set("switch.other", "off")
    hass.states.async_set("switch.new", "off")
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_ev_charging"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**ENTITIES, "grid_power": "sensor.missing"}
    )
    assert result["errors"] == {"grid_power": "ev_entity_not_found"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**ENTITIES, "charger": "switch.other"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ev_already_configured"

    result = await entry.start_reconfigure_flow(hass)
    minimal = {k: v for k, v in ENTITIES.items() if k != "current_entity"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**minimal, "charger": "switch.new", "voltage": 240}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ev_reconfigure_successful"
    assert entry.unique_id == "ev_charging_switch.new"
    assert entry.data["charger"] == "switch.new"
    assert entry.data["voltage"] == 240
    assert "current_entity" not in entry.data
    assert entry.data["start_threshold"] == 100  # limits kept


async def test_options(hass: HomeAssistant, mock_setup_entry: AsyncMock) -> None:
    entry = make_entry(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ev_charging_options"
    options = {
        "min_on_time": 120.0,
        "min_off_time": 600.0,
        "phase_switch_delay": 240.0,
        "stale_timeout": 30.0,
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], options)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == options
