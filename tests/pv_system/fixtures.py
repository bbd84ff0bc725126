"""Helpers of the PV system tests: the "Roof" config entry (``make_entry``/``setup_entry``,
wrapped by the ``mock_config_entry`` and ``init_integration`` fixtures of ``conftest.py``)."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.core import HomeAssistant

# The model imports these lazily in the executor; importing pandas while freezegun has
# frozen time hangs, so they are imported here, before any test freezes the clock.
import pandas  # noqa: F401
import pvlib  # noqa: F401
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.const import DOMAIN

ARRAYS = [
    {
        "name": "South",
        "tilt": 35.0,
        "azimuth": 180.0,
        "kwp": 4.0,
        "gamma_pdc": -0.37,
        "losses": 14.0,
    },
    {
        "name": "West",
        "tilt": 20.0,
        "azimuth": 270.0,
        "kwp": 2.0,
        "gamma_pdc": -0.37,
        "losses": 14.0,
    },
]


ROOF_DATA: Final = {
    "kind": "pv_system",
    "name": "Roof",
    "latitude": 52.1,
    "longitude": 5.2,
    "elevation": 10.0,
    "ac_limit_kw": 5.0,
}
"""Entry data of the "Roof" system: 52.1 N 5.2 E (the Netherlands), a 5 kW inverter."""


def make_entry(
    options: dict[str, Any] | None = None, arrays: list[dict[str, Any]] = ARRAYS
) -> MockConfigEntry:
    """The "Roof" system (52.1 N 5.2 E, 5 kW inverter) with ``arrays`` as subentries,
    reading ``sensor.pv_power``/``sensor.pv_energy``; ``options`` add to the defaults."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Roof",
        unique_id="pv_system_roof",
        data=ROOF_DATA,
        options={
            "production_power": "sensor.pv_power",
            "production_energy": "sensor.pv_energy",
            "underperformance_threshold": 0.8,
            **(options or {}),
        },
        subentries_data=[
            ConfigSubentryData(data=a, subentry_type="array", title=a["name"], unique_id=None)
            for a in arrays
        ],
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add ``entry`` and set it up in Amsterdam's time zone, asserting it loaded."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def setup_roof(
    hass: HomeAssistant,
    options: dict[str, Any] | None = None,
    arrays: list[dict[str, Any]] = ARRAYS,
) -> MockConfigEntry:
    """:func:`make_entry` then :func:`setup_entry`: the loaded entry."""
    return await setup_entry(hass, make_entry(options, arrays))
