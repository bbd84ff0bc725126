"""Helpers of the Growatt cloud tests: the config entry of the fake cloud's plants
(``build_entry``/``make_entry``/``setup``, wrapped by the ``mock_config_entry`` and
``init_integration`` fixtures of ``conftest.py``)."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.growatt_cloud.api.client import hash_password
from custom_components.pv_monitor.growatt_cloud.api.models import AuthType

from .fake import PASSWORD, TOKEN, USERNAME

PLANT = "828578"
"""The plant of the ShinePhone plant list fixture whose ``currentPower`` is "0 W"."""
V1_PLANT = "1234567"

PLANT_POWER = f"{1520.0 + 2.41 * 1000 + 870.0 + 600.0:.1f}"
"""The sum of the plant's devices in the ShinePhone fixtures: TL-X ``pac`` 1520 W, SPH
``ppv`` 2.41 kW, inverter ``pac`` 870 W, storage ``ppv`` 600 W."""


def build_entry(auth: AuthType = AuthType.PASSWORD, **options: Any) -> MockConfigEntry:
    """An entry for the fake cloud's plant (``PLANT`` by password, ``V1_PLANT`` by token),
    polling every 5 minutes within a budget of 200 requests a day; not yet added."""
    plant = PLANT if auth is AuthType.PASSWORD else V1_PLANT
    data: dict[str, Any] = {
        "kind": "growatt_cloud",
        "auth_type": auth.value,
        "region": "other_regions",
        "plant_id": plant,
        "plant_name": "Home",
    }
    if auth is AuthType.PASSWORD:
        data |= {"username": USERNAME, "password_hash": hash_password(PASSWORD)}
    else:
        data |= {"token": TOKEN}
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        unique_id=plant,
        data=data,
        options={"poll_interval": 5, "daily_budget": 200, **options},
    )


def make_entry(
    hass: HomeAssistant, auth: AuthType = AuthType.PASSWORD, **options: Any
) -> MockConfigEntry:
    """:func:`build_entry`, added to ``hass`` (not set up)."""
    entry = build_entry(auth, **options)
    entry.add_to_hass(hass)
    return entry


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up the added ``entry`` (and every other entry of the domain); may fail."""
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
