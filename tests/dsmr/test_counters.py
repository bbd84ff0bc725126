"""Energy counters of a meter through the counter guard, over a loopback P1 stream.

Telegrams: dsmr-parser's DSMR 5 test telegram (``tests/fixtures/dsmr/v5.txt``) with its
tariff-1 import register (``1-0:1.8.1``) edited and the CRC recomputed; the spike value is
the one of the issue (``999999999.999*kWh``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta
import logging
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.diagnostics import async_get_config_entry_diagnostics
from custom_components.pv_monitor.dsmr.coordinator import DsmrCoordinator
from tests.helpers import until

from .fixtures import P1Server, make_entry, telegram, with_crc

V5 = telegram("v5")
TARIFF_1 = "sensor.smart_meter_energy_import_tariff_1"
IMPORT_TOTAL = "sensor.smart_meter_energy_import"


def tariff_1(value: bytes) -> bytes:
    """The v5 telegram with ``1-0:1.8.1`` set to ``value`` kWh, CRC recomputed."""
    return with_crc(V5.replace(b"1-0:1.8.1(000004.426*kWh)", b"1-0:1.8.1(" + value + b"*kWh)"))


@pytest.fixture(autouse=True)
def no_stale() -> AsyncGenerator[None]:
    """Minutes pass between telegrams here: the link must not go stale meanwhile."""
    with patch("custom_components.pv_monitor.dsmr.coordinator.STALE_AFTER", 1e6):
        yield


async def send(
    hass: HomeAssistant,
    server: P1Server,
    coordinator: DsmrCoordinator,
    data: bytes,
) -> None:
    before = coordinator.counters.telegrams + coordinator.counters.total_dropped
    await server.send(data)
    await until(
        lambda: coordinator.counters.telegrams + coordinator.counters.total_dropped > before
    )
    await hass.async_block_till_done()


def value(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


async def setup(hass: HomeAssistant, entry: object) -> DsmrCoordinator:
    assert await hass.config_entries.async_setup(entry.entry_id)  # type: ignore[attr-defined]
    await hass.async_block_till_done()
    coordinator: DsmrCoordinator = entry.runtime_data  # type: ignore[attr-defined]
    return coordinator


async def test_spike_negative_reload_and_meter_swap(
    hass: HomeAssistant,
    server: P1Server,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A spike and a negative reading never publish (also right after a reload); a
    confirmed meter swap gives one reset and one repair issue."""
    entry = make_entry(server.port, "5", power_interval=0.0)
    entry.add_to_hass(hass)
    coordinator = await setup(hass, entry)
    assert value(hass, TARIFF_1) == "4.426"
    total = value(hass, IMPORT_TOTAL)

    freezer.tick(timedelta(seconds=10))
    await send(hass, server, coordinator, tariff_1(b"999999999.999"))
    assert value(hass, TARIFF_1) == "4.426"
    assert value(hass, IMPORT_TOTAL) == total
    freezer.tick(timedelta(seconds=10))
    await send(hass, server, coordinator, tariff_1(b"-000004.600"))
    assert value(hass, TARIFF_1) == "4.426"
    freezer.tick(timedelta(seconds=10))
    await send(hass, server, coordinator, tariff_1(b"000004.427"))
    assert value(hass, TARIFF_1) == "4.427"
    warnings = [r for r in caplog.records if "implausible energy_import_tariff_1" in r.message]
    assert len(warnings) == 1
    diagnostics = (await async_get_config_entry_diagnostics(hass, entry))["runtime"]
    guard = diagnostics["energy_counters"]["energy_import_tariff_1"]
    assert guard["dropped"] == 2
    assert guard["value"] == 4.427

    # Reload: the first telegram afterwards is the spike again; the restored value holds.
    server.greeting = tariff_1(b"999999999.999")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    assert coordinator.counters.telegrams == 1
    assert value(hass, TARIFF_1) == "4.427"
    diagnostics = (await async_get_config_entry_diagnostics(hass, entry))["runtime"]
    assert diagnostics["energy_counters"]["energy_import_tariff_1"]["held_candidates"] == [
        999999999.999
    ]

    # A new meter: 0.100, 0.110, 0.120 kWh over 10 minutes confirm it.
    issues = ir.async_get(hass)
    for minute, reading in ((0, b"000000.100"), (5, b"000000.110"), (10, b"000000.120")):
        freezer.tick(timedelta(minutes=5 if minute else 1))
        await send(hass, server, coordinator, tariff_1(reading))
        if minute < 10:
            assert value(hass, TARIFF_1) == "4.427"
            assert issues.async_get_issue(DOMAIN, coordinator.meter_counters.issue_id) is None
    assert value(hass, TARIFF_1) == "0.12"
    ours = [
        i
        for i in issues.issues.values()
        if i.domain == DOMAIN and i.translation_key == "dsmr_counter_reset"
    ]
    assert len(ours) == 1
    assert "energy_import_tariff_1: 4.427 -> 0.12" in ours[0].translation_placeholders["changes"]
    assert coordinator.meter_counters.guards["energy_import_tariff_1"].resets == 1
    assert await hass.config_entries.async_unload(entry.entry_id)
    caplog.set_level(logging.WARNING)


