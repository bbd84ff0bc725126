"""Issue 13, cases 1-4, 8 and 9: hostile LAN clients against the listener inside HA.

The datalogger side is the real GrowattMonitor session (ShineWiFi-S JPC492227A, protocol 5,
``tests/fixtures/growatt``); forged frames are those real frames with serial fields changed
(the attack the issue describes), re-encoded with the project's framing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
import logging
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.growatt_local.protocol import messages, server
from custom_components.pv_monitor.growatt_local.protocol.framing import decode_frame, encode_frame
from custom_components.pv_monitor.growatt_local.protocol.records import (
    encode_record_payload,
    parse_record,
)
from tests.helpers import until

from .dongle import FakeDongle
from .fixtures import capture, make_entry, setup_entry
from .test_limits import raw_connect
from .test_local import play_growattmonitor

SERIAL = "JPC492227A"
INVERTER = "1VZG8211B7"
PING = capture("gm_data1_v5_0116_ping_both_echo_01").raw
DATA = capture("gm_data1_v5_0104_data_from_logger_23").raw


def forged_record(
    datalogger: bytes, inverter: bytes, seq: int = 7, template: bytes = DATA
) -> bytes:
    """The real protocol-5 data record with its two serial fields replaced (10 bytes each)."""
    frame = decode_frame(template)
    payload = datalogger.ljust(10, b"\x00") + inverter.ljust(10, b"\x00") + frame.payload[20:]
    return encode_frame(seq, frame.protocol, frame.unit, frame.function, payload)


def ping(serial_field: bytes, seq: int = 1) -> bytes:
    """A protocol-5 ping carrying ``serial_field`` (as the real ping carries JPC492227A)."""
    return encode_frame(seq, 5, 1, 0x16, serial_field)


def growatt_devices(hass: HomeAssistant) -> list[dr.DeviceEntry]:
    """Devices other than the listener's own service device."""
    return [
        d
        for d in dr.async_get(hass).devices.values()
        if d.entry_type is None and any(i[0] == DOMAIN for i in d.identifiers)
    ]


# -- case 1: allow-list bypass ------------------------------------------------------------------
@pytest.mark.parametrize(
    "field",
    [b"\x00" + SERIAL.encode()[:9], b" " + SERIAL.encode()[:9], b"\x00" * 10, b"jpc492227a"],
)
async def test_malformed_serial_is_never_acked_or_decoded(
    hass: HomeAssistant, free_port: int, field: bytes
) -> None:
    """A NUL/space-prefixed, empty or lowercase serial: closed, 0 acks, records, devices."""
    entry = make_entry(free_port, allowed_dataloggers=[SERIAL])
    await setup_entry(hass, entry)
    stats = entry.runtime_data.listener.stats
    attacker = await FakeDongle.connect(free_port)
    await attacker.send(forged_record(field, b"EVIL000001"), split=False)
    assert await attacker.closed()
    assert attacker.inbox == []
    await hass.async_block_till_done()
    assert stats.rejected_serial == 1
    assert stats.acks_sent == 0
    assert stats.records_live == 0
    assert entry.runtime_data.data.inverters == {}
    assert growatt_devices(hass) == []


async def test_identified_datalogger_cannot_send_for_another(
    hass: HomeAssistant, free_port: int
) -> None:
    """An allowed datalogger's records naming another datalogger are dropped and counted."""
    entry = make_entry(free_port, allowed_dataloggers=[SERIAL])
    await setup_entry(hass, entry)
    dongle = await play_growattmonitor(hass, free_port)
    stats = entry.runtime_data.listener.stats
    before = stats.records_live
    # Same connection, a record naming another datalogger (and a new inverter).
    await dongle.send(forged_record(b"XGD0000000", b"EVIL000001"), split=False)
    await dongle.send(ping(b"XGD0000000", seq=9), PING)
    await dongle.expect_raw(PING)  # only the real ping is answered
    await hass.async_block_till_done()
    assert stats.frames_foreign == 2
    assert stats.records_live == before
    assert set(entry.runtime_data.data.dataloggers) == {SERIAL}
    assert set(entry.runtime_data.data.inverters) == {INVERTER}
    await dongle.close()


async def test_invalid_inverter_serial_makes_no_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, free_port: int
) -> None:
    """Empty, NUL-prefixed or self-naming inverter serials: dropped, no device, no via self."""
    entry = init_integration
    dongle = await play_growattmonitor(hass, free_port)
    stats = entry.runtime_data.listener.stats
    for seq, field in enumerate((b"", b"\x00EVIL00001", SERIAL.encode()), start=20):
        record = forged_record(SERIAL.encode(), field, seq=seq)
        await dongle.send(record, split=False)
        await dongle.expect_raw(messages.ack(decode_frame(record)))
    await until(lambda: stats.records_bad_inverter == 3)
    await hass.async_block_till_done()
    assert set(entry.runtime_data.data.inverters) == {INVERTER}
    for device in growatt_devices(hass):
        assert device.via_device_id != device.id
    await dongle.close()


