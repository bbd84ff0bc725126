"""Config, options, reconfigure and array subentry flows of the PV system kind."""

from __future__ import annotations

from unittest.mock import AsyncMock

from homeassistant.config_entries import SOURCE_USER, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.config_flow import PvMonitorConfigFlow
from custom_components.pv_monitor.const import DOMAIN

SITE_INPUT = {
    "name": "Roof",
    "location": {"latitude": 52.1, "longitude": 5.2},
    "elevation": 12,
    "ac_limit_kw": 5.0,
}
SENSORS_INPUT = {
    "production_power": "sensor.pv_power",
    "production_energy": "sensor.pv_energy",
    "weather": "weather.home",
    "import_price": 0.3,
}
ARRAY_INPUT = {
    "name": "South",
    "tilt": 30,
    "azimuth": 180,
    "kwp": 4.2,
    "gamma_pdc": -0.35,
    "losses": 14,
}


def _entry(hass: HomeAssistant) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Roof",
        unique_id="pv_system_roof",
        data={
            "kind": "pv_system",
            "name": "Roof",
            "latitude": 52.1,
            "longitude": 5.2,
            "elevation": 12.0,
            "ac_limit_kw": 5.0,
        },
        options={"production_power": "sensor.pv_power", "underperformance_threshold": 0.8},
        subentries_data=[
            ConfigSubentryData(
                data=ARRAY_INPUT, subentry_type="array", title="South", unique_id=None
            )
        ],
    )
    entry.add_to_hass(hass)
    return entry


@pytest.mark.usefixtures("mock_setup_entry")
async def test_create_pv_system(hass: HomeAssistant) -> None:
    """Menu -> site (home defaults) -> sensors -> first array -> entry with a subentry."""
    hass.config.latitude, hass.config.longitude, hass.config.elevation = 50.0, 6.0, 99
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert "pv_system" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "pv_system"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pv_system"
    schema = result["data_schema"].schema
    suggested = {str(key): key.description for key in schema}
    assert suggested["location"] == {"suggested_value": {"latitude": 50.0, "longitude": 6.0}}
    assert suggested["elevation"] == {"suggested_value": 99}
    # A sane AC limit is proposed, not the selector's minimum of 0.1 kW.
    assert suggested["ac_limit_kw"] == {"suggested_value": 5.0}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], SITE_INPUT)
    assert result["step_id"] == "pv_system_sensors"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], SENSORS_INPUT)
    assert result["step_id"] == "pv_system_array"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**ARRAY_INPUT, "azimuth": 360, "name": " South "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == "pv_system_roof"
    assert entry.title == "Roof"
    assert dict(entry.data) == {
        "kind": "pv_system",
        "name": "Roof",
        "latitude": 52.1,
        "longitude": 5.2,
        "elevation": 12.0,
        "ac_limit_kw": 5.0,
    }
    assert dict(entry.options) == {
        **SENSORS_INPUT,
        "underperformance_threshold": 0.8,
        "repair_share": 0.1,
    }
    (subentry,) = entry.subentries.values()
    assert subentry.subentry_type == "array"
    assert subentry.title == "South"
    assert dict(subentry.data) == {
        **ARRAY_INPUT,
        "azimuth": 0.0,
        "tilt": 30.0,
        "kwp": 4.2,
        "gamma_pdc": -0.35,
        "losses": 14.0,
    }


