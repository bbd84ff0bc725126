"""PV system with the recorder: history fit, indicators, accuracy, Energy dashboard forecast."""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

# Imported before any test freezes the clock (importing pandas under freezegun hangs).
import pandas  # noqa: F401
import pvlib  # noqa: F401
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.diagnostics import async_get_config_entry_diagnostics
from custom_components.pv_monitor.pv_system.solar.forecast import PvArray, PvSite, clear_sky_hourly

from .fixtures import ROOF_DATA

NOON = "2024-06-21 10:00:00+00:00"  # 12:00 in Amsterdam
ENTRY_ID = "pvsystem01"
ARRAY = {
    "name": "South",
    "tilt": 35.0,
    "azimuth": 180.0,
    "kwp": 4.0,
    "gamma_pdc": -0.37,
    "losses": 14.0,
}
SITE = PvSite(52.1, 5.2, 10.0, (PvArray("South", 35, 180, 4.0),), 5.0)


def _import(
    hass: HomeAssistant,
    statistic_id: str,
    rows: list[dict[str, Any]],
    unit: str,
    unit_class: str | None,
    *,
    has_sum: bool,
) -> None:
    async_import_statistics(
        hass,
        {
            "mean_type": StatisticMeanType.NONE if has_sum else StatisticMeanType.ARITHMETIC,
            "has_sum": has_sum,
            "name": None,
            "source": "recorder",
            "statistic_id": statistic_id,
            "unit_class": unit_class,
            "unit_of_measurement": unit,
        },
        rows,
    )


def _energy_rows(start: datetime, hourly_kwh: list[float]) -> list[dict[str, Any]]:
    total = 0.0
    rows = []
    for hour, kwh in enumerate(hourly_kwh):
        total += kwh
        rows.append({"start": start + timedelta(hours=hour), "state": total, "sum": total})
    return rows


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> Generator[None]:
    """The recorder first (before ``hass``), then the custom integrations."""
    yield  # noqa: PT022


@pytest.fixture
async def loaded(
    hass: HomeAssistant, hass_storage: dict[str, Any], freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    freezer.move_to(NOON)
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    today = dt_util.start_of_local_day()
    start = today - timedelta(days=30)
    hours = [
        start + timedelta(hours=h)
        for h in range(int((dt_util.utcnow() - start) / timedelta(hours=1)))
    ]
    model = clear_sky_hourly(SITE, hours)["ac"]
    production = [0.9 * wh / 1000 for wh in model]  # a clean, slightly weaker system
    _import(
        hass,
        "sensor.pv_energy",
        _energy_rows(start - timedelta(hours=1), [0.0, *production]),
        "kWh",
        "energy",
        has_sum=True,
    )
    day_hours = int((dt_util.utcnow() - today) / timedelta(hours=1))
    _import(
        hass,
        "sensor.grid_import",
        _energy_rows(today - timedelta(hours=1), [0.0] + [0.25] * day_hours),
        "kWh",
        "energy",
        has_sum=True,
    )
    _import(
        hass,
        "sensor.grid_export",
        _energy_rows(today - timedelta(hours=1), [0.0] + [0.5] * day_hours),
        "kWh",
        "energy",
        has_sum=True,
    )
    for statistic_id, unit, unit_class, value in (
        ("sensor.module_temp", "°C", "temperature", 45.0),
        ("sensor.poa", "W/m²", None, 500.0),
    ):
        _import(
            hass,
            statistic_id,
            [
                {"start": today + timedelta(hours=h), "mean": value, "min": value, "max": value}
                for h in range(day_hours)
            ],
            unit,
            unit_class,
            has_sum=False,
        )
    await async_wait_recording_done(hass)

    # Stored forecasts of the last days: 10 % above what was measured.
    stored_hours = {
        hour.isoformat(): 1.1 * 1000 * kwh
        for hour, kwh in zip(hours, production, strict=True)
        if hour < today and hour >= today - timedelta(days=7)
    }
    stored_hours["not a time"] = 1.0
    stored_hours[(today - timedelta(hours=2, minutes=30)).isoformat()] = 1.0  # not measured
    hass_storage[f"pv_monitor.pv_system.{ENTRY_ID}"] = {
        "version": 1,
        "key": f"pv_monitor.pv_system.{ENTRY_ID}",
        "data": {
            "days": {
                # Older than a week: ignored, and the oldest are dropped from the store.
                **{
                    (today - timedelta(days=d)).date().isoformat(): {
                        "energy_kwh": 100.0,
                        "insolation_kwh_m2": 1.0,
                    }
                    for d in range(10, 16)
                },
                (today - timedelta(days=1)).date().isoformat(): {
                    "energy_kwh": 20.0,
                    "insolation_kwh_m2": 6.0,
                },
            },
            "hours": stored_hours,
        },
    }
    hass.states.async_set("sensor.poa", "500", {"unit_of_measurement": "W/m²"})
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        title="Roof",
        unique_id="pv_system_roof",
        data=ROOF_DATA,
        options={
            "production_power": "sensor.pv_power",
            "production_energy": "sensor.pv_energy",
            "grid_import": "sensor.grid_import",
            "grid_export": "sensor.grid_export",
            "module_temperature": "sensor.module_temp",
            "poa_irradiance": "sensor.poa",
            "import_price": 0.30,
            "export_price_entity": "sensor.export_price",
            "underperformance_threshold": 0.8,
        },
        subentries_data=[
            ConfigSubentryData(data=ARRAY, subentry_type="array", title="South", unique_id=None)
        ],
    )
    hass.states.async_set("sensor.export_price", "0.08")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


