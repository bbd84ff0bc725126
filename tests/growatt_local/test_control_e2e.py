"""Inverter control end to end: a real config entry, its listener, a datalogger on loopback.

The datalogger is :class:`.dongle.CommandDongle`: it announces and reports with the
captures of bremme/shine2mqtt (MIC 3000TL-X ``MLG0A12345`` behind ShineWiFi-X
``XGDABCDEFG``, protocol 6) and answers 0x05/0x06 with the layout of the captured
answers (``tests/fixtures/growatt/commands/README.md``). Every frame Home Assistant sends
is compared byte for byte with the encoder's frame (itself checked against the captured
requests in ``test_commands.py``) for the sequence number it used. Command timeouts are
driven with ``async_fire_time_changed``; no real sleeps.
"""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.growatt_local.control import READ_DELAY
from custom_components.pv_monitor.growatt_local.protocol import commands
from tests.helpers import until

from .dongle import CommandDongle, FakeGrowattServer
from .fixtures import make_entry, setup_entry
from .test_listener_commands import ANNOUNCE_V6, DATA_V6, DATALOGGER, INVERTER, expected_request

HOLDING = {0: 1, 1: 0, 2: 0, 3: 100, 122: 0, 123: 0}
"""The TL-X's control registers: on, 100 %, export limit off at 0.0 % (V1.24 meanings)."""
pytestmark = pytest.mark.control_reads

RATE = "number.inverter_mlg0a12345_active_power_rate"
LIMIT = "number.inverter_mlg0a12345_export_limit"


async def _connect(
    hass: HomeAssistant, port: int, holding: dict[int, int] = HOLDING, read: bool = True
) -> CommandDongle:
    """The datalogger connects, announces and sends a TL-X record, answering commands.

    Sent in one write: the answers the dongle sends meanwhile must not cut into them.
    """
    dongle = await CommandDongle.connect(port)
    dongle.answer_commands(DATALOGGER, 6, holding)
    await dongle.send(ANNOUNCE_V6, DATA_V6, split=False)
    if read:  # the read is due READ_DELAY after the record
        control = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.control
        await until(lambda: INVERTER in control.inverters and control.inverters[INVERTER].reading)
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=READ_DELAY + 1))
    return dongle


def _unique_id(hass: HomeAssistant) -> str | None:
    reg_entry = er.async_get(hass).async_get(RATE)
    return reg_entry.unique_id if reg_entry is not None else None


async def _set(hass: HomeAssistant, entity_id: str, value: float) -> None:
    await hass.services.async_call(
        "number", "set_value", {"entity_id": entity_id, "value": value}, blocking=True
    )


async def test_read_creates_entities_and_write_sends_exact_frames(
    hass: HomeAssistant, free_port: int
) -> None:
    """Reading creates the entities; 50 % sends 0x06 (3, 50) then the read-back 0x05."""
    entry = make_entry(free_port)
    await setup_entry(hass, entry)
    dongle = await _connect(hass, free_port)
    await until(lambda: hass.states.get(LIMIT) is not None)
    assert [c.function for c in dongle.commands] == [0x05, 0x05]
    assert dongle.commands[0].raw == expected_request(dongle, 0, commands.read_registers, 0, 3)
    assert dongle.commands[1].raw == expected_request(dongle, 1, commands.read_registers, 122, 123)
    assert hass.states.get(RATE).state == "100"

    await _set(hass, RATE, 50)
    assert dongle.commands[2].raw == expected_request(dongle, 2, commands.write_register, 3, 50)
    assert dongle.commands[3].raw == expected_request(dongle, 3, commands.read_registers, 3, 3)
    assert hass.states.get(RATE).state == "50"
    assert dongle.registers[3] == 50

    # Out of range: refused before anything is sent (HA's own range and our allow-list).
    sent = len(await _wait_idle(hass, dongle))
    with pytest.raises(ServiceValidationError):
        await _set(hass, LIMIT, 100.5)
    device = dr.async_get(hass).async_get_device({(DOMAIN, INVERTER)})
    assert device is not None
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "write_register",
            {"device_id": device.id, "register": 123, "value": 1001},
            blocking=True,
        )
    assert len(dongle.commands) == sent
    await dongle.close()