def test_guard_bounds_and_first_readings() -> None:
    """M-Bus bounds per medium and unit; a first reading that is negative never publishes."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from custom_components.pv_monitor.dsmr.counters import MeterCounters, mbus_limits
    from custom_components.pv_monitor.dsmr.p1.mapping import (
        MbusReading,
        Medium,
        MeterReading,
        identification,
    )

    def device(medium: Medium, unit: str, value: float = 1.0) -> MbusReading:
        return MbusReading(1, medium, None, None, value, unit, datetime(2026, 1, 1, tzinfo=UTC))

    assert mbus_limits(device(Medium.GAS, "m³")).max_power_kw == 16.0
    assert mbus_limits(device(Medium.WATER, "m³")).max_power_kw == 10.0
    assert mbus_limits(device(Medium.HEAT, "GJ")).max_power_kw == pytest.approx(0.36)
    assert mbus_limits(device(Medium.HEAT, "MJ")).max_power_kw == pytest.approx(360)
    assert mbus_limits(device(Medium.HEAT, "?")).max_power_kw == pytest.approx(0.36)

    counters = MeterCounters(None, SimpleNamespace(title="t"), 43.47)  # type: ignore[arg-type]
    reading = MeterReading(
        values={"energy_import_tariff_1": -4.6, "energy_export_tariff_1": 1.0},
        mbus={1: device(Medium.GAS, "m³", -1.0), 2: device(Medium.WATER, "m³", 3.0)},
    )
    counters.apply(reading, 0.0)
    assert reading.values == {"energy_export_tariff_1": 1.0}
    assert list(reading.mbus) == [2]
    assert counters.diagnostics()["energy_import_tariff_1"]["dropped"] == 1
    assert identification("/X") == (None, None)
    assert identification("1-0:1.8.1(1)") == (None, None)
    assert identification("/123Z ident") == (None, None)


async def test_spike_right_after_a_restart(hass: HomeAssistant, server: P1Server) -> None:
    """After a restart the guard starts from the restored state: a spike as the very first
    telegram is held, the restored value stays."""
    from homeassistant.core import State
    from homeassistant.helpers import entity_registry as er
    from pytest_homeassistant_custom_component.common import mock_restore_cache

    entry = make_entry(server.port, "5", power_interval=0.0)
    entry.add_to_hass(hass)
    er.async_get(hass).async_get_or_create(
        "sensor",
        DOMAIN,
        "meter_energy_import_tariff_1",
        config_entry=entry,
        suggested_object_id="smart_meter_energy_import_tariff_1",
    )
    mock_restore_cache(hass, [State(TARIFF_1, "4.5")])
    server.greeting = tariff_1(b"999999999.999")
    coordinator = await setup(hass, entry)
    assert coordinator.counters.telegrams == 1
    assert value(hass, TARIFF_1) == "4.5"
    guard = coordinator.meter_counters.guards["energy_import_tariff_1"]
    assert guard.candidates == [(999999999.999, guard.candidates[0][1])]
    assert await hass.config_entries.async_unload(entry.entry_id)
