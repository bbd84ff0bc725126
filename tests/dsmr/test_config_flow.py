"""Config flow of the DSMR P1 source: serial, network, keys, errors, reconfigure, options."""

from __future__ import annotations

from collections.abc import Generator
import os
from types import SimpleNamespace
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.common.counter import METER_MAX_POWER_KW
from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.dsmr.flow import list_serial_ports

from .fixtures import P1Server, make_entry, telegram
from .test_core import AUTH_KEY, KEY, SAGEMCOM_PLAIN, encrypted_frame, with_crc

V5 = telegram("v5")
V5_ID = "4B384547303034303436333935353037"
FLOW = "custom_components.pv_monitor.dsmr.flow"
READER = "custom_components.pv_monitor.dsmr.p1.reader"


@pytest.fixture(autouse=True)
def short_test_read() -> Generator[None]:
    with patch(f"{FLOW}.TEST_TELEGRAM_TIMEOUT", 0.3):
        yield


async def start(hass: HomeAssistant, kind: str) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert "dsmr" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "dsmr"}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["dsmr_serial", "dsmr_network"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": kind}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == kind
    return result["flow_id"]


@pytest.mark.usefixtures("mock_setup_entry")
async def test_network_flow(hass: HomeAssistant, server: P1Server) -> None:
    """Network: a real telegram is read; the meter's identifier becomes the unique id."""
    flow_id = await start(hass, "dsmr_network")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": "not a host!", "port": server.port, "dsmr_version": "5"}
    )
    assert result["errors"] == {"host": "invalid_host"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": " 127.0.0.1 ", "port": server.port, "dsmr_version": "5"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Smart meter K8EG004046395507"
    assert result["result"].unique_id == V5_ID
    assert result["data"] == {
        "kind": "dsmr",
        "connection_type": "network",
        "host": "127.0.0.1",
        "port": server.port,
        "dsmr_version": "5",
    }
    assert result["options"] == {
        "power_interval": 30.0,
        "reconnect_interval": 30.0,
        "max_power_kw": METER_MAX_POWER_KW,
    }

    # The same meter again: aborted.
    flow_id = await start(hass, "dsmr_network")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": "127.0.0.1", "port": server.port, "dsmr_version": "5"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_network_errors(hass: HomeAssistant, server: P1Server, free_port: int) -> None:
    """Cannot connect, silence, and only invalid telegrams each have their error."""
    flow_id = await start(hass, "dsmr_network")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": "127.0.0.1", "port": free_port, "dsmr_version": "5"}
    )
    assert result["errors"] == {"base": "dsmr_cannot_connect"}
    server.greeting = b""
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": "127.0.0.1", "port": server.port, "dsmr_version": "5"}
    )
    assert result["errors"] == {"base": "dsmr_no_telegram"}
    server.greeting = V5.replace(b"!6EEE", b"!0000")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": "127.0.0.1", "port": server.port, "dsmr_version": "5"}
    )
    assert result["errors"] == {"base": "dsmr_invalid_telegrams"}


async def test_read_errors_mapped(hass: HomeAssistant) -> None:
    """A connect timeout / serial error surfaces as cannot-connect."""
    flow_id = await start(hass, "dsmr_network")
    with patch(f"{READER}.async_read_one_telegram", AsyncMock(side_effect=OSError("x"))):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"host": "192.0.2.1", "port": 2323, "dsmr_version": "4"}
        )
    assert result["errors"] == {"base": "dsmr_cannot_connect"}


