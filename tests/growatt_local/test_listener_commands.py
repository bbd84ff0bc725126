"""Register commands end to end: a fake datalogger on loopback against the real listener.

The datalogger (:class:`.dongle.CommandDongle`) announces with a captured announce and
answers 0x05/0x06/0x10 with the layout of the captured answers (sources in
``tests/fixtures/growatt/commands/README.md``). Every request the listener sends is
checked byte for byte against the frame the encoder, itself checked against the captures
in ``test_commands.py``, gives for the sequence number used. Time is driven with
``async_fire_time_changed`` (the listener's timers are the loop's); no real sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
from datetime import timedelta
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.pv_monitor.growatt_local.protocol import commands, messages, proxy
from custom_components.pv_monitor.growatt_local.protocol.command_queue import (
    CommandRejected,
    CommandTimeout,
    CommandUnavailable,
)
from custom_components.pv_monitor.growatt_local.protocol.framing import decode_frame, encode_frame
from custom_components.pv_monitor.growatt_local.protocol.server import (
    GrowattListener,
    ListenerConfig,
)
from tests.helpers import until

from .dongle import CommandDongle, FakeGrowattServer
from .fixtures import capture
from .test_limits import Recorder as _Recorder

ANNOUNCE_V6 = capture("shine2mqtt_v6_0103_announce_1").raw
"""MIC 3000TL-X (MLG0A12345) behind ShineWiFi-X XGDABCDEFG, protocol 6 (bremme/shine2mqtt)."""
DATA_V6 = capture("shine2mqtt_v6_0104_data_1").raw
PING_V6 = capture("shine2mqtt_v6_0116_ping_1").raw
ANNOUNCE_V5 = capture("gm_data1_v5_0103_announce_from_logger_04").raw
"""Inverter 1VZG8211B7 behind JPC492227A, protocol 5 (vnbaaij/GrowattMonitor)."""
DATALOGGER, INVERTER = "XGDABCDEFG", "MLG0A12345"
REGISTERS = {r: 100 + r for r in range(30)} | {3: 100}
"""The fake inverter's holding registers (register 3: active power rate, 100 %)."""


class Recorder(_Recorder):
    """test_limits' handler, with the proxy's and the caps' events ignored."""

    def limit_reached(self, kind: str, peer: str, serial: str) -> None:
        """Ignore."""

    def backlog_changed(self, serial: str) -> None:
        """Ignore."""


def later(hass: HomeAssistant, seconds: float) -> None:
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))


@contextlib.asynccontextmanager
async def running(config: ListenerConfig) -> AsyncGenerator[GrowattListener]:
    listener = GrowattListener(config, Recorder())
    await listener.start()
    try:
        yield listener
    finally:
        await listener.stop()


async def announced(
    listener: GrowattListener, announce: bytes = ANNOUNCE_V6, inverter: str = INVERTER
) -> CommandDongle:
    """A datalogger connected, announced, answering commands, and its inverter commandable."""
    port = listener.bound_port
    assert port is not None
    dongle = await CommandDongle.connect(port)
    frame = decode_frame(announce)
    serial = messages.datalogger_serial(frame)
    assert serial is not None
    dongle.answer_commands(serial, frame.protocol, REGISTERS)
    await dongle.send(announce)
    await until(lambda: listener.commands_available(inverter))
    return dongle


def expected_request(dongle: CommandDongle, index: int, build: object, *args: object) -> bytes:
    """The encoder's frame for the seq the listener used in ``dongle.commands[index]``."""
    sent = dongle.commands[index]
    assert callable(build)
    frame: bytes = build(sent.seq, sent.protocol, sent.unit, dongle.serial, *args)
    return frame


@pytest.fixture
async def listener(socket_enabled: None) -> AsyncGenerator[GrowattListener]:
    async with running(ListenerConfig(host="127.0.0.1", port=0, command_timeout=10.0)) as lst:
        yield lst


