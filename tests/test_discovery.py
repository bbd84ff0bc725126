"""USB discovery of P1 cables (dsmr/discovery.py) and the manifest matcher that starts it.

The discovered cable is the one of ebaauw/homebridge-p1 issue 10 (FTDI 0403:6001, product
"P1 Converter Cable", udev id usb-FTDI_P1_Converter_Cable_P12B5OMM-if00-port0); a
pseudo-terminal stands in for its port and carries dsmr-parser's DSMR 5 test telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
from fnmatch import fnmatch
import json
import os
from pathlib import Path
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_IGNORE, SOURCE_USB
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.usb import UsbServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.dsmr.discovery import serial_by_id

from .dsmr.fixtures import telegram

MANIFEST = Path(__file__).parents[1] / "custom_components" / "pv_monitor" / "manifest.json"


async def _feed(master: int) -> None:
    """Send the telegram every 50 ms, as a meter does every second (opening the port
    flushes what was written before)."""
    os.set_blocking(master, False)
    while True:
        with contextlib.suppress(BlockingIOError):
            os.write(master, telegram("v5"))
        await asyncio.sleep(0.05)


def _cable(device: str, serial: str | None = "P12B5OMM") -> UsbServiceInfo:
    return UsbServiceInfo(
        device=device,
        vid="0403",
        pid="6001",
        serial_number=serial,
        manufacturer="FTDI",
        description="P1 Converter Cable",
    )


def _matches(vid: str, pid: str, description: str) -> bool:
    """Home Assistant's usb matching: vid/pid equal, description fnmatch in lower case."""
    return any(
        m["vid"] == vid and m["pid"] == pid and fnmatch(description.lower(), m["description"])
        for m in json.loads(MANIFEST.read_text())["usb"]
    )


def test_manifest_matches_p1_cables_only() -> None:
    assert _matches("0403", "6001", "P1 Converter Cable")
    assert not _matches("0403", "6001", "FT232R USB UART")
    assert not _matches("1a86", "7523", "USB2.0-Serial")


async def test_usb_discovery_creates_meter(hass: HomeAssistant) -> None:
    """Confirm, choose the version, one telegram is read, the meter entry is created."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    try:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USB}, data=_cable(path)
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "dsmr_usb"
        assert result["description_placeholders"] == {"path": path, "name": "P1 Converter Cable"}
        feeder = hass.async_create_background_task(_feed(master), "feed the pty")
        with patch("custom_components.pv_monitor.async_setup_entry", return_value=True):
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {"dsmr_version": "5"}
            )
        feeder.cancel()
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"]["path"] == path
        assert result["data"]["connection_type"] == "serial"
        assert result["result"].unique_id == "4B384547303034303436333935353037"
    finally:
        os.close(master)
        os.close(slave)

    # The same port again: already configured.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_cable(path)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_usb_discovery_silent_cable_and_ignore(hass: HomeAssistant) -> None:
    """No telegram: the serial form with the error; an ignored cable is not offered again."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    try:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USB}, data=_cable(path, serial=None)
        )
        with patch("custom_components.pv_monitor.dsmr.flow.TEST_TELEGRAM_TIMEOUT", 0.05):
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {"dsmr_version": "5"}
            )
        assert result["step_id"] == "dsmr_serial"
        assert result["errors"] == {"base": "dsmr_no_telegram"}
    finally:
        os.close(master)
        os.close(slave)
    MockConfigEntry(domain=DOMAIN, source=SOURCE_IGNORE, unique_id="dsmr_usb_P12B5OMM").add_to_hass(
        hass
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_cable("/dev/ttyUSB7")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


def test_serial_by_id(tmp_path: Path) -> None:
    """The by-id link of a device when there is one, else the device path itself."""
    device = tmp_path / "ttyUSB0"
    device.touch()
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    link = by_id / "usb-FTDI_P1_Converter_Cable_P12B5OMM-if00-port0"
    link.symlink_to(device)
    (by_id / "usb-other").symlink_to(tmp_path / "ttyUSB1")
    with patch("custom_components.pv_monitor.dsmr.discovery.SERIAL_BY_ID", str(by_id)):
        assert serial_by_id(str(device)) == str(link)
        assert serial_by_id("/dev/ttyACM0") == "/dev/ttyACM0"
