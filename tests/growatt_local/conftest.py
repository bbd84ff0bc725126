"""Fixtures of the Growatt local tests, shaped like Home Assistant core's platinum
integrations (``mock_config_entry``, ``init_integration``)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .fixtures import make_entry, setup_entry


@pytest.fixture
def mock_config_entry(free_port: int) -> MockConfigEntry:
    """A server-mode entry on a free loopback port, every datalogger allowed."""
    return make_entry(free_port)


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """``mock_config_entry`` added, set up (listener running) and returned."""
    await setup_entry(hass, mock_config_entry)
    return mock_config_entry
