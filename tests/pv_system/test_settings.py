"""The typed settings of a PV system entry (``const.PvSystemSettings``).

The stored keys are written out as literals, exactly as entries hold them (the shapes that
``test_config_flow.py`` asserts the flow saves, and that existing installations carry), so a
renamed ``CONF_*`` constant fails here rather than silently reading nothing. The defaults
are the documented ones: PVWatts v5's -0.37 %/K and 14 % losses (Dobos 2014), and the
anomaly detector's 0.8 threshold and 10 % repair share.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.pv_system.const import (
    Price,
    PvArraySensor,
    PvSystemOptions,
    PvSystemSettings,
)
from custom_components.pv_monitor.pv_system.coordinator import PvSystemCoordinator
from custom_components.pv_monitor.pv_system.solar.forecast import PvArray, PvSite

from .fixtures import ROOF_DATA

DATA = ROOF_DATA
"""52.1 N 5.2 E, 10 m, a 5 kW inverter."""
SOUTH = {
    "name": "South",
    "tilt": 30.0,
    "azimuth": 180.0,
    "kwp": 4.2,
    "gamma_pdc": -0.35,
    "losses": 12.0,
    "power_sensor": "sensor.south_power",
}
WEST = {
    "name": "West",
    "tilt": 20.0,
    "azimuth": 270.0,
    "kwp": 2.0,
    "gamma_pdc": -0.4,
    "losses": 9.0,
}


def test_every_field_is_read_from_its_key() -> None:
    """Each option, data key and array key lands in its own field, in its unit."""
    options = {
        "production_power": "sensor.pv_power",
        "production_energy": "sensor.pv_energy",
        "poa_irradiance": "sensor.poa",
        "module_temperature": "sensor.module_temp",
        "weather": "weather.home",
        "grid_import": "sensor.grid_import",
        "grid_export": "sensor.grid_export",
        "grid_power": "sensor.grid_power",
        "import_price": 0.3,
        "import_price_entity": "sensor.import_price",
        "export_price": -0.05,
        "export_price_entity": "sensor.export_price",
        "underperformance_threshold": 0.7,
        "repair_share": 0.25,
        "muted_anomalies": ["no_production"],
    }
    subentries = [("array", "South", SOUTH), ("array", "West", WEST)]

    settings = PvSystemSettings.from_mapping(DATA, options, subentries)

    south = PvArray("South", tilt=30.0, azimuth=180.0, kwp=4.2, gamma_pdc=-0.35, losses=12.0)
    west = PvArray("West", tilt=20.0, azimuth=270.0, kwp=2.0, gamma_pdc=-0.4, losses=9.0)
    assert settings.site == PvSite(
        latitude=52.1, longitude=5.2, elevation=10.0, arrays=(south, west), ac_limit_kw=5.0
    )
    assert settings.array_sensors == (PvArraySensor(south, "sensor.south_power"),)
    assert settings.options == PvSystemOptions(
        production_power="sensor.pv_power",
        production_energy="sensor.pv_energy",
        poa_irradiance="sensor.poa",
        module_temperature="sensor.module_temp",
        weather="weather.home",
        grid_import="sensor.grid_import",
        grid_export="sensor.grid_export",
        grid_power="sensor.grid_power",
        import_price=Price(0.3, "sensor.import_price"),
        export_price=Price(-0.05, "sensor.export_price"),
        threshold=0.7,
        repair_share=0.25,
        muted_anomalies=("no_production",),
    )


def test_an_old_entry_gets_the_defaults() -> None:
    """An entry from before the anomaly options, prices and per-array gamma and losses."""
    old_array = {"name": "South", "tilt": 35, "azimuth": 180, "kwp": 4}
    settings = PvSystemSettings.from_mapping(
        {**DATA, "ac_limit_kw": 4},  # numbers stored as ints by an older flow
        {"production_power": "sensor.pv_power", "weather": ""},  # an emptied field
        [("array", "South", old_array)],
    )

    assert settings.site.arrays == (
        PvArray("South", tilt=35.0, azimuth=180.0, kwp=4.0, gamma_pdc=-0.37, losses=14.0),
    )
    assert settings.site.ac_limit_kw == 4.0
    assert isinstance(settings.site.ac_limit_kw, float)
    assert settings.array_sensors == ()
    options = settings.options
    assert options.production_power == "sensor.pv_power"
    assert options.weather is None
    assert options.production_energy is None
    assert options.grid_power is None
    assert options.import_price == Price(None, None)
    assert options.export_price == Price(None, None)
    assert options.threshold == 0.8
    assert options.repair_share == 0.1
    assert options.muted_anomalies == ()


def test_only_array_subentries_are_arrays() -> None:
    """Subentries of another type are not arrays; no subentry gives an empty site."""
    settings = PvSystemSettings.from_mapping(DATA, {}, [("battery", "Box", {"kwh": 10})])
    assert settings.site.arrays == ()
    assert settings.site.kwp == 0
    assert PvSystemSettings.from_mapping(DATA, {}).site.arrays == ()


@pytest.mark.parametrize("missing", ["latitude", "longitude", "elevation", "ac_limit_kw"])
def test_missing_site_data_is_a_key_error(missing: str) -> None:
    data = {key: value for key, value in DATA.items() if key != missing}
    with pytest.raises(KeyError, match=missing):
        PvSystemSettings.from_mapping(data, {})


@pytest.mark.parametrize("missing", ["tilt", "azimuth", "kwp"])
def test_missing_array_data_is_a_key_error(missing: str) -> None:
    array = {key: value for key, value in SOUTH.items() if key != missing}
    with pytest.raises(KeyError, match=missing):
        PvSystemSettings.from_mapping(DATA, {}, [("array", "South", array)])


@pytest.mark.usefixtures("mock_setup_entry")
async def test_an_entry_the_flow_created(hass: HomeAssistant) -> None:
    """What the config flow saves is what the settings read (one round trip)."""
    flow = hass.config_entries.flow
    result = await flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await flow.async_configure(result["flow_id"], {"next_step_id": "pv_system"})
    site = {"location": {"latitude": 52.1, "longitude": 5.2}, "elevation": 12, "ac_limit_kw": 5}
    result = await flow.async_configure(result["flow_id"], {"name": "Roof", **site})
    sensors = {
        "production_power": "sensor.pv_power",
        "production_energy": "sensor.pv_energy",
        "grid_power": "sensor.grid_power",
        "export_price": 0.07,
        "import_price_entity": "sensor.import_price",
    }
    result = await flow.async_configure(result["flow_id"], sensors)
    result = await flow.async_configure(result["flow_id"], SOUTH)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]

    settings = PvSystemSettings.from_mapping(
        entry.data,
        entry.options,
        [(sub.subentry_type, sub.title, sub.data) for sub in entry.subentries.values()],
    )

    south = PvArray("South", tilt=30.0, azimuth=180.0, kwp=4.2, gamma_pdc=-0.35, losses=12.0)
    assert settings.site == PvSite(52.1, 5.2, 12.0, (south,), 5.0)
    assert settings.array_sensors == (PvArraySensor(south, "sensor.south_power"),)
    assert settings.options.production_power == "sensor.pv_power"
    assert settings.options.production_energy == "sensor.pv_energy"
    assert settings.options.grid_power == "sensor.grid_power"
    assert settings.options.import_price == Price(None, "sensor.import_price")
    assert settings.options.export_price == Price(0.07, None)
    assert (settings.options.threshold, settings.options.repair_share) == (0.8, 0.1)


def test_settings_are_frozen() -> None:
    settings = PvSystemSettings.from_mapping(DATA, {})
    with pytest.raises(AttributeError):
        settings.options = settings.options  # type: ignore[misc]


async def test_options_change_reloads_with_new_settings(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Saving options reloads the entry: a new runtime reads them (sensors follow)."""
    entry = init_integration
    before: PvSystemCoordinator = entry.runtime_data
    assert before.settings.options.grid_power is None
    assert hass.states.get("sensor.roof_house_load_power") is None

    new_options: dict[str, Any] = {
        **entry.options,
        "grid_power": "sensor.grid",
        "underperformance_threshold": 0.6,
    }
    hass.config_entries.async_update_entry(entry, options=new_options)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.state is ConfigEntryState.LOADED
    after: PvSystemCoordinator = entry.runtime_data
    assert after is not before
    assert after.settings.options.grid_power == "sensor.grid"
    assert after.detector.threshold == 0.6
    assert hass.states.get("sensor.roof_house_load_power") is not None