# -- case 2: unlimited devices -----------------------------------------------------------------
async def test_forged_inverter_flood_stops_at_the_cap(
    hass: HomeAssistant, init_integration: MockConfigEntry, free_port: int
) -> None:
    """1,000 forged inverter serials from one datalogger: 8 inverters, one repair issue."""
    entry = init_integration
    dongle = await play_growattmonitor(hass, free_port)
    records = [
        forged_record(SERIAL.encode(), f"EVIL{n:06d}".encode(), seq=n % 0xFFFF + 1)
        for n in range(1000)
    ]
    await dongle.send(*records, split=False)
    await dongle.receive(1000)
    listener = entry.runtime_data.listener
    await until(lambda: listener.stats.records_over_cap == 1000 - 7, rounds=100_000)
    await hass.async_block_till_done()
    assert len(entry.runtime_data.data.inverters) == server.DEFAULT_MAX_INVERTERS
    assert len(growatt_devices(hass)) == 1 + server.DEFAULT_MAX_INVERTERS
    issues = [
        i
        for i in ir.async_get(hass).issues.values()
        if i.domain == DOMAIN and i.translation_key == "device_limit"
    ]
    assert len(issues) == 1
    assert issues[0].translation_key == "device_limit"
    assert issues[0].translation_placeholders is not None
    assert issues[0].translation_placeholders["peer"] == "127.0.0.1"
    assert issues[0].translation_placeholders["serial"] == "EVI*******"
    await dongle.close()


async def test_forged_datalogger_flood_stops_at_the_cap(
    hass: HomeAssistant, free_port: int
) -> None:
    """Connections claiming new datalogger serials beyond the cap are closed unanswered."""
    entry = make_entry(free_port, max_dataloggers=2)
    await setup_entry(hass, entry)
    stats = entry.runtime_data.listener.stats
    served = []
    for n in range(5):
        dongle = await FakeDongle.connect(free_port)
        frame = ping(f"XGD000000{n}".encode())
        await dongle.send(frame, split=False)
        if n < 2:
            await dongle.expect_raw(frame)
            served.append(dongle)
        else:
            assert await dongle.closed()
    assert stats.rejected_cap == 3
    await hass.async_block_till_done()
    assert len(entry.runtime_data.data.dataloggers) == 2
    limits = [
        i
        for i in ir.async_get(hass).issues.values()
        if i.domain == DOMAIN and i.translation_key == "device_limit"
    ]
    assert len(limits) == 1
    for dongle in served:
        await dongle.close()


async def test_stale_devices_can_be_deleted(
    hass: HomeAssistant, free_port: int, hass_ws_client: WebSocketGenerator
) -> None:
    """A connected datalogger's devices stay; once stale they can be deleted and forgotten."""
    assert await async_setup_component(hass, "config", {})
    entry = make_entry(free_port)
    await setup_entry(hass, entry)
    dongle = await play_growattmonitor(hass, free_port)
    registry = dr.async_get(hass)
    logger = registry.async_get_device(identifiers={(DOMAIN, SERIAL)})
    inverter = registry.async_get_device(identifiers={(DOMAIN, INVERTER)})
    service = registry.async_get_device(identifiers={(DOMAIN, entry.entry_id)})
    assert logger is not None
    assert inverter is not None
    assert service is not None
    client = await hass_ws_client(hass)

    async def remove(device: dr.DeviceEntry) -> bool:
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": entry.entry_id,
                "device_id": device.id,
            }
        )
        msg = await client.receive_json()
        assert msg["success"] or msg["error"]["code"] != "unknown_command"
        return bool(msg["success"])

    assert not await remove(inverter)
    assert not await remove(logger)
    assert not await remove(service)
    await dongle.close()
    await until(lambda: not entry.runtime_data.data.dataloggers[SERIAL].connected)
    later = dt_util.utcnow() + timedelta(hours=1)
    with patch("homeassistant.util.dt.utcnow", return_value=later):
        assert await remove(inverter)
        assert await remove(logger)
    assert INVERTER not in entry.runtime_data.data.inverters
    assert SERIAL not in entry.runtime_data.listener.known_dataloggers


