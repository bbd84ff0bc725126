"""Fixtures of the PV system tests, shaped like Home Assistant core's platinum
integrations (``mock_config_entry``, ``init_integration``)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .fixtures import make_entry, setup_entry


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """The "Roof" system: South 4 kWp and West 2 kWp arrays, default options."""
    return make_entry()


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """``mock_config_entry`` added, set up (Amsterdam time zone, loaded) and returned."""
    return await setup_entry(hass, mock_config_entry)