def _value(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


async def test_history_fit_and_indicators(loaded: MockConfigEntry, hass: HomeAssistant) -> None:
    coordinator = loaded.runtime_data
    correction = coordinator.correction
    assert correction is not None
    assert correction.clean_days >= 20
    assert correction.scales[0] == pytest.approx(0.9, abs=0.03)
    assert correction.clear_sky_index[6] == pytest.approx(1.0, abs=0.05)
    assert coordinator.forecast_accuracy == pytest.approx(10.0, abs=0.5)
    assert _value(hass, "sensor.roof_forecast_error_nmae_7_days") == pytest.approx(10.0, abs=0.5)

    pv = coordinator.data.kpis["production_today"]
    assert pv is not None
    assert pv > 5
    # Indicators by their definitions (kpi module) on the recorder's figures.
    imported, exported = 3.0, 6.0  # 12 hours of 0.25 and 0.5 kWh
    assert _value(hass, "sensor.roof_direct_consumption_today") == pytest.approx(
        pv - exported, abs=0.01
    )
    assert _value(hass, "sensor.roof_self_consumption_today") == pytest.approx(
        100 * (pv - exported) / pv, abs=0.1
    )
    assert _value(hass, "sensor.roof_self_sufficiency_today") == pytest.approx(
        100 * (pv - exported) / (pv - exported + imported), abs=0.1
    )
    assert _value(hass, "sensor.roof_grid_cost_today") == pytest.approx(
        3 * 0.30 - 6 * 0.08, abs=0.01
    )
    assert _value(hass, "sensor.roof_savings_today") == pytest.approx(
        (pv - 6) * 0.30 + 6 * 0.08, abs=0.01
    )
    assert _value(hass, "sensor.roof_specific_yield_today") == pytest.approx(pv / 4.0, abs=0.01)
    assert _value(hass, "sensor.roof_capacity_factor_today") == pytest.approx(
        100 * pv / (4.0 * 12), abs=0.1
    )
    # Measured irradiance 500 W/m2 for 12 h: H = 6 kWh/m2.
    assert _value(hass, "sensor.roof_performance_ratio_today") == pytest.approx(
        100 * pv / 4.0 / 6.0, abs=0.1
    )
    assert _value(hass, "sensor.roof_performance_ratio_7_days") == pytest.approx(
        100 * (pv + 20) / 4.0 / 12.0, abs=0.1
    )
    gamma = -0.0037
    assert _value(
        hass, "sensor.roof_temperature_corrected_performance_ratio_today"
    ) == pytest.approx(100 * pv / ((1 + gamma * 20) * 4.0 * 6.0), abs=0.1)
    assert hass.states.get("sensor.roof_grid_cost_today").attributes["unit_of_measurement"] == "EUR"
    diagnostics = (await async_get_config_entry_diagnostics(hass, loaded))["runtime"]
    assert diagnostics["correction"]["applied"] is True
    assert len(coordinator._stored["days"]) == 7


async def test_energy_dashboard_forecast(
    loaded: MockConfigEntry, hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    assert await async_setup_component(hass, "energy", {})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "energy/save_prefs",
            "energy_sources": [
                {
                    "type": "solar",
                    "stat_energy_from": "sensor.pv_energy",
                    "config_entry_solar_forecast": [loaded.entry_id],
                }
            ],
        }
    )
    assert (await client.receive_json())["success"]
    await client.send_json_auto_id({"type": "energy/solar_forecast"})
    response = await client.receive_json()
    assert response["success"]
    wh_hours = response["result"][loaded.entry_id]["wh_hours"]
    assert len(wh_hours) == 72
    noon = dt_util.parse_datetime(NOON)
    assert noon is not None
    assert wh_hours[noon.isoformat()] > 2000
    assert all(value >= 0 for value in wh_hours.values())
    assert await hass.config_entries.async_unload(loaded.entry_id)


