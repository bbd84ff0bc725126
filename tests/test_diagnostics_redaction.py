"""No secret, key, credential, host, location or full serial in any kind's diagnostics.

Each test sets an entry of one kind up with the fixtures its own tests use (real captures:
the GrowattMonitor protocol-5 session of ShineWiFi-S JPC492227A, the dsmr-parser DSMR 5
telegram; the cloud fake's hand-written Growatt answers), downloads its diagnostics through
Home Assistant's HTTP view and searches the JSON text, in any letter case, for every private
value the entry was given or the device sent.
"""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.pv_monitor.common.redact import (
    REDACTED,
    looks_like_serial,
    private_values,
    redact_private,
    redact_serials,
)
from custom_components.pv_monitor.growatt_cloud.api.client import hash_password
from custom_components.pv_monitor.growatt_cloud.api.models import AuthType

from .dsmr.fixtures import P1Server, make_entry as dsmr_entry, telegram
from .ev_charging.fixtures import make_entry as ev_entry, setup_charger, setup_entry
from .growatt_cloud.fake import PASSWORD, TOKEN, USERNAME, FakeGrowatt, fake_cloud  # noqa: F401
from .growatt_cloud.fixtures import make_entry as cloud_entry, setup as cloud_setup
from .growatt_local.fixtures import make_entry as local_entry, setup_entry as local_setup
from .growatt_local.test_local import play_growattmonitor
from .pv_system.fixtures import setup_roof as pv_setup


async def _download(hass: HomeAssistant, hass_client: Any, entry: Any) -> str:
    return json.dumps(await get_diagnostics_for_config_entry(hass, hass_client, entry)).lower()


def _absent(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret.lower() not in text, secret


async def test_growatt_local(hass: HomeAssistant, hass_client: Any, free_port: int) -> None:
    """Listen and upstream hosts, datalogger and inverter serials, LAN address."""
    entry = local_entry(free_port)
    await local_setup(hass, entry)
    dongle = await play_growattmonitor(hass, free_port)
    text = await _download(hass, hass_client, entry)
    _absent(text, "127.0.0.1", "server.growatt.com", "JPC492227A", "1VZG8211B7", "192.168.1.20")
    assert "ahba1412" in text  # a firmware build has a serial's shape but is kept
    await dongle.close()


async def test_dsmr(hass: HomeAssistant, hass_client: Any, socket_enabled: None) -> None:
    """Host, decryption and authentication keys, meter identifiers (hex and decoded)."""
    server = P1Server(greeting=telegram("v5"))
    await server.start()
    keys = {
        "encryption_key": "00112233445566778899AABBCCDDEEFF",
        "authentication_key": "FFEEDDCCBBAA99887766554433221100",
    }
    entry = dsmr_entry(server.port, "5")
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data={**entry.data, **keys})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    text = await _download(hass, hass_client, entry)
    # 0-0:96.1.1 of the dsmr-parser v5 telegram, hex and decoded (E0044004639550 7...).
    _absent(text, *keys.values(), "127.0.0.1", "4B384547303034303436333935353037")
    _absent(text, bytes.fromhex("4B384547303034303436333935353037").decode())
    assert await hass.config_entries.async_unload(entry.entry_id)
    await server.stop()


async def test_growatt_cloud(
    hass: HomeAssistant,
    hass_client: Any,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    """Username, password hash, token, plant name and location, device serials."""
    for auth in (AuthType.PASSWORD, AuthType.TOKEN):
        entry = cloud_entry(hass, auth)
        await cloud_setup(hass, entry)
        text = await _download(hass, hass_client, entry)
        _absent(text, USERNAME, hash_password(PASSWORD), TOKEN, "AB12345678", "XGD1234567")
        assert '"plant_name": "**redacted**"' in text
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.config_entries.async_remove(entry.entry_id)


async def test_pv_system(hass: HomeAssistant, hass_client: Any) -> None:
    """Latitude and longitude, in the entry and in the runtime's site."""
    entry = await pv_setup(hass)
    text = await _download(hass, hass_client, entry)
    _absent(text, "52.1", "5.2,", "5.2}")
    assert '"tilt"' in text  # the model inputs that are not private stay


async def test_ev_charging(hass: HomeAssistant, hass_client: Any) -> None:
    """EV charging holds no secret: entity ids and settings stay readable."""
    await setup_charger(hass)
    coordinator = await setup_entry(hass, ev_entry())
    text = await _download(hass, hass_client, coordinator.config_entry)
    assert "input_boolean.wallbox" in text
    assert "redacted" not in text


def test_any_case_and_version_keys() -> None:
    """Lower-case serials are masked; firmware values and short words are not."""
    data = {
        "Serial_Number": "ab12",
        "device": "qmn000bzp3",
        "firmware_build": "ahba1412",
        "sw_version": "TJAA0802",
        "note": "seen at 10.0.0.9",
        "IP": "10.0.0.9",
        "status": "normal",
    }
    out = redact_private(data)
    assert out == {
        "Serial_Number": REDACTED,
        "device": "qmn*******",
        "firmware_build": "ahba1412",
        "sw_version": "TJAA0802",
        "note": f"seen at {REDACTED}",
        "IP": REDACTED,
        "status": "normal",
    }
    assert looks_like_serial("xgd1234567")
    assert not looks_like_serial("1.7.6.8")
    assert private_values({"a": [{"token": {"x": 1, "y": None}}]}) == {"1"}
    assert redact_serials("short", scrub=["abc"]) == "short"
    # The cable of ebaauw/homebridge-p1 issue 10: its FTDI serial is in the by-id path.
    path = "/dev/serial/by-id/usb-FTDI_P1_Converter_Cable_P12B5OMM-if00-port0"
    assert redact_serials({"path": path}) == {
        "path": "/dev/serial/by-id/usb-FTDI_P1_Converter_Cable_P12*****-if00-port0"
    }
    assert redact_serials("/dev/ttyUSB0") == "/dev/ttyUSB0"


@pytest.mark.parametrize("value", [("x",), {"x"}])
def test_sequences_become_lists(value: Any) -> None:
    assert redact_serials(value) == ["x"]