async def test_read_write_and_read_back(hass: HomeAssistant, listener: GrowattListener) -> None:
    dongle = await announced(listener)
    assert not listener.commands_available("XXXXXXXXXX")
    assert await listener.async_read_registers(INVERTER, 0, 10) == {
        r: REGISTERS[r] for r in range(11)
    }
    assert dongle.commands[0].raw == expected_request(dongle, 0, commands.read_registers, 0, 10)
    assert dongle.commands[0].unit == 1  # the announce's unit
    # Write 50 % into register 3, then the read-back.
    assert await listener.async_write_register(INVERTER, 3, 50) == 50
    assert dongle.commands[1].raw == expected_request(dongle, 1, commands.write_register, 3, 50)
    assert dongle.commands[2].raw == expected_request(dongle, 2, commands.read_registers, 3, 3)
    assert await listener.async_write_registers(INVERTER, 20, [7, 8]) == {20: 7, 21: 8}
    assert dongle.commands[3].raw == expected_request(
        dongle, 3, commands.write_registers, 20, [7, 8]
    )
    assert len({c.seq for c in dongle.commands}) == 5  # a new seq per command
    stats = listener.command_stats
    assert (stats.sent, stats.answered, stats.retries, stats.stray) == (5, 5, 0, 0)
    await dongle.close()


async def test_protocol_5(hass: HomeAssistant, listener: GrowattListener) -> None:
    """Protocol 5: 10-byte serial field, scrambled, CRC."""
    dongle = await announced(listener, ANNOUNCE_V5, "1VZG8211B7")
    assert await listener.async_read_registers("1VZG8211B7", 3, 4) == {3: 100, 4: 104}
    sent = dongle.commands[0]
    assert sent.protocol == 5
    assert sent.payload == b"JPC492227A" + bytes.fromhex("00030004")
    await dongle.close()


async def test_timeout_retries_once_then_fails(
    hass: HomeAssistant, listener: GrowattListener
) -> None:
    dongle = await announced(listener)
    dongle.silent = 2
    task = hass.async_create_task(listener.async_read_registers(INVERTER, 3, 3))
    await until(lambda: len(dongle.commands) == 1)
    later(hass, 11)
    await until(lambda: len(dongle.commands) == 2)
    assert dongle.commands[1].raw == dongle.commands[0].raw  # the same bytes, same seq
    later(hass, 22)
    with pytest.raises(CommandTimeout):
        await task
    assert listener.command_stats.timeouts == 1
    # The connection still serves: the next command is answered.
    assert await listener.async_read_registers(INVERTER, 3, 3) == {3: 100}
    await dongle.close()


async def test_rejected_write_sends_no_read_back(
    hass: HomeAssistant, listener: GrowattListener
) -> None:
    dongle = await announced(listener)
    dongle.reject = {0}
    with pytest.raises(CommandRejected):
        await listener.async_write_register(INVERTER, 0, 0)
    assert [c.function for c in dongle.commands] == [0x06]
    with pytest.raises(CommandRejected):  # a read the inverter did not answer
        await listener.async_read_registers(INVERTER, 100, 101)
    with pytest.raises(ValueError, match="unsigned 16-bit"):  # refused, nothing sent
        await listener.async_write_register(INVERTER, 3, 70000)
    assert len(dongle.commands) == 2
    await dongle.close()


async def test_disconnect_mid_command(hass: HomeAssistant, listener: GrowattListener) -> None:
    dongle = await announced(listener)
    dongle.silent = 5
    task = hass.async_create_task(listener.async_read_registers(INVERTER, 3, 3))
    await until(lambda: len(dongle.commands) == 1)
    await dongle.close()
    with pytest.raises(CommandUnavailable):
        await task
    assert not listener.commands_available(INVERTER)
    with pytest.raises(CommandUnavailable):
        await listener.async_read_registers(INVERTER, 3, 3)
    # A bad argument is refused as such, before the missing connection is noticed.
    with pytest.raises(ValueError, match="at most 125"):
        await listener.async_read_registers(INVERTER, 0, 200)
    assert listener.command_stats.unavailable == 2


async def test_protocol_2(hass: HomeAssistant, listener: GrowattListener) -> None:
    """Protocol 2 (old ShineWiFi firmware): plain frames, no CRC, 10-byte serial field.

    No public capture of a register command on protocol 2 exists: the datalogger here
    answers with frames WE BUILD in the layout grott ``grottserver.py`` reads on protocol 2.
    """
    announce = capture("vromans_v2_0103_announce_02").raw
    frame = decode_frame(announce)
    inverter = messages.inverter_serial(frame)
    dongle = await announced(listener, announce, inverter)
    assert await listener.async_write_register(inverter, 3, 42) == 42
    sent = dongle.commands[0]
    assert sent.raw == commands.write_register(sent.seq, 2, frame.unit, dongle.serial, 3, 42)
    assert sent.raw[8:] == dongle.serial.encode() + bytes.fromhex("0003002a")  # plain, no CRC
    await dongle.close()


