"""Every energy sensor of a real meter passes Home Assistant's energy validation."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator

from homeassistant.components.energy.data import async_get_manager
from homeassistant.components.energy.validate import async_validate
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from .fixtures import P1Server, make_entry, telegram


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> Generator[None]:
    """The recorder first (before ``hass``), then the custom integrations."""
    yield  # noqa: PT022


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[P1Server]:
    p1 = P1Server(greeting=telegram("fluvius_v171"))
    await p1.start()
    yield p1
    await p1.stop()


async def test_energy_validation(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    server: P1Server,
    entity_registry: er.EntityRegistry,
) -> None:
    """Grid import/export (per tariff and totals), net power, gas and water: no issues."""
    assert await async_setup_component(hass, "energy", {})
    entry = make_entry(server.port, "5B")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    states = {
        e.entity_id: hass.states.get(e.entity_id)
        for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    }
    energy = sorted(
        entity_id
        for entity_id, state in states.items()
        if state is not None and state.attributes.get("device_class") in ("energy", "gas", "water")
    )
    imports = [e for e in energy if "energy_import" in e]
    exports = [e for e in energy if "energy_export" in e]
    gas = [e for e in energy if e.endswith("_gas")]
    water = [e for e in energy if e.endswith("_water")]
    assert len(imports) == 3
    assert len(exports) == 3
    assert gas
    assert water
    assert set(energy) == {*imports, *exports, *gas, *water}

    def price() -> dict[str, None]:
        return {"entity_energy_price": None, "number_energy_price": None}

    manager = await async_get_manager(hass)
    await manager.async_update(
        {
            "energy_sources": [
                {
                    "type": "grid",
                    "flow_from": [
                        {"stat_energy_from": e, "stat_cost": None, **price()} for e in imports
                    ],
                    "flow_to": [
                        {"stat_energy_to": e, "stat_compensation": None, **price()} for e in exports
                    ],
                    "power": [{"stat_rate": "sensor.smart_meter_net_grid_power"}],
                    "cost_adjustment_day": 0,
                },
                *(
                    {"type": "gas", "stat_energy_from": e, "stat_cost": None, **price()}
                    for e in gas
                ),
                *(
                    {"type": "water", "stat_energy_from": e, "stat_cost": None, **price()}
                    for e in water
                ),
            ],
        }
    )
    # Compile the 5-minute statistics of the recorded states (creates their metadata).
    await async_wait_recording_done(hass)
    now = dt_util.utcnow()
    do_adhoc_statistics(
        hass, start=now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    )
    await async_wait_recording_done(hass)
    validation = await async_validate(hass)
    assert validation.as_dict() == {
        "energy_sources": [[], [], []],
        "device_consumption": [],
        "device_consumption_water": [],
    }
    async_fire_time_changed(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
