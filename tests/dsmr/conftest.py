"""Fixtures of the DSMR tests, shaped like Home Assistant core's platinum integrations
(``mock_config_entry``, ``init_integration``) plus the loopback P1 ``server`` they read."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .fixtures import P1Server, make_entry, setup_entry, telegram


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[P1Server]:
    """A loopback P1 server greeting every client with the DSMR 5 telegram."""
    p1 = P1Server(greeting=telegram("v5"))
    await p1.start()
    yield p1
    await p1.stop()


@pytest.fixture
def mock_config_entry(server: P1Server) -> MockConfigEntry:
    """A DSMR 5 network entry reading ``server``, with the default options of the tests."""
    return make_entry(server.port, "5")


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """``mock_config_entry`` added, set up (first telegram read) and returned."""
    await setup_entry(hass, mock_config_entry)
    return mock_config_entry
