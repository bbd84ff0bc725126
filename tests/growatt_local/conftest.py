"""Fixtures of the Growatt local tests, shaped like Home Assistant core's platinum
integrations (``mock_config_entry``, ``init_integration``)."""

from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import patch

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.growatt_local.control import InverterControl

from .fixtures import make_entry, setup_entry


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``control_reads`` marker."""
    config.addinivalue_line(
        "markers", "control_reads: the entry reads the inverters' control registers (issue 19)"
    )


@pytest.fixture(autouse=True)
def no_control_reads(request: pytest.FixtureRequest) -> Iterator[None]:
    """Entries read no control registers unless the test is marked ``control_reads``.

    In server mode the coordinator reads each inverter's control registers (0x05) 30 s
    after its first record; the captured sessions the other tests replay come from
    dataloggers that were never asked, so their fakes do not answer register commands.
    The control tests (``test_control*.py``) are marked and see the reads.
    """
    if request.node.get_closest_marker("control_reads"):
        yield
        return
    with patch.object(InverterControl, "inverter_seen"):
        yield


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
