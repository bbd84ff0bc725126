"""The "Set up the Energy dashboard" repair: real entries in, Energy preferences out.

The entries are fed real data: the GrowattMonitor protocol-5 session (a TL inverter, see
``tests/fixtures/growatt``) and the Fluvius DSMR 5B telegram of dsmr-parser's own test data
(import/export per tariff, gas and water on the M-Bus; see ``tests/fixtures/dsmr``). The
result is checked against Home Assistant's own Energy schema and validation.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.components.energy.data import ENERGY_SOURCE_SCHEMA, async_get_manager
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.common import energy_setup
from custom_components.pv_monitor.common.energy_setup import ISSUE_ID, plan_additions
from custom_components.pv_monitor.const import DOMAIN
from tests.dsmr.fixtures import P1Server, make_entry as make_meter_entry, telegram
from tests.growatt_local.test_local import (
    make_entry as make_logger_entry,
    play_growattmonitor,
    setup_entry as setup_logger_entry,
)
from tests.helpers import only_platforms


def pv_system() -> MockConfigEntry:
    """A PV system entry (added, not set up: only its id matters for the forecast)."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id="pvsystem01",
        title="Roof",
        unique_id="pv_system_roof",
        data={"kind": "pv_system", "name": "Roof", "latitude": 52.1, "longitude": 5.2},
    )


@pytest.fixture
async def meter(socket_enabled: None) -> AsyncGenerator[P1Server]:
    p1 = P1Server(greeting=telegram("fluvius_v171"))
    await p1.start()
    yield p1
    await p1.stop()


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def _fix(hass: HomeAssistant) -> dict[str, Any]:
    """Open the fix flow of the issue; return its first result."""
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result: dict[str, Any] = await manager.async_init(DOMAIN, data={"issue_id": ISSUE_ID})
    return result


def _entity(registry: er.EntityRegistry, unique_id: str) -> str:
    entity_id = registry.async_get_entity_id("sensor", DOMAIN, unique_id)
    assert entity_id is not None, unique_id
    return entity_id


async def test_energy_setup_from_real_entries(
    hass: HomeAssistant, free_port: int, meter: P1Server, entity_registry: er.EntityRegistry
) -> None:
    """Offered after the first energy entry; the fix shows and writes solar, grid, gas, water."""
    issues = ir.async_get(hass)
    logger = make_logger_entry(free_port)
    with only_platforms("growatt_local", Platform.SENSOR), only_platforms("dsmr", Platform.SENSOR):
        await setup_logger_entry(hass, logger)
        dongle = await play_growattmonitor(hass, free_port)
        issue = issues.async_get_issue(DOMAIN, ISSUE_ID)
        assert issue is not None
        assert issue.is_fixable
        assert issue.is_persistent
        await _setup(hass, make_meter_entry(meter.port, "5B", unique_id="fluvius"))
        pv_system().add_to_hass(hass)
        await _check_fix(hass, entity_registry)
        await dongle.close()
        for entry in (logger, *hass.config_entries.async_entries(DOMAIN)[1:2]):
            await hass.config_entries.async_unload(entry.entry_id)


async def test_pv_system_alone_is_not_offered(hass: HomeAssistant) -> None:
    """A PV system entry only adds the forecast: no energy sensors, no offer."""
    entry = pv_system()
    await energy_setup.async_offer(hass, entry)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_ID) is None