async def _wait_idle(hass: HomeAssistant, dongle: CommandDongle) -> list[object]:
    """Let the re-read after a write finish; the commands sent so far."""
    await hass.async_block_till_done(wait_background_tasks=True)
    return list(dongle.commands)


async def test_timeout_keeps_old_state(hass: HomeAssistant, free_port: int) -> None:
    """The datalogger stays silent (command and retry): translated error, state kept."""
    entry = make_entry(free_port)
    await setup_entry(hass, entry)
    dongle = await _connect(hass, free_port)
    await until(lambda: hass.states.get(RATE) is not None)
    dongle.silent = 2
    task = hass.async_create_task(_set(hass, RATE, 20))
    await until(lambda: len(dongle.commands) == 3)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await until(lambda: len(dongle.commands) == 4)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=22))
    with pytest.raises(HomeAssistantError) as err:
        await task
    assert err.value.translation_key == "command_timeout"
    assert hass.states.get(RATE).state == "100"
    assert dongle.registers[3] == 100
    # The diagnostics download tells the story: one retry, one timeout, the read-back kept.
    diagnostics = entry.runtime_data.diagnostics()
    assert diagnostics["commands"]["retries"] == 1
    assert diagnostics["commands"]["timeouts"] == 1
    assert diagnostics["inverters"][INVERTER]["control_registers"]["3"] == 100
    await dongle.close()


@pytest.mark.parametrize(("local_commands", "created"), [(False, False), (True, True)])
async def test_proxy_mode_needs_local_commands(
    hass: HomeAssistant, free_port: int, local_commands: bool, created: bool
) -> None:
    """Proxy mode: no command and no entity unless "Allow local commands" is on."""
    upstream = FakeGrowattServer()
    await upstream.start()
    base = make_entry(free_port, local_commands=local_commands)
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=base.entry_id,
        title=base.title,
        unique_id=base.unique_id,
        data={**base.data, "mode": "proxy", "upstream_port": upstream.port},
        options=base.options,
    )
    await setup_entry(hass, entry)
    dongle = await _connect(hass, free_port, read=created)
    coordinator = entry.runtime_data
    await until(lambda: INVERTER in coordinator.data.inverters)
    if created:
        await until(lambda: hass.states.get(RATE) is not None)
    else:
        await hass.async_block_till_done(wait_background_tasks=True)
        assert hass.states.get(RATE) is None
        assert dongle.commands == []
        assert not coordinator.control.available(INVERTER)
    await dongle.close()
    await upstream.stop()


async def test_reconnect_reads_again_and_reload_keeps_unique_ids(
    hass: HomeAssistant, free_port: int
) -> None:
    """After a reconnection the registers are read again (a setting changed meanwhile on
    the display shows); after a reload the same entities come back at the next read."""
    entry = make_entry(free_port)
    await setup_entry(hass, entry)
    dongle = await _connect(hass, free_port)
    await until(lambda: hass.states.get(RATE) is not None)
    unique_id = _unique_id(hass)
    assert unique_id == f"{INVERTER}_active_power_rate"
    await dongle.close()
    await until(lambda: not entry.runtime_data.control.available(INVERTER))
    assert hass.states.get(RATE).state == "unavailable"

    dongle = await _connect(hass, free_port, {**HOLDING, 3: 80})
    await until(lambda: hass.states.get(RATE).state == "80")
    assert [c.function for c in dongle.commands] == [0x05, 0x05]

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await dongle.close()
    dongle = await _connect(hass, free_port)
    await until(lambda: hass.states.get(RATE).state == "100")
    assert _unique_id(hass) == unique_id
    await dongle.close()