# -- case 3: lock-out --------------------------------------------------------------------------
async def test_hostile_connections_cannot_lock_out_the_datalogger(
    hass: HomeAssistant, free_port: int
) -> None:
    """64 NUL-serial pingers from one address, then 4,000 half-open connections from 250
    addresses: the configured datalogger, waiting 50 ms before its first frame, is served."""
    entry = make_entry(free_port, allowed_dataloggers=[SERIAL])
    await setup_entry(hass, entry)
    dongle = await play_growattmonitor(hass, free_port)  # known: its address is favoured
    await dongle.close()
    listener = entry.runtime_data.listener
    stats = listener.stats
    hostile = []
    for _ in range(64):
        conn = await raw_connect(free_port, "127.0.0.2")
        await conn.send(ping(b"\x00" + SERIAL.encode()[:9]), split=False)
        hostile.append(conn)
    for conn in hostile:
        assert await conn.closed()
    # Closed at their first frame, then refused outright as a failing address.
    assert stats.rejected_serial + stats.rejected_rate == 64

    half_open: list[asyncio.StreamWriter] = []
    loop = asyncio.get_running_loop()
    storm = [asyncio.create_task(half_open_flood(free_port, a, half_open)) for a in range(1, 251)]
    await until(lambda: len(half_open) >= 250)  # the storm is under way
    served = False
    attempts = 0
    started = loop.time()
    async with asyncio.timeout(30):
        while not served:
            attempts += 1
            real = await raw_connect(free_port, "127.0.0.1")
            # The datalogger stays silent while 250 more half-open connections arrive.
            target = min(len(half_open) + 250, 4000)
            await until(lambda: len(half_open) >= target)  # noqa: B023 - awaited here
            await real.send(PING, split=False)
            try:
                await real.expect_raw(PING)
                served = True
            except ConnectionError:
                await real.close()
    waited = loop.time() - started
    await asyncio.gather(*storm)
    print(
        f"\nserved after {attempts} attempt(s), {waited * 1000:.0f} ms; "
        f"{len(half_open)} half-open connects, {stats.connections_total} accepted in all, "
        f"{stats.evicted} evicted, {stats.rejected_limit} refused at the limit, "
        f"{stats.rejected_address} per address"
    )
    assert len(half_open) == 4000
    assert attempts <= 3
    assert entry.runtime_data.data.dataloggers[SERIAL].connected
    await real.close()
    for writer in half_open:
        writer.transport.abort()


async def half_open_flood(port: int, address: int, out: list[asyncio.StreamWriter]) -> None:
    """16 connections from ``127.0.1.<address>`` that never send anything."""
    for _ in range(16):
        try:
            _, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(f"127.0.1.{address}", 0)
            )
        except OSError:
            continue
        out.append(writer)


def test_max_connections_stays_below_the_descriptor_limit() -> None:
    """10,000 asked with 1,024 descriptors: half of them, halved again in proxy mode."""
    with patch.object(server.resource, "getrlimit", return_value=(1024, 4096)):
        assert server.effective_max_connections(10_000, proxy=False) == 512
        assert server.effective_max_connections(10_000, proxy=True) == 256
        assert server.effective_max_connections(64, proxy=True) == 64
        listener = server.GrowattListener(
            server.ListenerConfig(host="127.0.0.1", port=0, max_connections=10_000),
            None,  # type: ignore[arg-type]
        )
        assert listener.max_connections == 512
    with patch.object(
        server.resource, "getrlimit", return_value=(server.resource.RLIM_INFINITY,) * 2
    ):
        assert server.effective_max_connections(10_000, proxy=True) == 10_000