async def test_records_pings_and_strays_between_answers(
    hass: HomeAssistant, listener: GrowattListener
) -> None:
    """Records and pings glued before an answer are acked/echoed and decoded; unsolicited,
    late and malformed answers are counted and dropped; the right command completes."""
    dongle = await announced(listener)
    handler = listener.handler
    assert isinstance(handler, Recorder)
    before = len(handler.records)
    dongle.before_answer = [DATA_V6, PING_V6]
    assert await listener.async_read_registers(INVERTER, 5, 6) == {5: 105, 6: 106}
    await until(lambda: len(handler.records) == before + 1)
    await until(lambda: any(f.function == 0x04 for f in dongle.inbox))
    assert any(f.raw == PING_V6 for f in dongle.inbox)
    # Unsolicited answer (no command outstanding), then a late one (seq of the finished read).
    stray = dongle.answer(decode_frame(commands.read_registers(999, 6, 1, DATALOGGER, 9, 9)))
    late = dongle.answer(dongle.commands[-1])
    await dongle.send(stray, late)
    await until(lambda: listener.command_stats.late == 1)
    assert listener.command_stats.stray == 1
    # A malformed answer (OUR frame: a value short) while a read is outstanding.
    dongle.silent = 1
    count = len(dongle.commands)
    task = hass.async_create_task(listener.async_read_registers(INVERTER, 7, 8))
    await until(lambda: len(dongle.commands) == count + 1)
    sent = dongle.commands[-1]
    short = messages.serial_field(DATALOGGER, 6) + bytes.fromhex("0007000800ff")
    dropped = listener.stats.frames_dropped
    await dongle.send(encode_frame(sent.seq, 6, 1, 0x05, short))
    await until(lambda: listener.command_stats.malformed == 1)
    assert listener.stats.frames_dropped == dropped + 1
    assert not task.done()
    await dongle.send(dongle.answer(sent))
    assert await task == {7: 107, 8: 108}
    await dongle.close()


async def test_answers_of_another_datalogger_are_foreign(
    hass: HomeAssistant, listener: GrowattListener
) -> None:
    """An answer naming another datalogger serial never completes our command."""
    dongle = await announced(listener)
    dongle.silent = 1
    task = hass.async_create_task(listener.async_read_registers(INVERTER, 3, 3))
    await until(lambda: len(dongle.commands) == 1)
    sent = dongle.commands[0]
    forged = messages.serial_field("XGD0000000", 6) + bytes.fromhex("000300030000")
    await dongle.send(encode_frame(sent.seq, 6, 1, 0x05, forged))
    await until(lambda: listener.stats.frames_foreign == 1)
    assert not task.done()
    await dongle.send(dongle.answer(sent))
    assert await task == {3: 100}
    await dongle.close()


# -- proxy mode ------------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def proxied(
    local_commands: bool,
) -> AsyncGenerator[tuple[GrowattListener, FakeGrowattServer, CommandDongle]]:
    upstream = FakeGrowattServer()
    await upstream.start()
    config = ListenerConfig(
        host="127.0.0.1",
        port=0,
        proxy=True,
        upstream_host="127.0.0.1",
        upstream_port=upstream.port,
        allow_commands=True,
        local_commands=local_commands,
    )
    with patch.object(proxy, "UPSTREAM_BACKOFF", (0.01,)):
        async with running(config) as listener:
            port = listener.bound_port
            assert port is not None
            dongle = await CommandDongle.connect(port)
            dongle.answer_commands(DATALOGGER, 6, REGISTERS)
            await dongle.send(ANNOUNCE_V6)
            await until(lambda: any(s.upstream_connected for s in listener.sessions))
            await until(lambda: any(f.function == 0x03 for f in upstream.received))
            try:
                yield listener, upstream, dongle
            finally:
                await dongle.close()
    await upstream.stop()


def cloud_send(upstream: FakeGrowattServer, frame: bytes) -> None:
    next(iter(upstream.writers)).write(frame)


