"""Helpers of the EV charging tests: a wallbox made of helpers and the config entry
(``make_entry``/``setup_entry``, wrapped by the ``mock_config_entry`` and
``init_integration`` fixtures of ``conftest.py``)."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.ev_charging.coordinator import EvChargingCoordinator

ENTRY_ID = "01JEVCHARGINGTESTENTRY0000"
CHARGER = "input_boolean.wallbox"
CURRENT = "input_number.wallbox_current"
PHASE_SWITCH = "input_boolean.wallbox_three_phase"
GRID = "sensor.grid_power"
SOC = "sensor.home_battery_soc"


async def setup_charger(hass: HomeAssistant, charger_on: bool = False) -> None:
    """A wallbox made of helpers: on/off, current (A), three-phase switch; a grid sensor."""
    assert await async_setup_component(
        hass,
        "input_boolean",
        {
            "input_boolean": {
                "wallbox": {"name": "Wallbox", "initial": charger_on},
                "wallbox_three_phase": {"name": "Wallbox three phase", "initial": False},
            }
        },
    )
    assert await async_setup_component(
        hass,
        "input_number",
        {
            "input_number": {
                "wallbox_current": {"name": "Wallbox current", "min": 0, "max": 32, "step": 1}
            }
        },
    )
    grid(hass, 300)
    await hass.async_block_till_done()


def grid(hass: HomeAssistant, watts: float | str, unit: str = "W") -> None:
    """Set the grid power sensor (import positive) to ``watts`` in ``unit``."""
    hass.states.async_set(GRID, str(watts), {"unit_of_measurement": unit, "device_class": "power"})


def make_entry(**data: Any) -> MockConfigEntry:
    """The "Wallbox" entry: 1 phase, 6-16 A at 230 V on ``sensor.grid_power``; ``data``
    replaces or adds entry data."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        title="EV charging: Wallbox",
        unique_id=f"ev_charging_{CHARGER}",
        data={
            "kind": "ev_charging",
            "charger": CHARGER,
            "current_entity": CURRENT,
            "phases": "1",
            "voltage": 230.0,
            "grid_power": GRID,
            "grid_sign": "import_positive",
            "start_threshold": 0.0,
            "stop_threshold": 0.0,
            "start_delay": 60.0,
            "stop_delay": 180.0,
            "min_current": 6.0,
            "max_current": 16.0,
            **data,
        },
        options={
            "min_on_time": 300.0,
            "min_off_time": 300.0,
            "phase_switch_delay": 300.0,
            "stale_timeout": 60.0,
        },
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> EvChargingCoordinator:
    """Add ``entry``, set it up (asserting success) and return its coordinator."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EvChargingCoordinator = entry.runtime_data
    return coordinator