@pytest.mark.usefixtures("mock_setup_entry")
async def test_duplicate_name_aborts(hass: HomeAssistant) -> None:
    _entry(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "pv_system"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**SITE_INPUT, "name": "roof"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reconfigure(hass: HomeAssistant) -> None:
    entry = _entry(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_pv_system"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"location": {"latitude": 48.0, "longitude": 11.0}, "elevation": 500, "ac_limit_kw": 8},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["latitude"] == 48.0
    assert entry.data["elevation"] == 500.0
    assert entry.data["ac_limit_kw"] == 8.0
    assert entry.data["kind"] == "pv_system"


@pytest.mark.usefixtures("mock_setup_entry")
async def test_options(hass: HomeAssistant) -> None:
    entry = _entry(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "pv_system_options"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "production_power": "sensor.other_power",
            "production_energy": "sensor.other_energy",
            "grid_import": "sensor.import",
            "export_price_entity": "sensor.export_price",
            "grid_power": "sensor.grid_power",
            "underperformance_threshold": 0.7,
            "repair_share": 0.25,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert dict(entry.options) == {
        "production_power": "sensor.other_power",
        "production_energy": "sensor.other_energy",
        "grid_import": "sensor.import",
        "export_price_entity": "sensor.export_price",
        "grid_power": "sensor.grid_power",
        "underperformance_threshold": 0.7,
        "repair_share": 0.25,
    }


@pytest.mark.usefixtures("mock_setup_entry")
async def test_array_subentries(hass: HomeAssistant) -> None:
    """Arrays can be added and edited later."""
    entry = _entry(hass)
    assert PvMonitorConfigFlow.async_get_supported_subentry_types(entry).keys() == {"array"}
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "array"), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**ARRAY_INPUT, "name": "East", "azimuth": 90, "kwp": 2.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    titles = sorted(sub.title for sub in entry.subentries.values())
    assert titles == ["East", "South"]

    east = next(sub for sub in entry.subentries.values() if sub.title == "East")
    result = await entry.start_subentry_reconfigure_flow(hass, east.subentry_id)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**ARRAY_INPUT, "name": "East roof", "azimuth": 95, "kwp": 2.5}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    edited = entry.subentries[east.subentry_id]
    assert edited.title == "East roof"
    assert edited.data["azimuth"] == 95.0
    assert edited.data["kwp"] == 2.5
    assert "power_sensor" not in edited.data

    # An array with its own power sensor (a string): kept for the string comparison.
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "array"), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**ARRAY_INPUT, "name": "String 2", "power_sensor": "sensor.pv2_power"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    string = next(sub for sub in entry.subentries.values() if sub.title == "String 2")
    assert string.data["power_sensor"] == "sensor.pv2_power"


@pytest.mark.usefixtures("mock_setup_entry")
async def test_unset_home_location_is_refused(hass: HomeAssistant) -> None:
    """A home still at 0, 0 (never set) is not taken as the panels' location."""
    hass.config.latitude, hass.config.longitude = 0.0, 0.0
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "pv_system"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**SITE_INPUT, "location": {"latitude": 0.0, "longitude": 0.0}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"location": "location_unset"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], SITE_INPUT)
    assert result["step_id"] == "pv_system_sensors"


def test_other_kinds_have_no_subentries(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={"kind": "growatt_local"})
    assert PvMonitorConfigFlow.async_get_supported_subentry_types(entry) == {}


async def test_unused_mock(mock_setup_entry: AsyncMock) -> None:
    assert not mock_setup_entry.called


@pytest.mark.usefixtures("mock_setup_entry")
async def test_sensors_step_suggests_our_inverter(hass: HomeAssistant) -> None:
    """With a PV Monitor inverter present, its AC power and lifetime energy are proposed."""
    registry = er.async_get(hass)
    registry.async_get_or_create("sensor", DOMAIN, "INV1_ac_power", suggested_object_id="inv_ac")
    registry.async_get_or_create("sensor", DOMAIN, "INV1_energy_total", suggested_object_id="inv_e")
    registry.async_get_or_create("sensor", DOMAIN, "INV1_pv_power", suggested_object_id="inv_pv")
    registry.async_get_or_create("sensor", "other", "x_ac_power", suggested_object_id="foreign")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "pv_system"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], SITE_INPUT)
    assert result["step_id"] == "pv_system_sensors"
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description
    }
    assert suggested == {
        "production_power": "sensor.inv_ac",
        "production_energy": "sensor.inv_e",
    }