# -- case 4: spoofing --------------------------------------------------------------------------
async def test_spoofing_connection_changes_no_state(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    free_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A second address claiming the live datalogger: refused, counted, logged once; its
    0x19 answers (a 60-minute interval) and a ping-and-close loop change nothing."""
    entry = init_integration
    dongle = await play_growattmonitor(hass, free_port)
    coordinator = entry.runtime_data
    logger = coordinator.data.dataloggers[SERIAL]
    assert logger.data_interval == 60
    connectivity = "binary_sensor.datalogger_jpc492227a_connectivity"
    changes: list[str] = []
    hass.bus.async_listen(
        "state_changed",
        lambda e: (
            changes.append(e.data["entity_id"]) if e.data["entity_id"] == connectivity else None
        ),
    )
    interval = messages.parse_config_item(
        decode_frame(capture("gm_data1_v5_0119_identify_item04_from_logger_03").raw)
    )
    assert interval is not None
    fake_interval = encode_frame(3, 5, 1, 0x19, SERIAL.encode() + b"\x00\x04\x00\x0260")
    for _ in range(50):
        spoof = await raw_connect(free_port, "127.0.0.2")
        await spoof.send(PING, fake_interval, split=False)
        assert await spoof.closed()
        assert spoof.inbox == []
    await hass.async_block_till_done()
    stats = coordinator.listener.stats
    # Refused as duplicates, then refused outright as a failing address.
    assert stats.rejected_duplicate + stats.rejected_rate == 50
    assert stats.rejected_duplicate == server.PEER_FAILURE_LIMIT
    assert logger.data_interval == 60
    assert logger.connected
    assert changes == []
    refusals = [r for r in caplog.records if "claimed datalogger" in r.getMessage()]
    assert len(refusals) == 1
    assert SERIAL not in refusals[0].getMessage()
    await dongle.close()


async def test_get_config_on_unidentified_connection(
    hass: HomeAssistant, init_integration: MockConfigEntry, free_port: int
) -> None:
    """A 0x19 frame first: with a bad serial it closes the connection, raising nothing."""
    entry = init_integration
    stats = entry.runtime_data.listener.stats
    conn = await FakeDongle.connect(free_port)
    await conn.send(encode_frame(3, 5, 1, 0x19, b"\x00\x04\x00\x0260"), split=False)
    assert await conn.closed()
    assert stats.handler_errors == 0
    assert stats.rejected_serial == 1


# -- case 8: write spam ------------------------------------------------------------------------
async def test_counters_write_at_most_once_per_10_s(
    hass: HomeAssistant, init_integration: MockConfigEntry, free_port: int
) -> None:
    """3,000 bad frames and 1,000 buffered records: at most one state per counter per 10 s."""
    entry = init_integration
    dongle = await play_growattmonitor(hass, free_port)
    writes: dict[str, int] = {}

    def count(event: object) -> None:
        entity_id = event.data["entity_id"]  # type: ignore[attr-defined]
        writes[entity_id] = writes.get(entity_id, 0) + 1

    hass.bus.async_listen("state_changed", count)
    buffered = capture("gm_data1_v5_0150_data2_from_logger_28").raw
    bad = PING[:-1] + bytes([PING[-1] ^ 0xFF])  # CRC broken
    stats = entry.runtime_data.listener.stats
    other = ping(b"XGD0000001")  # another datalogger (one serial: each replaces the last)
    for _ in range(100):  # 30 bad frames per connection: within its error budget
        noisy = await FakeDongle.connect(free_port)
        for _ in range(30):
            await noisy.send(bad, other, split=False)
        await noisy.receive(30)
        await noisy.close()
    await dongle.send(*([buffered] * 1000), split=False)
    await dongle.receive(1000)
    await until(lambda: stats.records_buffered >= 1000, rounds=100_000)
    await hass.async_block_till_done()
    assert stats.frames_dropped == 3000
    assert stats.records_buffered >= 1000
    for key in ("dropped_frames", "buffered_records"):
        assert writes.get(f"sensor.growatt_datalogger_{key}", 0) <= 1
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await hass.async_block_till_done()
    assert hass.states.get("sensor.growatt_datalogger_buffered_records").state == str(
        stats.records_buffered
    )
    for key in ("dropped_frames", "buffered_records"):
        assert writes.get(f"sensor.growatt_datalogger_{key}", 0) <= 2
    await dongle.close()


# -- case 9: privacy ---------------------------------------------------------------------------
async def test_listener_logs_redact_serials(
    hass: HomeAssistant, free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Warnings and info lines name dataloggers by their model prefix only."""
    caplog.set_level(logging.INFO, "custom_components.pv_monitor")
    entry = make_entry(free_port, max_inverters=1)
    await setup_entry(hass, entry)
    dongle = await play_growattmonitor(hass, free_port)
    await dongle.send(forged_record(SERIAL.encode(), b"EVIL000001"), split=False)
    await dongle.receive(1)
    lowercase = await FakeDongle.connect(free_port)  # a serial that escapes redaction
    await lowercase.send(ping(b"jpc492227a"), split=False)
    assert await lowercase.closed()
    await dongle.send(b"\x00\x01\x00\x05\x00\x10" + bytes(16), split=False)  # a bad frame
    await until(lambda: entry.runtime_data.listener.stats.records_over_cap == 1)
    await hass.async_block_till_done()
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.pv_monitor") and r.levelno >= logging.INFO
    ]
    assert any("EVI*******" in line for line in lines)
    assert any("invalid serial field starting b'jpc'" in line for line in lines)
    for line in lines:
        for serial in (SERIAL, INVERTER, "EVIL000001"):
            assert serial.lower() not in line.lower()
    await dongle.close()


def test_serial_validation_examples() -> None:
    """Every real capture's serials pass; the bypasses of the issue do not."""
    assert messages.check_serial(b"JPC492227A") == "JPC492227A"
    assert messages.check_serial(b"XGDABCDEFG" + bytes(20)) == "XGDABCDEFG"
    for bad in (b"\x00JPC49222", b" JPC492227", b"jpc492227a", b"", b"JPC 9222", b"AB\x00CD"):
        with pytest.raises(messages.SerialError):
            messages.check_serial(bad)
    record = parse_record(decode_frame(DATA))
    assert dataclasses.replace(record).datalogger_serial == SERIAL
    assert encode_record_payload(record)[:10] == SERIAL.encode()
