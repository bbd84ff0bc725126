"""PV system entries in Home Assistant: forecast sensors, weather, anomalies, diagnostics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import (
    CoreState,
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

# The model imports these lazily in the executor; importing pandas while freezegun has
# frozen time hangs, so they are imported here, before any test freezes the clock.
import pandas  # noqa: F401
import pvlib  # noqa: F401
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.diagnostics import async_get_config_entry_diagnostics
from custom_components.pv_monitor.energy import async_get_solar_forecast
from custom_components.pv_monitor.pv_system.coordinator import (
    PvSystemCoordinator,
    _compute_forecast,
    _number,
)

from .fixtures import ARRAYS, setup_roof

NOON = "2024-06-21 10:00:00+00:00"  # 12:00 in Amsterdam, midsummer


def _value(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


@pytest.mark.freeze_time(NOON)
async def test_forecast_sensors_and_energy(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    today = _value(hass, "sensor.roof_forecast_energy_today")
    assert 25 < today < 45  # 6 kWp, clear sky at midsummer
    remaining = _value(hass, "sensor.roof_forecast_energy_today_remaining")
    assert 0.3 * today < remaining < 0.8 * today
    assert _value(hass, "sensor.roof_forecast_energy_tomorrow") == pytest.approx(today, rel=0.02)
    assert 3000 < _value(hass, "sensor.roof_forecast_power_now") <= 5000
    assert _value(hass, "sensor.roof_forecast_power_next_hour") > 2000
    assert _value(hass, "sensor.roof_expected_power") == _value(
        hass, "sensor.roof_forecast_power_now"
    )
    peak = dt_util.parse_datetime(hass.states.get("sensor.roof_peak_power_time_today").state)
    assert peak is not None
    assert 11 <= dt_util.as_local(peak).hour <= 15
    assert hass.states.get("sensor.roof_peak_power_time_tomorrow").state != "unknown"
    # No recorder: the indicators are unknown.
    assert hass.states.get("sensor.roof_performance_ratio_today").state == "unknown"
    assert hass.states.get("binary_sensor.roof_underperformance").state == "off"
    assert hass.states.get("binary_sensor.roof_no_production").attributes["duration_minutes"] == 0

    result = await async_get_solar_forecast(hass, entry.entry_id)
    assert result is not None
    hours = result["wh_hours"]
    assert len(hours) == 72
    assert sum(hours.values()) / 1000 == pytest.approx(3 * today, rel=0.05)
    assert await async_get_solar_forecast(hass, "missing") is None

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    runtime = diagnostics["runtime"]
    assert runtime["site"]["latitude"] == "**REDACTED**"  # the exact site is private
    assert runtime["site"]["arrays"][0]["kwp"] == 4.0
    assert len(runtime["forecast"]["hourly_wh"]) == 72
    assert runtime["correction"] is None

    # The 30-minute refresh recomputes nothing new within the same day and weather.
    freezer.tick(timedelta(minutes=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await async_get_solar_forecast(hass, entry.entry_id) is None


def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> Any:
    freezer.tick(timedelta(minutes=5))
    async_fire_time_changed(hass)
    return hass.async_block_till_done()


async def test_anomaly_event_and_repair(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """With a POA sensor the model is judged; the repair issue waits for 5 % of daylight."""
    freezer.move_to(NOON)
    hass.states.async_set("sensor.pv_power", "0.0", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.poa", "800", {"unit_of_measurement": "W/m²"})
    events = async_capture_events(hass, "pv_monitor_anomaly")
    entry = await setup_roof(hass, {"poa_irradiance": "sensor.poa", "repair_share": 0.05})
    issue_id = f"pv_system_anomaly_no_production_{entry.entry_id}"
    for _ in range(10):  # 45 minutes
        await _tick(hass, freezer)
    assert hass.states.get("binary_sensor.roof_no_production").state == "on"
    # Nothing at all is also far below the measured irradiance: both at once.
    assert sorted(e.data["type"] for e in events) == ["no_production", "underperformance"]
    trip = next(e.data for e in events if e.data["type"] == "no_production")
    assert trip["severity"] == "error"
    assert trip["entry_id"] == entry.entry_id
    assert trip["basis"] == "model"
    # The alarm is immediate; the repair issue only after 5 % of the day's daylight.
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    for _ in range(12):
        await _tick(hass, freezer)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders["name"] == "Roof"
    attributes = hass.states.get("binary_sensor.roof_no_production").attributes
    assert attributes["share_of_daylight"] >= 0.05

    # Production comes back (in kW): after 15 minutes the anomaly clears, the issue goes.
    expected_kw = _value(hass, "sensor.roof_expected_power") / 1000
    hass.states.async_set("sensor.pv_power", str(expected_kw), {"unit_of_measurement": "kW"})
    for _ in range(3):
        await _tick(hass, freezer)
    assert hass.states.get("binary_sensor.roof_no_production").state == "off"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    ended = [(e.data["type"], e.data["reason"]) for e in events if not e.data["active"]]
    assert sorted(ended) == [("no_production", "recovered"), ("underperformance", "recovered")]

    # Halved production against the measured irradiance for 20 minutes: underperformance.
    for _ in range(8):
        expected_w = entry.runtime_data.expected_power(dt_util.utcnow())
        hass.states.async_set(
            "sensor.pv_power", str(expected_w * 0.5), {"unit_of_measurement": "W"}
        )
        await _tick(hass, freezer)
    assert hass.states.get("binary_sensor.roof_underperformance").state == "on"
    assert events[-1].data["basis"] == "measured_irradiance"
    diagnostics = (await async_get_config_entry_diagnostics(hass, entry))["runtime"]
    assert diagnostics["anomalies"]["underperformance"]["active"] is True
    assert diagnostics["last_events"][-1]["type"] == "underperformance"
    for _ in range(12):
        await _tick(hass, freezer)
    underperformance = f"pv_system_anomaly_underperformance_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, underperformance)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    await hass.config_entries.async_remove(entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, underperformance) is None


async def test_string_comparison_without_weather(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Two strings of the same orientation, one at half: found within an hour, no weather."""
    freezer.move_to(NOON)
    strings = [
        {**ARRAYS[0], "name": "PV1", "kwp": 3.0, "power_sensor": "sensor.pv1"},
        {**ARRAYS[0], "name": "PV2", "kwp": 3.0, "power_sensor": "sensor.pv2"},
    ]
    hass.states.async_set("sensor.pv1", "2.0", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.pv2", "1000", {"unit_of_measurement": "W"})
    hass.states.async_set("sensor.pv_power", "3000", {"unit_of_measurement": "W"})
    events = async_capture_events(hass, "pv_monitor_anomaly")
    entry = await setup_roof(hass, arrays=strings)
    for _ in range(12):
        await _tick(hass, freezer)
    state = hass.states.get("binary_sensor.roof_string_underperformance")
    assert state.state == "on"
    assert state.attributes["string"] == "PV2"
    assert state.attributes["basis"] == "peers"
    assert [(e.data["type"], e.data["string"]) for e in events] == [
        ("string_underperformance", "PV2")
    ]
    issue_id = f"pv_system_anomaly_string_underperformance_{entry.entry_id}_pv2"
    for _ in range(20):
        await _tick(hass, freezer)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["string"] == "PV2"
    # At sunset the alarm ends (a new day judges afresh); the repair issue stays.
    freezer.move_to("2024-06-21 20:30:00+00:00")
    await _tick(hass, freezer)
    assert hass.states.get("binary_sensor.roof_string_underperformance").state == "off"
    assert events[-1].data["reason"] == "sunset"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    # A restart at night keeps the repair issue (the store remembers it) ...
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await _tick(hass, freezer)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    # ... until a morning of equal strings shows the string keeps up again.
    freezer.move_to("2024-06-22 08:00:00+00:00")
    hass.states.async_set("sensor.pv2", "2000", {"unit_of_measurement": "W"})
    for _ in range(5):
        await _tick(hass, freezer)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get("binary_sensor.roof_string_underperformance").state == "off"


async def test_house_load_and_plausible_kpis(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """House load = PV power + net grid power, live; rounded states."""
    freezer.move_to(NOON)
    hass.states.async_set("sensor.pv_power", "2.5", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.grid", "-1234.567", {"unit_of_measurement": "W"})
    await setup_roof(hass, {"grid_power": "sensor.grid"})
    assert hass.states.get("sensor.roof_house_load_power").state == "1265"
    hass.states.async_set("sensor.grid", "0.5", {"unit_of_measurement": "kW"})
    await hass.async_block_till_done()
    assert hass.states.get("sensor.roof_house_load_power").state == "3000"
    hass.states.async_set("sensor.grid", "-3000", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()  # -500 W: readings of different moments
    assert hass.states.get("sensor.roof_house_load_power").state == "unknown"
    hass.states.async_set("sensor.grid", "unavailable")
    await hass.async_block_till_done()
    assert hass.states.get("sensor.roof_house_load_power").state == "unknown"
    power = hass.states.get("sensor.roof_forecast_power_now").state
    assert "." not in power  # whole watts, not 1300.98267968509
    assert hass.states.get("sensor.roof_specific_yield_today").attributes["state_class"] == (
        "measurement"
    )


async def test_poa_sensor_rescales_expected_power(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOON)
    hass.states.async_set("sensor.poa", "400", {"unit_of_measurement": "W/m²"})
    entry = await setup_roof(hass, {"poa_irradiance": "sensor.poa"})
    coordinator: PvSystemCoordinator = entry.runtime_data
    now = dt_util.utcnow()
    modelled = coordinator.data.forecast.power_at(now)
    assert modelled is not None
    expected = coordinator.expected_power(now)
    assert expected is not None
    assert expected < modelled  # 400 W/m2 measured against a clear-sky model near 900
    assert coordinator.expected_power(now + timedelta(days=5)) is None


def _weather_service(hass: HomeAssistant, cloud: list[float]) -> None:
    async def handler(call: ServiceCall) -> ServiceResponse:
        start = dt_util.start_of_local_day()
        return {
            "weather.home": {
                "forecast": [
                    {
                        "datetime": (start + timedelta(hours=h)).isoformat(),
                        "cloud_coverage": cloud[0],
                        "temperature": 68.0,
                        "wind_speed": 10.0,
                    }
                    for h in range(48)
                ]
                + [{"datetime": "not a time"}]
            }
        }

    hass.services.async_register(
        "weather", "get_forecasts", handler, supports_response=SupportsResponse.ONLY
    )


async def test_weather_forecast_drives_the_forecast(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOON)
    cloud = [100.0]
    _weather_service(hass, cloud)
    hass.states.async_set(
        "weather.home", "cloudy", {"temperature_unit": "°F", "wind_speed_unit": "km/h"}
    )
    entry = await setup_roof(hass, {"weather": "weather.home"})
    overcast = _value(hass, "sensor.roof_forecast_energy_today")
    assert overcast < 20
    diagnostics = (await async_get_config_entry_diagnostics(hass, entry))["runtime"]
    assert diagnostics["weather_points"] == 48
    assert diagnostics["forecast"]["weather_steps"] > 0

    cloud[0] = 0.0
    hass.states.async_set("weather.home", "sunny", {"temperature_unit": "°F"})
    await hass.async_block_till_done()
    assert _value(hass, "sensor.roof_forecast_energy_today") > 1.5 * overcast


async def test_weather_failure_falls_back(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    freezer.move_to(NOON)
    await setup_roof(hass, {"weather": "weather.missing"})
    assert "No hourly forecast from weather.missing" in caplog.text
    assert _value(hass, "sensor.roof_forecast_energy_today") > 25


async def test_no_arrays(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to(NOON)
    await setup_roof(hass, arrays=[])
    assert _value(hass, "sensor.roof_forecast_energy_today") == 0.0
    assert hass.states.get("sensor.roof_peak_power_time_today").state == "unknown"


def test_number() -> None:
    assert _number("1.5") == 1.5
    assert _number("unavailable") is None
    assert _number(None) is None
    assert _number("nan") is None


async def test_unchanged_weather_reuses_forecast(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    freezer.move_to(NOON)
    _weather_service(hass, [50.0])
    hass.states.async_set("weather.home", "cloudy")
    hass.states.async_set("sensor.pv_power", "unavailable")
    entry = await setup_roof(hass, {"weather": "weather.home"})
    coordinator: PvSystemCoordinator = entry.runtime_data
    first = coordinator.data.forecast
    hass.states.async_set("weather.home", "rainy")
    await hass.async_block_till_done()
    assert coordinator.data.forecast is first
    # The weather entity disappears: clear sky x climatology, logged once.
    hass.services.async_remove("weather", "get_forecasts")
    for _ in range(2):
        freezer.tick(timedelta(minutes=31))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert caplog.text.count("No hourly forecast from weather.home") == 1
    assert coordinator.data.forecast is not first
    assert not any(coordinator.data.forecast.weather)


async def test_old_hour_forecasts_are_dropped(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    freezer.move_to(NOON)
    hass_storage["pv_monitor.pv_system.old01"] = {
        "version": 1,
        "key": "pv_monitor.pv_system.old01",
        "data": {"days": {}, "hours": {"2024-06-01T10:00:00+00:00": 5.0}},
    }
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id="old01",
        title="Roof",
        data={
            "kind": "pv_system",
            "name": "Roof",
            "latitude": 52.1,
            "longitude": 5.2,
            "elevation": 10.0,
            "ac_limit_kw": 5.0,
        },
        options={},
        subentries_data=[
            ConfigSubentryData(data=ARRAYS[0], subentry_type="array", title="South", unique_id=None)
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    hours = entry.runtime_data._stored["hours"]
    assert "2024-06-01T10:00:00+00:00" not in hours
    assert "2024-06-21T10:00:00+00:00" in hours
    assert "2024-06-21T09:00:00+00:00" not in hours  # started before the entry existed


async def test_model_failure_leaves_sensors_unknown(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Set-up never waits for the model: a failing first forecast leaves the entry loaded,
    the sensors unknown and a translated error in the log; the next refresh recovers."""
    freezer.move_to(NOON)
    with patch(
        "custom_components.pv_monitor.pv_system.coordinator._compute_forecast",
        side_effect=ValueError("bad input"),
    ):
        entry = await setup_roof(hass)
        # The coordinator's update failed: its entities say so (unavailable).
        assert hass.states.get("sensor.roof_forecast_energy_today").state == "unavailable"
        assert await async_get_solar_forecast(hass, entry.entry_id) is None
        diagnostics = await async_get_config_entry_diagnostics(hass, entry)
        assert diagnostics["runtime"]["forecast"] is None
    assert "PV forecast model failed: bad input" in caplog.text
    assert not entry.runtime_data.last_update_success
    freezer.tick(timedelta(minutes=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _value(hass, "sensor.roof_forecast_energy_today") > 20


async def test_first_forecast_waits_for_home_assistant_start(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """During start-up the entities appear at once and the forecast follows the start."""
    freezer.move_to(NOON)
    hass.set_state(CoreState.starting)
    with patch(
        "custom_components.pv_monitor.pv_system.coordinator._compute_forecast",
        wraps=_compute_forecast,
    ) as compute:
        await setup_roof(hass)
        assert hass.states.get("sensor.roof_forecast_energy_today").state == "unknown"
        assert compute.call_count == 0
        hass.set_state(CoreState.running)
        hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert compute.call_count == 1
    assert _value(hass, "sensor.roof_forecast_energy_today") > 20


async def _produce(hass: HomeAssistant, entry: MockConfigEntry, share: float) -> None:
    """Set the production sensor to ``share`` of the expected power now."""
    expected_w = entry.runtime_data.expected_power(dt_util.utcnow())
    hass.states.async_set("sensor.pv_power", str(expected_w * share), {"unit_of_measurement": "W"})
    await hass.async_block_till_done()


async def _until(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    share: float,
    on: bool,
) -> timedelta:
    """Produce ``share`` of expected every 5 minutes until underperformance is ``on``."""
    start = dt_util.utcnow()
    while (hass.states.get("binary_sensor.roof_underperformance").state == "on") != on:
        assert dt_util.utcnow() - start <= timedelta(hours=1)
        await _produce(hass, entry, share)
        await _tick(hass, freezer)
    return dt_util.utcnow() - start


async def test_half_the_array_lost_on_a_clear_day(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """No POA sensor: a clear forecast and a step in the smooth measured curve.

    The detector judges the smooth half hour after the step: 7 samples 5 minutes apart, the
    first 5 minutes after the loss began, so it is found 35 minutes after it began. A
    restart in the middle forgets the running condition (no step seen since): the loss is
    found again within the hour.
    """
    freezer.move_to("2024-06-21 08:00:00+00:00")  # 10:00 in Amsterdam
    _weather_service(hass, [0.0])
    hass.states.async_set("weather.home", "sunny", {"temperature_unit": "°F"})
    hass.states.async_set("sensor.pv_power", "0", {"unit_of_measurement": "W"})
    events = async_capture_events(hass, "pv_monitor_anomaly")
    entry = await setup_roof(hass, {"weather": "weather.home"})
    for _ in range(12):  # an hour as expected: nothing
        await _produce(hass, entry, 0.97)
        await _tick(hass, freezer)
    assert events == []
    assert await _until(hass, freezer, entry, 0.5, on=True) == timedelta(minutes=35)
    started = events[-1].data
    assert (started["type"], started["basis"], started["active"]) == (
        "underperformance",
        "clear_sky",
        True,
    )
    assert started["ratio"] == pytest.approx(0.5, abs=0.02)
    for _ in range(24):  # held for two more hours of the fault
        await _produce(hass, entry, 0.5)
        await _tick(hass, freezer)
    assert hass.states.get("binary_sensor.roof_underperformance").state == "on"

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    entry = hass.config_entries.async_get_entry(entry.entry_id)
    # No step since the restart: the smooth half hour and MODEL_DURATION more.
    assert await _until(hass, freezer, entry, 0.5, on=True) == timedelta(minutes=50)
    # The array comes back: once the smooth window is above the threshold, 15 minutes more.
    assert await _until(hass, freezer, entry, 0.97, on=False) == timedelta(minutes=45)
    assert events[-1].data["reason"] == "recovered"
