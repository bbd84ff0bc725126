"""Fixtures of the Growatt cloud tests, shaped like Home Assistant core's platinum
integrations (``mock_config_entry``, ``init_integration``); ``fake_cloud`` serves them."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .fake import FakeGrowatt, fake_cloud  # noqa: F401 - the fixture, for every cloud test
from .fixtures import build_entry, setup


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """The password-account entry of plant ``PLANT`` (5-minute polls, 200 requests a day)."""
    return build_entry()


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    mock_config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """``mock_config_entry`` added to ``hass``, set up against the fake cloud and returned."""
    mock_config_entry.add_to_hass(hass)
    await setup(hass, mock_config_entry)
    return mock_config_entry