@pytest.mark.parametrize("options", [{"production_energy": "sensor.pv_energy"}, {}])
async def test_without_history(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, options: dict[str, str]
) -> None:
    """A recorder without statistics (or no energy sensor): no correction, no indicators."""
    freezer.move_to(NOON)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Roof",
        data=ROOF_DATA,
        options=options,
        subentries_data=[
            ConfigSubentryData(data=ARRAY, subentry_type="array", title="South", unique_id=None)
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.runtime_data.correction is None
    assert entry.runtime_data.data.kpis["production_today"] is None
    assert hass.states.get("sensor.roof_performance_ratio_today").state == "unknown"


async def test_temperature_corrected_pr_from_5_minute_statistics(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The recorder's own 5-minute statistics of real sensor states feed PR' per interval."""
    freezer.move_to("2024-06-21 08:00:00+00:00")
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Roof",
        data=ROOF_DATA,
        options={
            "production_power": "sensor.pv_power",
            "production_energy": "sensor.pv_energy",
            "module_temperature": "sensor.module_temp",
            "poa_irradiance": "sensor.poa",
        },
        subentries_data=[
            ConfigSubentryData(data=ARRAY, subentry_type="array", title="South", unique_id=None)
        ],
    )
    entry.add_to_hass(hass)
    energy = {
        "state_class": "total_increasing",
        "unit_of_measurement": "kWh",
        "device_class": "energy",
    }
    temp = {
        "state_class": "measurement",
        "unit_of_measurement": "°C",
        "device_class": "temperature",
    }
    poa = {
        "state_class": "measurement",
        "unit_of_measurement": "W/m²",
        "device_class": "irradiance",
    }
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    # 4 kWp, 3.0 kW at 750 W/m2 and 40 degC for 40 minutes, one reading a minute.
    total = 100.0
    start = dt_util.utcnow()
    for minute in range(40):
        total += 3.0 / 60
        hass.states.async_set("sensor.pv_energy", f"{total:.4f}", energy)
        hass.states.async_set("sensor.module_temp", "40.0", temp)
        hass.states.async_set("sensor.poa", "750", poa)
        hass.states.async_set("sensor.pv_power", "3000", {"unit_of_measurement": "W"})
        freezer.tick(timedelta(minutes=1))
        await hass.async_block_till_done()
        if minute % 5 == 4:
            await async_wait_recording_done(hass)
            do_adhoc_statistics(hass, start=start + timedelta(minutes=minute - 4))
            await async_wait_recording_done(hass)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    coordinator = entry.runtime_data
    await coordinator._async_sample()
    # IEC 61724-1 per interval: the recorder saw 39 of the 40 increments (the first reading
    # is its baseline) over eight 5-minute intervals at C = 1 - 0.0037 * (40 - 25).
    reference = 8 * (1 - 0.0037 * 15) * 4.0 * 0.75 * 5 / 60
    expected = 39 * 3.0 / 60 / reference
    value = coordinator.data.kpis["temperature_corrected_pr_today"]
    assert value is not None
    assert value == pytest.approx(100 * expected, rel=0.01)
