"""The typed in-process subscription to a DSMR entry's net grid power (no state needed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.ev_charging.coordinator import (
    SOURCE_TICK_INTERVAL,
    GridPowerSource,
    grid_power_source,
)

from .fixtures import make_entry, setup_charger, setup_entry

NET_POWER = "sensor.meter_net_grid_power"


class FakeMeter:
    """Stands in for a DSMR coordinator: ``send(watts)`` calls the subscribers."""

    def __init__(self) -> None:
        self.subscribers: list[Callable[[float | None], None]] = []

    def async_subscribe_net_power(self, cb: Callable[[float | None], None]) -> Callable[[], None]:
        self.subscribers.append(cb)
        return lambda: self.subscribers.remove(cb)

    def send(self, watts: float | None) -> None:
        for cb in list(self.subscribers):
            cb(watts)


def meter_entry(hass: HomeAssistant, meter: FakeMeter, unique_id: str = "m_net_power") -> str:
    """A loaded DSMR entry whose runtime is ``meter``, with its net power entity registered."""
    entry = MockConfigEntry(domain=DOMAIN, data={"kind": "dsmr"}, unique_id="m")
    entry.add_to_hass(hass)
    entry.mock_state(hass, ConfigEntryState.LOADED)
    entry.runtime_data = meter
    registry = er.async_get(hass)
    entity = registry.async_get_or_create(
        "sensor", DOMAIN, unique_id, config_entry=entry, suggested_object_id="meter_net_grid_power"
    )
    return entity.entity_id


async def test_subscription_feeds_the_controller(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Every reading is stored, ticks at most every 5 s, None stops at once; export sign."""
    meter = FakeMeter()
    entity_id = meter_entry(hass, meter)
    assert isinstance(grid_power_source(hass, entity_id), GridPowerSource)
    await setup_charger(hass)
    coordinator = await setup_entry(
        hass, make_entry(grid_power=entity_id, grid_sign="export_positive")
    )
    assert coordinator.diagnostics()["grid_source"] == "subscription"
    meter.send(2000.0)  # export positive: 2 kW export
    await hass.async_block_till_done()
    assert coordinator.controller.grid_power == -2000.0
    first = coordinator.data
    freezer.tick(timedelta(seconds=1))
    meter.send(3000.0)
    await hass.async_block_till_done()
    assert coordinator.controller.grid_power == -3000.0
    assert coordinator.data is first  # stored, not yet ticked
    freezer.tick(timedelta(seconds=SOURCE_TICK_INTERVAL))
    meter.send(3000.0)
    await hass.async_block_till_done()
    assert coordinator.data is not first
    assert coordinator.source_readings == 3
    meter.send(None)
    await hass.async_block_till_done()
    assert coordinator.data.status == "stale_data"
    assert meter.subscribers == []
    assert coordinator.diagnostics()["grid_source"] == "state"
    await coordinator.async_stop()


async def test_other_sensors_are_not_sources(hass: HomeAssistant) -> None:
    """Only a loaded DSMR entry's net power sensor is a subscription source."""
    meter = FakeMeter()
    import_power = meter_entry(hass, meter, unique_id="m_power_import")
    assert grid_power_source(hass, import_power) is None
    assert grid_power_source(hass, "sensor.not_registered") is None
    net = meter_entry(hass, meter, unique_id="n_net_power")
    entry = hass.config_entries.async_get_entry(er.async_get(hass).async_get(net).config_entry_id)
    entry.runtime_data = object()
    assert grid_power_source(hass, net) is None
    entry.mock_state(hass, ConfigEntryState.NOT_LOADED)
    assert grid_power_source(hass, net) is None