@pytest.mark.usefixtures("mock_setup_entry")
async def test_serial_flow_through_pty(hass: HomeAssistant) -> None:
    """Serial: ports are offered by path; a telegram is read through a pseudo-terminal."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    options = [{"value": path, "label": f"{path} (P1 cable)"}]
    try:
        with patch(f"{FLOW}.list_serial_ports", return_value=options):
            flow_id = await start(hass, "dsmr_serial")
            with patch(f"{FLOW}.TEST_TELEGRAM_TIMEOUT", 5):
                hass.loop.call_later(0.2, lambda: os.write(master, V5))
                result = await hass.config_entries.flow.async_configure(
                    flow_id, {"path": path, "dsmr_version": "5"}
                )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"]["connection_type"] == "serial"
        assert result["data"]["path"] == path
        assert result["result"].unique_id == V5_ID
    finally:
        os.close(master)
        os.close(slave)


async def test_serial_flow_error(hass: HomeAssistant) -> None:
    """A path that is no serial port: cannot connect, form shown again."""
    with patch(f"{FLOW}.list_serial_ports", return_value=[]):
        flow_id = await start(hass, "dsmr_serial")
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"path": "/dev/does-not-exist", "dsmr_version": "5"}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "dsmr_cannot_connect"}


@pytest.mark.usefixtures("mock_setup_entry")
async def test_encrypted_meter_flow(hass: HomeAssistant, server: P1Server) -> None:
    """Encrypted meter: keys are asked, checked, and used for the test read."""
    server.greeting = encrypted_frame(with_crc(SAGEMCOM_PLAIN))
    flow_id = await start(hass, "dsmr_network")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": "127.0.0.1", "port": server.port, "dsmr_version": "SAGEMCOM_T210_D"}
    )
    assert result["step_id"] == "dsmr_keys"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"encryption_key": "12", "authentication_key": AUTH_KEY}
    )
    assert result["errors"] == {"encryption_key": "dsmr_invalid_key"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"encryption_key": AUTH_KEY, "authentication_key": KEY}
    )
    assert result["errors"] == {"base": "dsmr_invalid_telegrams"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"encryption_key": KEY.lower(), "authentication_key": AUTH_KEY}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Smart meter (127.0.0.1:{server.port})"
    # No identifier in the telegram: an id of the entry's own, not the address.
    assert result["result"].unique_id.startswith("dsmr_")
    assert str(server.port) not in result["result"].unique_id
    assert result["data"]["encryption_key"] == KEY


@pytest.mark.usefixtures("mock_setup_entry")
async def test_encrypted_serial_goes_to_keys(hass: HomeAssistant) -> None:
    with patch(f"{FLOW}.list_serial_ports", return_value=[]):
        flow_id = await start(hass, "dsmr_serial")
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"path": "/dev/ttyUSB0", "dsmr_version": "SAGEMCOM_T210_D"}
        )
    assert result["step_id"] == "dsmr_keys"


async def test_reconfigure_network(hass: HomeAssistant, server: P1Server, free_port: int) -> None:
    """Reconfigure: errors, another meter refused, the same meter on a new port saved."""
    entry = make_entry(1, "5", unique_id=V5_ID)
    entry.add_to_hass(hass)
    with patch("custom_components.pv_monitor.async_setup_entry", AsyncMock(return_value=True)):
        result = await entry.start_reconfigure_flow(hass)
        assert result["step_id"] == "reconfigure_dsmr"
        flow_id = result["flow_id"]
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"host": "bad host!", "port": server.port, "dsmr_version": "5"}
        )
        assert result["errors"] == {"host": "invalid_host"}
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"host": "127.0.0.1", "port": free_port, "dsmr_version": "5"}
        )
        assert result["errors"] == {"base": "dsmr_cannot_connect"}
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"host": "127.0.0.1", "port": server.port, "dsmr_version": "5"}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert entry.data["port"] == server.port

        server.greeting = telegram("v5_two_mbus")
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": "127.0.0.1", "port": server.port, "dsmr_version": "5"}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "dsmr_wrong_meter"


async def test_reconfigure_serial_and_keys(hass: HomeAssistant) -> None:
    """Serial entries are reconfigured by path; encrypted versions need valid keys."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="x",
        data={"kind": "dsmr", "connection_type": "serial", "path": "/dev/a", "dsmr_version": "5"},
    )
    entry.add_to_hass(hass)
    with patch(f"{FLOW}.list_serial_ports", return_value=[]):
        result = await entry.start_reconfigure_flow(hass)
        assert result["step_id"] == "reconfigure_dsmr"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {"path": "/dev/b", "dsmr_version": "SAGEMCOM_T210_D", "encryption_key": "zz"},
        )
    assert result["errors"] == {
        "encryption_key": "dsmr_invalid_key",
        "authentication_key": "dsmr_invalid_key",
    }
    with (
        patch(f"{FLOW}.list_serial_ports", return_value=[]),
        patch(f"{READER}.async_read_one_telegram", AsyncMock(side_effect=OSError)),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"path": "/dev/b", "dsmr_version": "5"}
        )
    assert result["errors"] == {"base": "dsmr_cannot_connect"}