async def _check_fix(hass: HomeAssistant, entity_registry: er.EntityRegistry) -> None:
    """Run the fix flow twice on the GrowattMonitor inverter and the Fluvius meter."""
    issues = ir.async_get(hass)

    result = await _fix(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    additions = result["description_placeholders"]["additions"]
    solar = _entity(entity_registry, "1VZG8211B7_energy_total")
    assert f"- solar: Inverter 1VZG8211B7 Lifetime energy (`{solar}`)" in additions
    assert additions.count("- grid import:") == 2
    assert additions.count("- grid export:") == 2

    manager = repairs_flow_manager(hass)
    assert manager is not None
    done = await manager.async_configure(result["flow_id"], {})
    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert issues.async_get_issue(DOMAIN, ISSUE_ID) is None

    prefs = (await async_get_manager(hass)).data
    assert prefs is not None
    sources = prefs["energy_sources"]
    assert ENERGY_SOURCE_SCHEMA(sources) == sources
    by_type = {s["type"]: s for s in sources}
    assert by_type["solar"]["stat_energy_from"] == solar
    assert by_type["solar"]["stat_rate"] == _entity(entity_registry, "1VZG8211B7_ac_power")
    assert by_type["solar"]["config_entry_solar_forecast"] == ["pvsystem01"]
    grid = by_type["grid"]
    assert [f["stat_energy_from"] for f in grid["flow_from"]] == [
        _entity(entity_registry, f"fluvius_energy_import_tariff_{n}") for n in (1, 2)
    ]
    assert [f["stat_energy_to"] for f in grid["flow_to"]] == [
        _entity(entity_registry, f"fluvius_energy_export_tariff_{n}") for n in (1, 2)
    ]
    assert grid["power"] == [{"stat_rate": _entity(entity_registry, "fluvius_net_power")}]
    assert {"gas", "water"} <= by_type.keys()

    # A second run finds nothing new and changes nothing.
    ir.async_create_issue(
        hass,
        DOMAIN,
        ISSUE_ID,
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_ID,
    )
    again = await _fix(hass)
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "nothing_to_add"
    assert (await async_get_manager(hass)).data == prefs


async def test_user_configuration_is_kept(
    hass: HomeAssistant, meter: P1Server, entity_registry: er.EntityRegistry
) -> None:
    """The user's grid source and a solar source on our statistic stay exactly as they were."""
    entry = make_meter_entry(meter.port, "5B", unique_id="fluvius")
    with only_platforms("dsmr", Platform.SENSOR):
        await _setup(hass, entry)
        await _check_kept(hass, entity_registry)
        await hass.config_entries.async_unload(entry.entry_id)


async def _check_kept(hass: HomeAssistant, entity_registry: er.EntityRegistry) -> None:
    user_grid = {
        "type": "grid",
        "flow_from": [
            {
                "stat_energy_from": "sensor.other_meter_import",
                "stat_cost": None,
                "entity_energy_price": None,
                "number_energy_price": 0.3,
            }
        ],
        "flow_to": [],
        "cost_adjustment_day": 1.5,
    }
    gas = _entity(entity_registry, "fluvius_mbus1_gas")
    user_gas = {
        "type": "gas",
        "stat_energy_from": gas,
        "stat_cost": None,
        "entity_energy_price": None,
        "number_energy_price": 1.2,
    }
    energy = await async_get_manager(hass)
    await energy.async_update({"energy_sources": [user_grid, user_gas]})

    added = await energy_setup.async_apply(hass)

    assert [s["type"] for s in added] == ["water"]
    assert energy.data is not None
    assert energy.data["energy_sources"][:2] == [user_grid, user_gas]
    assert [s["type"] for s in energy.data["energy_sources"]] == ["grid", "gas", "water"]


async def test_offered_once_per_kind(hass: HomeAssistant, meter: P1Server) -> None:
    """Reloading the entry after the issue was fixed or ignored does not offer it again."""
    entry = make_meter_entry(meter.port, "5B", unique_id="fluvius")
    with only_platforms("dsmr", Platform.SENSOR):
        await _setup(hass, entry)
        assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_ID) is not None
        ir.async_delete_issue(hass, DOMAIN, ISSUE_ID)
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_ID) is None
        await hass.config_entries.async_unload(entry.entry_id)


def test_plan_hybrid_battery_and_forecast_once() -> None:
    """Battery of a hybrid; the forecast on the first new solar source only; no duplicates."""
    found = energy_setup._Found(
        solar=[("sensor.a_energy", "sensor.a_power"), ("sensor.b_energy", None)],
        batteries=[("sensor.a_discharge", "sensor.a_charge")],
        forecasts=["pv1"],
    )
    existing: list[dict[str, Any]] = [
        {"type": "battery", "stat_energy_from": "sensor.x", "stat_energy_to": "sensor.a_charge"}
    ]
    additions = plan_additions(found, [])
    assert additions == [
        {
            "type": "solar",
            "stat_energy_from": "sensor.a_energy",
            "stat_rate": "sensor.a_power",
            "config_entry_solar_forecast": ["pv1"],
        },
        {
            "type": "solar",
            "stat_energy_from": "sensor.b_energy",
            "config_entry_solar_forecast": None,
        },
        {
            "type": "battery",
            "stat_energy_from": "sensor.a_discharge",
            "stat_energy_to": "sensor.a_charge",
        },
    ]
    assert ENERGY_SOURCE_SCHEMA(additions) == additions
    assert [s["type"] for s in plan_additions(found, existing)] == ["solar", "solar"]


async def test_cloud_plant_total_only_without_inverter_totals(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry, entity_registry: er.EntityRegistry
) -> None:
    """A cloud plant's lifetime energy repeats its inverters': used only when they have none.

    The registry is filled as the Growatt cloud entry leaves it (``growatt_cloud/sensor.py``:
    the plant device, each inverter connected through it, translation key ``energy_total``).
    """
    entry = MockConfigEntry(domain=DOMAIN, data={"kind": "growatt_cloud"}, unique_id="plant1")
    entry.add_to_hass(hass)
    plant = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "growatt_cloud_1")}
    )

    def sensor(device: dr.DeviceEntry, unique_id: str, key: str) -> str:
        return entity_registry.async_get_or_create(
            "sensor",
            DOMAIN,
            unique_id,
            config_entry=entry,
            device_id=device.id,
            translation_key=key,
        ).entity_id

    plant_total = sensor(plant, "growatt_cloud_1_energy_total", "energy_total")
    found = energy_setup.find_entities(hass)
    assert found.solar == [(plant_total, None)]

    inverter = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, "growatt_cloud_1_INV1")},
        via_device=(DOMAIN, "growatt_cloud_1"),
    )
    inverter_total = sensor(inverter, "growatt_cloud_1_INV1_energy_total", "energy_total")
    power = sensor(inverter, "growatt_cloud_1_INV1_ac_power", "ac_power")
    found = energy_setup.find_entities(hass)
    assert found.solar == [(inverter_total, power)]
