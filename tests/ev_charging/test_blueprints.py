"""The automation blueprints: each loads through HA's blueprint integration and, used by an
automation, runs its action on a matching trigger."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.components.blueprint import models
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers.sun import get_astral_event_next
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util, yaml as yaml_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed, async_mock_service

BLUEPRINTS = Path(__file__).parents[2] / "blueprints" / "automation" / "pv_monitor"
SOURCE_URL = "https://github.com/pv-monitor/pv_monitor/blob/main/blueprints/automation/pv_monitor/"
NOTIFY = [{"action": "test.notify", "data": {"title": "{{ title }}", "message": "{{ message }}"}}]


@pytest.fixture(autouse=True)
def blueprint_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config directory holding the blueprints where an import puts them."""
    hass.config.config_dir = str(tmp_path)
    target = Path(hass.config.path("blueprints/automation/pv_monitor"))
    shutil.copytree(BLUEPRINTS, target)
    return target


async def use(hass: HomeAssistant, name: str, inputs: dict[str, Any]) -> None:
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": name,
                "use_blueprint": {"path": f"pv_monitor/{name}.yaml", "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get(f"automation.{name}") or next(iter(hass.states.async_all("automation")))
    assert state.state == STATE_ON, "automation did not load"


async def later(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    "name",
    [
        "ev_solar_surplus",
        "production_threshold",
        "anomaly_notify",
        "offline_daylight",
        "daily_report",
        "cap_export_low_price",
    ],
)
async def test_blueprint_is_valid(hass: HomeAssistant, name: str) -> None:
    """Valid blueprint schema, modern syntax, source_url, every input in a section."""
    raw = yaml_util.load_yaml(BLUEPRINTS / f"{name}.yaml")
    assert isinstance(raw, dict)
    blueprint = models.Blueprint(
        raw, expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA
    )
    assert blueprint.metadata["source_url"] == f"{SOURCE_URL}{name}.yaml"
    assert "triggers" in raw
    assert "actions" in raw
    assert "trigger" not in raw
    assert "action" not in raw
    for section in blueprint.metadata["input"].values():
        assert "input" in section, "inputs are grouped in sections"
    loaded = await async_get_blueprints(hass).async_get_blueprint(f"pv_monitor/{name}.yaml")
    assert loaded.name == raw["blueprint"]["name"]


async def test_ev_solar_surplus(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"wallbox": {"initial": False}}}
    )
    hass.states.async_set("sensor.p1_power", "200", {"unit_of_measurement": "W"})
    await use(
        hass,
        "ev_solar_surplus",
        {
            "charger": "input_boolean.wallbox",
            "grid_power": "sensor.p1_power",
            "start_export": 1500,
            "stop_import": 100,
        },
    )
    hass.states.async_set("sensor.p1_power", "-1600", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()
    await later(hass, freezer, 59)
    assert hass.states.get("input_boolean.wallbox").state == STATE_OFF
    await later(hass, freezer, 2)
    assert hass.states.get("input_boolean.wallbox").state == STATE_ON
    hass.states.async_set("sensor.p1_power", "400", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()
    await later(hass, freezer, 181)
    assert hass.states.get("input_boolean.wallbox").state == STATE_OFF
    # Export-positive sensors and the unavailable fail-safe.
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": "input_boolean.wallbox"}, blocking=True
    )
    hass.states.async_set("sensor.p1_power", "unavailable")
    await hass.async_block_till_done()
    await later(hass, freezer, 61)
    assert hass.states.get("input_boolean.wallbox").state == STATE_OFF


async def test_ev_solar_surplus_export_positive(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"wallbox": {"initial": False}}}
    )
    hass.states.async_set("sensor.export", "0", {"unit_of_measurement": "W"})
    await use(
        hass,
        "ev_solar_surplus",
        {
            "charger": "input_boolean.wallbox",
            "grid_power": "sensor.export",
            "export_positive": True,
            "start_delay": {"seconds": 30},
        },
    )
    hass.states.async_set("sensor.export", "2000", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()
    await later(hass, freezer, 31)
    assert hass.states.get("input_boolean.wallbox").state == STATE_ON


async def test_production_threshold(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    calls: list[ServiceCall] = async_mock_service(hass, "test", "notify")
    hass.states.async_set("sensor.pv_power", "100", {"unit_of_measurement": "W"})
    await use(
        hass,
        "production_threshold",
        {
            "power_sensor": "sensor.pv_power",
            "threshold": 2000,
            "hysteresis": 300,
            "duration": {"minutes": 5},
            "above_actions": [{"action": "test.notify", "data": {"message": "above"}}],
            "below_actions": [{"action": "test.notify", "data": {"message": "below"}}],
        },
    )
    hass.states.async_set("sensor.pv_power", "2500", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()
    await later(hass, freezer, 301)
    assert [call.data["message"] for call in calls] == ["above"]
    # Within the hysteresis band nothing happens; below it the "below" actions run.
    hass.states.async_set("sensor.pv_power", "1800", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()
    await later(hass, freezer, 301)
    assert len(calls) == 1
    hass.states.async_set("sensor.pv_power", "1600", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()
    await later(hass, freezer, 301)
    assert [call.data["message"] for call in calls] == ["above", "below"]


async def test_anomaly_notify(hass: HomeAssistant) -> None:
    calls: list[ServiceCall] = async_mock_service(hass, "test", "notify")
    await use(hass, "anomaly_notify", {"min_severity": "error", "notify_actions": NOTIFY})
    data = {
        "entry_id": "x",
        "name": "Roof",
        "type": "underperformance",
        "severity": "warning",
        "active": True,
        "duration_minutes": 60.0,
        "measured_kwh": 0.4,
        "expected_kwh": 1.2,
        "ratio": 0.333,
    }
    hass.bus.async_fire("pv_monitor_anomaly", data)
    await hass.async_block_till_done()
    assert calls == []  # a warning, errors only
    hass.bus.async_fire(
        "pv_monitor_anomaly", {**data, "type": "no_production", "severity": "error"}
    )
    await hass.async_block_till_done()
    assert len(calls) == 1
    assert calls[0].data["title"] == "Roof: anomaly"
    assert calls[0].data["message"].startswith("No production (error) for 60.0 min")
    hass.bus.async_fire("pv_monitor_anomaly", {**data, "severity": "error", "active": False})
    await hass.async_block_till_done()
    assert len(calls) == 1  # end of anomaly: not asked for


async def test_anomaly_notify_default_action(hass: HomeAssistant) -> None:
    """Default: a persistent notification, here also when an anomaly ends."""
    calls: list[ServiceCall] = async_mock_service(hass, "persistent_notification", "create")
    await use(hass, "anomaly_notify", {"notify_end": True})
    hass.bus.async_fire("pv_monitor_anomaly", {"name": "Roof", "active": False})
    await hass.async_block_till_done()
    assert [call.data["title"] for call in calls] == ["Roof: anomaly over"]
    assert (
        calls[0].data["message"] == "Anomaly (warning) for ? min: ? kWh measured, ? kWh expected."
    )


async def test_offline_daylight(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    calls: list[ServiceCall] = async_mock_service(hass, "test", "notify")
    hass.states.async_set("sun.sun", "above_horizon")
    hass.states.async_set(
        "binary_sensor.logger",
        STATE_ON,
        {"device_class": "connectivity", "friendly_name": "Logger"},
    )
    await use(
        hass,
        "offline_daylight",
        {"connectivity": ["binary_sensor.logger"], "notify_actions": NOTIFY},
    )
    hass.states.async_set(
        "binary_sensor.logger",
        STATE_OFF,
        {"device_class": "connectivity", "friendly_name": "Logger"},
    )
    await hass.async_block_till_done()
    await later(hass, freezer, 14 * 60)
    assert calls == []
    await later(hass, freezer, 61)
    assert len(calls) == 1
    assert calls[0].data["title"] == "Logger is offline"
    # At night: nothing.
    hass.states.async_set("sun.sun", "below_horizon")
    hass.states.async_set("binary_sensor.logger", STATE_ON)
    hass.states.async_set("binary_sensor.logger", "unavailable")
    await hass.async_block_till_done()
    await later(hass, freezer, 16 * 60)
    assert len(calls) == 1


async def test_daily_report(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    calls: list[ServiceCall] = async_mock_service(hass, "test", "notify")
    await hass.config.async_update(latitude=52.37, longitude=4.90, time_zone="Europe/Amsterdam")
    freezer.move_to("2026-06-21 08:00:00+00:00")
    hass.states.async_set("sensor.energy_today", "31.4", {"unit_of_measurement": "kWh"})
    hass.states.async_set("sensor.pr", "82", {"unit_of_measurement": "%"})
    hass.states.async_set("sensor.savings", "7.10", {"unit_of_measurement": "EUR"})
    await use(
        hass,
        "daily_report",
        {
            "energy_today": "sensor.energy_today",
            "performance_ratio": "sensor.pr",
            "savings": "sensor.savings",
            "offset": {"minutes": -10},
            "notify_actions": NOTIFY,
        },
    )
    sunset = get_astral_event_next(hass, "sunset", dt_util.utcnow())
    freezer.move_to(sunset - timedelta(minutes=10, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert calls == []
    freezer.move_to(sunset - timedelta(minutes=9, seconds=59))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(calls) == 1
    assert calls[0].data["title"] == "Solar report 2026-06-21"
    assert calls[0].data["message"] == (
        "Energy today: 31.4 kWh; performance ratio: 82 %; savings: 7.10 EUR."
    )


@pytest.mark.parametrize(
    "name",
    [
        "ev_solar_surplus",
        "production_threshold",
        "anomaly_notify",
        "offline_daylight",
        "daily_report",
        "cap_export_low_price",
    ],
)
def test_every_input_and_section_described(name: str) -> None:
    """Every section and every input has a description; sections of tuning are collapsed."""
    raw = yaml_util.load_yaml(BLUEPRINTS / f"{name}.yaml")
    assert isinstance(raw, dict)
    collapsed = 0
    for section_id, section in raw["blueprint"]["input"].items():
        assert section.get("description"), section_id
        collapsed += bool(section.get("collapsed"))
        for input_id, spec in section["input"].items():
            assert spec.get("description"), f"{section_id}.{input_id}"
    assert collapsed >= 1, "the advanced settings are collapsed"


async def test_ev_solar_surplus_kw_sensor(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A kW grid sensor is read in kW: 1.5 kW export exceeds the 1400 W start threshold."""
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"wallbox": {"initial": False}}}
    )
    hass.states.async_set("sensor.grid", "0.2", {"unit_of_measurement": "kW"})
    await use(
        hass,
        "ev_solar_surplus",
        {
            "charger": "input_boolean.wallbox",
            "grid_power": "sensor.grid",
            "start_export": 1400,
            "stop_import": 100,
        },
    )
    hass.states.async_set("sensor.grid", "-1.2", {"unit_of_measurement": "kW"})
    await hass.async_block_till_done()
    await later(hass, freezer, 61)
    assert hass.states.get("input_boolean.wallbox").state == STATE_OFF  # 1200 W < 1400 W
    hass.states.async_set("sensor.grid", "-1.5", {"unit_of_measurement": "kW"})
    await hass.async_block_till_done()
    await later(hass, freezer, 61)
    assert hass.states.get("input_boolean.wallbox").state == STATE_ON
    # 0.05 kW import (50 W) is under the 100 W stop threshold; 0.3 kW is over it.
    hass.states.async_set("sensor.grid", "0.05", {"unit_of_measurement": "kW"})
    await hass.async_block_till_done()
    await later(hass, freezer, 181)
    assert hass.states.get("input_boolean.wallbox").state == STATE_ON
    hass.states.async_set("sensor.grid", "0.3", {"unit_of_measurement": "kW"})
    await hass.async_block_till_done()
    await later(hass, freezer, 181)
    assert hass.states.get("input_boolean.wallbox").state == STATE_OFF


async def test_production_threshold_kw_sensor(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """2.5 kW is above a 2000 W threshold; 1.6 kW below it minus the 300 W hysteresis."""
    calls: list[ServiceCall] = async_mock_service(hass, "test", "notify")
    hass.states.async_set("sensor.pv_power", "0.1", {"unit_of_measurement": "kW"})
    await use(
        hass,
        "production_threshold",
        {
            "power_sensor": "sensor.pv_power",
            "threshold": 2000,
            "hysteresis": 300,
            "duration": {"minutes": 5},
            "above_actions": [{"action": "test.notify", "data": {"message": "above"}}],
            "below_actions": [{"action": "test.notify", "data": {"message": "below"}}],
        },
    )
    hass.states.async_set("sensor.pv_power", "2.5", {"unit_of_measurement": "kW"})
    await hass.async_block_till_done()
    await later(hass, freezer, 301)
    assert [call.data["message"] for call in calls] == ["above"]
    hass.states.async_set("sensor.pv_power", "1.8", {"unit_of_measurement": "kW"})
    await hass.async_block_till_done()
    await later(hass, freezer, 301)
    assert len(calls) == 1
    hass.states.async_set("sensor.pv_power", "1.6", {"unit_of_measurement": "kW"})
    await hass.async_block_till_done()
    await later(hass, freezer, 301)
    assert [call.data["message"] for call in calls] == ["above", "below"]


async def test_anomaly_notify_one_pv_system(hass: HomeAssistant) -> None:
    """With a PV system chosen, anomalies of other entries are not reported."""
    calls: list[ServiceCall] = async_mock_service(hass, "test", "notify")
    await use(hass, "anomaly_notify", {"pv_system": "roof_entry", "notify_actions": NOTIFY})
    event = {"name": "Garage", "type": "no_production", "severity": "error", "active": True}
    hass.bus.async_fire("pv_monitor_anomaly", {**event, "entry_id": "garage_entry"})
    await hass.async_block_till_done()
    assert calls == []
    hass.bus.async_fire("pv_monitor_anomaly", {**event, "name": "Roof", "entry_id": "roof_entry"})
    await hass.async_block_till_done()
    assert [call.data["title"] for call in calls] == ["Roof: anomaly"]


async def test_offline_daylight_already_offline_at_sunrise(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Offline since the night: told once the sun has been up for "offline for"; a sensor
    that went offline only just before is left to its own notification."""
    calls: list[ServiceCall] = async_mock_service(hass, "test", "notify")
    hass.states.async_set("sun.sun", "below_horizon")
    attrs = {"device_class": "connectivity"}
    hass.states.async_set("binary_sensor.logger", STATE_OFF, attrs | {"friendly_name": "Logger"})
    hass.states.async_set("binary_sensor.lan", "unavailable", attrs | {"friendly_name": "LAN"})
    hass.states.async_set("binary_sensor.other", STATE_ON, attrs | {"friendly_name": "Other"})
    await use(
        hass,
        "offline_daylight",
        {
            "connectivity": ["binary_sensor.logger", "binary_sensor.lan", "binary_sensor.other"],
            "notify_actions": NOTIFY,
        },
    )
    await later(hass, freezer, 3 * 3600)  # the night: nothing
    assert calls == []
    hass.states.async_set("sun.sun", "above_horizon")
    await hass.async_block_till_done()
    await later(hass, freezer, 10 * 60)
    hass.states.async_set("binary_sensor.other", STATE_OFF, attrs | {"friendly_name": "Other"})
    await hass.async_block_till_done()
    await later(hass, freezer, 5 * 60 + 1)
    assert len(calls) == 1
    assert calls[0].data["title"] == "LAN, Logger are offline"  # expand() sorts by id
    assert calls[0].data["message"].startswith("LAN, Logger have been offline since")
    await later(hass, freezer, 10 * 60)
    assert [call.data["title"] for call in calls][1:] == ["Other is offline"]
