"""Fixtures of the EV charging tests, shaped like Home Assistant core's platinum
integrations (``mock_config_entry``, ``init_integration``)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .fixtures import make_entry, setup_charger, setup_entry


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """The "Wallbox" entry with its default data and options."""
    return make_entry()


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """The wallbox helpers (charger off, grid importing 300 W), then ``mock_config_entry``
    added, set up and returned."""
    await setup_charger(hass)
    await setup_entry(hass, mock_config_entry)
    return mock_config_entry