async def test_options_flow(hass: HomeAssistant) -> None:
    entry = make_entry(1, "5")
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "dsmr_options"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"power_interval": 0, "reconnect_interval": 10, "max_power_kw": 17.25}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        "power_interval": 0.0,
        "reconnect_interval": 10.0,
        "max_power_kw": 17.25,
    }


def test_list_serial_ports() -> None:
    """Ports are listed by their /dev/serial/by-id link when there is one."""
    ports = [
        SimpleNamespace(device="/dev/ttyUSB0", description="FT232R USB UART", manufacturer="FTDI"),
        SimpleNamespace(device="/dev/ttyS0", description="n/a", manufacturer=None),
    ]
    link = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A1-if00-port0"
    with (
        patch(f"{FLOW}.list_ports.comports", return_value=ports),
        patch(f"{FLOW}.os.path.isdir", return_value=True),
        patch(f"{FLOW}.os.listdir", return_value=[link.rsplit("/", 1)[1]]),
        patch(
            f"{FLOW}.os.path.realpath",
            side_effect=lambda p: "/dev/ttyUSB0" if p in (link, "/dev/ttyUSB0") else p,
        ),
    ):
        options = list_serial_ports()
    assert options == [
        {"value": "/dev/ttyS0", "label": "/dev/ttyS0"},
        {"value": link, "label": f"{link} (FT232R USB UART, FTDI)"},
    ]


async def test_encrypted_frames_on_a_plain_version(hass: HomeAssistant, server: P1Server) -> None:
    """Sagemcom frames read as DSMR 5: the error points to the Sagemcom option and keys."""
    server.greeting = encrypted_frame(with_crc(SAGEMCOM_PLAIN))
    flow_id = await start(hass, "dsmr_network")
    with patch(f"{FLOW}.TEST_TELEGRAM_TIMEOUT", 0.3):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"host": "127.0.0.1", "port": server.port, "dsmr_version": "5"}
        )
    assert result["errors"] == {"base": "dsmr_encrypted_frames"}


@pytest.mark.usefixtures("mock_setup_entry")
async def test_sagemcom_reconfigure_to_a_new_port(hass: HomeAssistant, server: P1Server) -> None:
    """An encrypted meter sends no identifier: its unique id is the entry's own, so it
    survives a move to another port (the old ``dsmr_host:port`` ids too)."""
    frame = encrypted_frame(with_crc(SAGEMCOM_PLAIN))
    server.greeting = frame
    flow_id = await start(hass, "dsmr_network")
    await hass.config_entries.flow.async_configure(
        flow_id, {"host": "127.0.0.1", "port": server.port, "dsmr_version": "SAGEMCOM_T210_D"}
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"encryption_key": KEY, "authentication_key": AUTH_KEY}
    )
    entry = result["result"]
    unique_id = entry.unique_id
    # The same connection again is refused although there is no identifier to compare.
    flow_id = await start(hass, "dsmr_network")
    await hass.config_entries.flow.async_configure(
        flow_id, {"host": "127.0.0.1", "port": server.port, "dsmr_version": "SAGEMCOM_T210_D"}
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"encryption_key": KEY, "authentication_key": AUTH_KEY}
    )
    assert result["reason"] == "already_configured"

    moved = P1Server(greeting=frame)
    await moved.start()
    legacy = make_entry(1, "SAGEMCOM_T210_D", unique_id="dsmr_127.0.0.1:1")
    legacy.add_to_hass(hass)
    try:
        for target in (entry, legacy):
            result = await hass.config_entries.flow.async_init(
                DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": target.entry_id}
            )
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"],
                {
                    "host": "127.0.0.1",
                    "port": moved.port,
                    "dsmr_version": "SAGEMCOM_T210_D",
                    "encryption_key": KEY,
                    "authentication_key": AUTH_KEY,
                },
            )
            assert result["reason"] == "reconfigure_successful"
            assert target.data["port"] == moved.port
    finally:
        await moved.stop()
    assert entry.unique_id == unique_id
    assert legacy.unique_id == "dsmr_127.0.0.1:1"
