"""The per-connection command queue: one outstanding command, retry once, bounded, matching.

Time is driven with ``async_fire_time_changed`` (the queue's timers are the event loop's);
no real sleeps. Answers are the captured JonasMH/Growatt2Mqtt frames where one fits
(``tests/fixtures/growatt/commands``), else frames built here (said next to each).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.pv_monitor.growatt_local.protocol import commands
from custom_components.pv_monitor.growatt_local.protocol.command_queue import (
    MAX_QUEUE,
    Command,
    CommandQueue,
    CommandRejected,
    CommandStats,
    CommandTimeout,
    CommandUnavailable,
    Offer,
)
from custom_components.pv_monitor.growatt_local.protocol.framing import (
    Frame,
    decode_frame,
    encode_frame,
)

from .test_commands import command_capture

SERIAL = "JPC7A420FJ"
FIELD = SERIAL.encode() + bytes(20)


def read_command(seq: int, first: int, last: int) -> Command:
    raw = commands.read_registers(seq, 6, 1, SERIAL, first, last)
    return Command(0x05, seq, first, last, raw)


def answer(seq: int, function: int, body: str) -> Frame:
    """An answer frame WE BUILT (protocol 6) with ``body`` after the serial field."""
    return decode_frame(encode_frame(seq, 6, 1, function, FIELD + bytes.fromhex(body)))


CAPTURED_READ_8 = "growatt2mqtt_v6_0105_read_answer_reg8"
"""Seq 1, register 8 = 3600 (JonasMH/Growatt2Mqtt)."""


class Wire:
    """What the queue sent, and the queue."""

    def __init__(self, timeout: float = 10.0, ready: bool = True) -> None:
        self.sent: list[bytes] = []
        self.stats = CommandStats()
        self.ready = ready
        self.idle = 0
        self.queue = CommandQueue(
            self.sent.append, self.stats, timeout, ready=lambda: self.ready, on_idle=self.count
        )

    def count(self) -> None:
        self.idle += 1


def later(hass: HomeAssistant, seconds: float) -> None:
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))


async def test_read_answered_by_captured_frame(hass: HomeAssistant) -> None:
    wire = Wire()
    command = read_command(1, 8, 8)
    task = hass.async_create_task(wire.queue.run(command))
    await asyncio.sleep(0)
    assert wire.sent == [command.raw]
    assert wire.queue.busy
    frame = decode_frame(command_capture(CAPTURED_READ_8).raw)
    assert wire.queue.offer(frame) is Offer.ANSWER
    assert await task == commands.RegisterValues(8, 8, (3600,))
    assert not wire.queue.busy
    assert (wire.stats.sent, wire.stats.answered, wire.idle) == (1, 1, 1)
    # The same answer again is late: counted, consumed, completes nothing.
    assert wire.queue.offer(frame) is Offer.LATE
    assert wire.stats.late == 1


async def test_timeout_retries_once_with_the_same_bytes(hass: HomeAssistant) -> None:
    wire = Wire()
    command = read_command(1, 8, 8)
    task = hass.async_create_task(wire.queue.run(command))
    await asyncio.sleep(0)
    later(hass, 9)
    assert wire.sent == [command.raw]  # not yet
    later(hass, 11)
    assert wire.sent == [command.raw, command.raw]
    later(hass, 22)
    with pytest.raises(CommandTimeout):
        await task
    assert (wire.stats.sent, wire.stats.retries, wire.stats.timeouts) == (2, 1, 1)
    # The answer arriving after we gave up is late, never a completion.
    assert wire.queue.offer(decode_frame(command_capture(CAPTURED_READ_8).raw)) is Offer.LATE


async def test_answer_after_the_retry_completes_it(hass: HomeAssistant) -> None:
    wire = Wire()
    task = hass.async_create_task(wire.queue.run(read_command(1, 8, 8)))
    await asyncio.sleep(0)
    later(hass, 11)
    assert len(wire.sent) == 2
    assert wire.queue.offer(decode_frame(command_capture(CAPTURED_READ_8).raw)) is Offer.ANSWER
    assert (await task).values == (3600,)  # type: ignore[union-attr]


async def test_rejections(hass: HomeAssistant) -> None:
    """Result byte 0x01 (shine2mqtt's NACK) and a read without values: CommandRejected."""
    wire = Wire()
    raw = commands.write_register(1, 6, 1, SERIAL, 3, 50)
    task = hass.async_create_task(wire.queue.run(Command(0x06, 1, 3, 3, raw)))
    await asyncio.sleep(0)
    assert wire.queue.offer(answer(1, 0x06, "0003010064")) is Offer.ANSWER  # OUR frame
    with pytest.raises(CommandRejected):
        await task
    task = hass.async_create_task(wire.queue.run(read_command(2, 3, 4)))
    await asyncio.sleep(0)
    assert wire.queue.offer(answer(2, 0x05, "00030004")) is Offer.ANSWER  # OUR frame
    with pytest.raises(CommandRejected):
        await task
    assert wire.stats.rejected == 2


async def test_strays_malformed_and_wrong_registers_complete_nothing(hass: HomeAssistant) -> None:
    wire = Wire()
    task = hass.async_create_task(wire.queue.run(read_command(1, 8, 8)))
    await asyncio.sleep(0)
    # OUR frames: a read of other registers, with our seq and with another; a write answer.
    assert wire.queue.offer(answer(1, 0x05, "000900090001")) is Offer.NOT_OURS
    assert wire.queue.offer(answer(77, 0x05, "000900090001")) is Offer.NOT_OURS
    assert wire.queue.offer(answer(1, 0x06, "0008000001")) is Offer.NOT_OURS
    assert wire.queue.offer(answer(1, 0x05, "00080008ff")) is Offer.MALFORMED
    assert wire.stats.malformed == 1
    assert not task.done()
    assert wire.queue.offer(decode_frame(command_capture(CAPTURED_READ_8).raw)) is Offer.ANSWER
    assert (await task).values == (3600,)  # type: ignore[union-attr]


async def test_unechoed_sequence_number_still_matches(hass: HomeAssistant) -> None:
    """A datalogger that does not echo our seq: function and registers suffice (unless the
    seq is one of our finished commands: then the answer is late)."""
    wire = Wire()
    task = hass.async_create_task(wire.queue.run(read_command(5, 8, 8)))
    await asyncio.sleep(0)
    assert wire.queue.offer(decode_frame(command_capture(CAPTURED_READ_8).raw)) is Offer.ANSWER
    await task
    task = hass.async_create_task(wire.queue.run(read_command(6, 8, 8)))
    await asyncio.sleep(0)
    # Seq 5 belongs to the finished command: late, not an answer to seq 6.
    assert wire.queue.offer(answer(5, 0x05, "000800080e10")) is Offer.LATE
    assert not task.done()
    assert wire.queue.offer(answer(6, 0x05, "000800080e11")) is Offer.ANSWER
    assert (await task).values == (3601,)  # type: ignore[union-attr]


async def test_one_outstanding_in_order(hass: HomeAssistant) -> None:
    wire = Wire()
    tasks = [hass.async_create_task(wire.queue.run(read_command(s, s, s))) for s in (1, 2, 3)]
    await asyncio.sleep(0)
    assert len(wire.sent) == 1
    assert len(wire.queue) == 3
    for seq in (1, 2, 3):
        assert (
            wire.queue.offer(answer(seq, 0x05, f"{seq:04x}{seq:04x}{seq * 10:04x}")) is Offer.ANSWER
        )
        assert len(wire.sent) == min(seq + 1, 3)
    assert [(await t).values for t in tasks] == [(10,), (20,), (30,)]  # type: ignore[union-attr]


async def test_bounded_queue_and_lost_connection(hass: HomeAssistant) -> None:
    """A stuck datalogger: 16 commands held, the 17th refused at once; closing fails all."""
    wire = Wire()
    tasks = [hass.async_create_task(wire.queue.run(read_command(s, s, s))) for s in range(1, 17)]
    await asyncio.sleep(0)
    assert len(wire.queue) == MAX_QUEUE
    with pytest.raises(CommandUnavailable):
        await wire.queue.run(read_command(99, 1, 1))
    wire.queue.close()
    for task in tasks:
        with pytest.raises(CommandUnavailable):
            await task
    assert len(wire.queue) == 0
    assert wire.stats.unavailable == 17
    with pytest.raises(CommandUnavailable):
        await wire.queue.run(read_command(100, 1, 1))
    later(hass, 30)  # no timer left to fire
    assert len(wire.sent) == 1


async def test_ready_holds_commands_until_kicked(hass: HomeAssistant) -> None:
    """Proxy mode: ours waits while the cloud's command is out (``ready`` False)."""
    wire = Wire(ready=False)
    task = hass.async_create_task(wire.queue.run(read_command(1, 8, 8)))
    await asyncio.sleep(0)
    assert wire.sent == []
    wire.ready = True
    wire.queue.kick()
    assert len(wire.sent) == 1
    wire.queue.offer(decode_frame(command_capture(CAPTURED_READ_8).raw))
    await task


async def test_cancelled_caller_is_skipped(hass: HomeAssistant) -> None:
    wire = Wire()
    first = hass.async_create_task(wire.queue.run(read_command(1, 8, 8)))
    second = hass.async_create_task(wire.queue.run(read_command(2, 9, 9)))
    third = hass.async_create_task(wire.queue.run(read_command(3, 10, 10)))
    await asyncio.sleep(0)
    second.cancel()
    await asyncio.sleep(0)
    wire.queue.offer(decode_frame(command_capture(CAPTURED_READ_8).raw))
    await first
    assert wire.sent[-1] == read_command(3, 10, 10).raw  # the cancelled one never went out
    first.cancel()  # cancelling a finished caller changes nothing
    wire.queue.offer(answer(3, 0x05, "000a000a0001"))
    assert (await third).values == (1,)  # type: ignore[union-attr]


async def test_close_twice_and_idle(hass: HomeAssistant) -> None:
    wire = Wire()
    wire.queue.close()
    wire.queue.close()
    assert wire.stats.unavailable == 0  # nothing was pending
    assert not wire.queue.busy