@pytest.mark.usefixtures("socket_enabled")
async def test_proxy_without_local_commands(hass: HomeAssistant) -> None:
    """No local commands; the cloud's own read (allowed) and its answer still pass."""
    async with proxied(local_commands=False) as (listener, upstream, dongle):
        await until(lambda: listener._by_serial[DATALOGGER].inverter_units != {})
        assert not listener.commands_available(INVERTER)
        with pytest.raises(CommandUnavailable):
            await listener.async_read_registers(INVERTER, 3, 3)
        cloud_read = commands.read_registers(40, 6, 1, DATALOGGER, 3, 3)
        cloud_send(upstream, cloud_read)
        await until(lambda: any(f.function == 0x05 for f in upstream.received))
        assert dongle.commands[0].raw == cloud_read
        answer = next(f for f in upstream.received if f.function == 0x05)
        assert commands.parse_answer(answer) == commands.RegisterValues(3, 3, (100,))


@pytest.mark.usefixtures("socket_enabled")
async def test_proxy_with_local_commands(hass: HomeAssistant) -> None:
    """Ours goes to the datalogger and its answer is not relayed; the cloud's command
    arriving meanwhile is held, then relayed, and its answer goes to the cloud."""
    async with proxied(local_commands=True) as (listener, upstream, dongle):
        await until(lambda: listener.commands_available(INVERTER))
        assert await listener.async_read_registers(INVERTER, 3, 4) == {3: 100, 4: 104}
        assert not any(f.function == 0x05 for f in upstream.received)
        # Ours outstanding (the datalogger is slow), the cloud reads register 3 meanwhile.
        dongle.silent = 1
        task = hass.async_create_task(listener.async_write_register(INVERTER, 3, 60))
        await until(lambda: len(dongle.commands) == 2)
        cloud_read = commands.read_registers(41, 6, 1, DATALOGGER, 3, 3)
        cloud_send(upstream, cloud_read)
        link = listener._by_serial[DATALOGGER].link
        assert link is not None
        await until(lambda: len(link.held) == 1)
        assert len(dongle.commands) == 2  # held, not sent
        later(hass, 11)  # our write is retried; answered this time
        assert await task == 60
        # The cloud's read went out after ours finished, before our read-back.
        functions = [(c.function, c.seq) for c in dongle.commands]
        assert (0x05, 41) in functions
        await until(lambda: any(f.function == 0x05 for f in upstream.received))
        to_cloud = [f for f in upstream.received if f.function in (0x05, 0x06)]
        assert [f.seq for f in to_cloud] == [41]  # only the cloud's own answer
        assert commands.parse_answer(to_cloud[0]) == commands.RegisterValues(3, 3, (60,))


@pytest.mark.usefixtures("socket_enabled")
async def test_proxy_cloud_command_unanswered_then_ours(hass: HomeAssistant) -> None:
    """Ours waits while a cloud command is out; if the datalogger never answers the cloud,
    ours goes after the command timeout. A cloud flood while ours is out stays bounded."""
    async with proxied(local_commands=True) as (listener, upstream, dongle):
        await until(lambda: listener.commands_available(INVERTER))
        dongle.silent = 1  # the cloud's read stays unanswered
        cloud_send(upstream, commands.read_registers(50, 6, 1, DATALOGGER, 3, 3))
        await until(lambda: len(dongle.commands) == 1)
        task = hass.async_create_task(listener.async_read_registers(INVERTER, 4, 4))
        for _ in range(100):
            await asyncio.sleep(0)
        assert len(dongle.commands) == 1  # ours waits for the cloud's answer
        later(hass, 11)  # the cloud's command expires
        assert await task == {4: 104}
        # The datalogger is slow on ours; the cloud sends 20 commands meanwhile.
        dongle.silent = 1
        task = hass.async_create_task(listener.async_read_registers(INVERTER, 5, 5))
        await until(lambda: len(dongle.commands) == 3)
        blocked = listener.stats.commands_blocked
        for seq in range(60, 80):
            cloud_send(upstream, commands.read_registers(seq, 6, 1, DATALOGGER, 3, 3))
        link = listener._by_serial[DATALOGGER].link
        assert link is not None
        await until(lambda: listener.stats.commands_blocked == blocked + 4)
        assert len(link.held) == proxy.HELD_CLOUD_COMMANDS
        later(hass, 11)  # ours is retried and answered; the 16 held ones go out
        assert await task == {5: 105}
        await until(lambda: len(dongle.commands) == 4 + proxy.HELD_CLOUD_COMMANDS)
        assert [c.seq for c in dongle.commands[4:]] == list(range(64, 80))
