"""A real datalogger keeps being served while 200 broken or hostile clients misbehave."""

from __future__ import annotations

import asyncio
import contextlib
import random

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.growatt_local.protocol import messages
from custom_components.pv_monitor.growatt_local.protocol.framing import decode_frame
from tests.helpers import until

from .fixtures import capture
from .test_local import play_growattmonitor

GARBAGE_CLIENTS = 200


async def misbehave(
    port: int, kind: int, rng: random.Random, half_open: list[asyncio.StreamWriter]
) -> None:
    """One bad client: random bytes, a slow drip of a partial frame, or half-open."""
    with contextlib.suppress(OSError):
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            if kind == 0:  # random bytes, several writes
                for _ in range(4):
                    writer.write(rng.randbytes(rng.randrange(1, 1500)))
                    await writer.drain()
                    await asyncio.sleep(0)
            elif kind == 1:  # slow drip of a frame that never completes
                frame = capture("shine2mqtt_v6_0104_data_1").raw
                for byte in frame[:40]:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(0)
            else:  # half-open: connect, send nothing, keep the socket
                half_open.append(writer)
        finally:
            if kind != 2:
                writer.close()


async def test_real_datalogger_served_during_garbage_storm(
    hass: HomeAssistant, init_integration: MockConfigEntry, free_port: int
) -> None:
    """Every ack of the real datalogger is right and every record reaches HA."""
    entry = init_integration
    coordinator = entry.runtime_data
    dongle = await play_growattmonitor(hass, free_port)
    before = coordinator.listener.stats.records_live
    rng = random.Random(7)
    half_open: list[asyncio.StreamWriter] = []
    storm = [
        asyncio.create_task(misbehave(free_port, i % 3, rng, half_open))
        for i in range(GARBAGE_CLIENTS)
    ]
    data = [
        capture("gm_data1_v5_0104_data_from_logger_23").raw,
        capture("gm_data1_v5_0104_data_from_logger_26").raw,
    ]
    for i in range(20):
        frame = data[i % 2]
        await dongle.send(frame)
        await dongle.expect_raw(messages.ack(decode_frame(frame)))
    await asyncio.gather(*storm)
    assert coordinator.listener.stats.records_live == before + 20
    stats = coordinator.listener.stats
    await until(lambda: stats.connections_total >= 1 + GARBAGE_CLIENTS)
    # The cap (64) was reached and silent clients were evicted; the datalogger never was.
    assert stats.evicted + stats.closed_errors > 0
    assert coordinator.data.dataloggers["JPC492227A"].connected
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.datalogger_jpc492227a_connectivity").state == "on"
    await dongle.close()
    assert await hass.config_entries.async_unload(entry.entry_id)
    for writer in half_open:
        writer.close()
