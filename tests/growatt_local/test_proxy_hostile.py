"""Issue 13, cases 5-7: a misbehaving Growatt cloud against the proxy.

The datalogger is the real shine2mqtt protocol-6 session (ShineWiFi-X XGDABCDEFG, MIC
3000TL-X, ``tests/fixtures/growatt``); the cloud commands are encoded with the project's
encoders, which are byte-exact with the captured server frames. Real time is used only
where a socket must stay silent or close, scaled down and bounded (patched delays).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from custom_components.pv_monitor.growatt_local.protocol import messages, proxy
from custom_components.pv_monitor.growatt_local.protocol.framing import decode_frame, encode_frame
from tests.helpers import until

from .dongle import FakeDongle, FakeGrowattServer
from .fixtures import capture
from .test_proxy import SERIAL, proxy_entry

PING = capture("shine2mqtt_v6_0116_ping_1").raw
ANNOUNCE = capture("shine2mqtt_v6_0103_announce_1").raw
DATA = [capture(f"shine2mqtt_v6_0104_data_{n}").raw for n in range(1, 6)]
FAST_BACKOFF = (0.04, 0.08, 0.2, 0.4, 1.2, 2.4)
"""UPSTREAM_BACKOFF divided by 25: one test second is 25 seconds of the real schedule."""


async def identified(port: int) -> FakeDongle:
    """A datalogger that connected and named itself (its ping answered)."""
    dongle = await FakeDongle.connect(port)
    await dongle.send(PING)
    await dongle.expect_raw(PING)
    return dongle


def acks(*frames: bytes) -> list[bytes]:
    return [messages.ack(decode_frame(f)) for f in frames]


# -- case 5: reconnect storm -------------------------------------------------------------------
async def test_upstream_that_closes_at_once_sees_few_connects(
    hass: HomeAssistant,
    free_port: int,
    caplog: pytest.LogCaptureFixture,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An upstream accepting and closing at once: the delay grows, one warning is logged.

    Measured over 1.5 s with the schedule divided by 25 (37.5 s of the real one): at most
    6 connects (the real schedule: 1, 2, 5, 10, 30, then 60 s; before the fix the proxy
    redialled thousands of times a second).
    """
    connects = 0

    async def close_at_once(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connects
        connects += 1
        writer.close()

    upstream = await asyncio.start_server(close_at_once, "127.0.0.1", 0)
    entry = proxy_entry(free_port, upstream.sockets[0].getsockname()[1])
    entry.add_to_hass(hass)
    with patch.object(proxy, "UPSTREAM_BACKOFF", FAST_BACKOFF):
        assert await hass.config_entries.async_setup(entry.entry_id)
        dongle = await identified(free_port)
        # 1.5 s of the frozen clock in 10 ms steps (the proxy's asyncio.sleep backoff follows
        # the loop's clock, which the freezer drives); each step lets the loopback I/O run.
        for _ in range(150):
            freezer.tick(0.01)
            for _ in range(20):
                await asyncio.sleep(0)
        print(f"\nstorm upstream: {connects} connects in 1.5 s (1/25 scale)")
        assert 2 <= connects <= 6
        warnings = [r for r in caplog.records if "Growatt upstream" in r.getMessage()]
        assert len(warnings) == 1
        assert "XGD*******" in warnings[0].getMessage()
        # The datalogger is still served locally.
        await dongle.send(DATA[0])
        await dongle.expect_raw(*acks(DATA[0]))
        await dongle.close()
        assert await hass.config_entries.async_unload(entry.entry_id)
    upstream.close()
    await upstream.wait_closed()


async def test_no_upstream_for_silent_or_refused_connections(
    hass: HomeAssistant, free_port: int
) -> None:
    """Silent and not-allowed connections open no upstream connection."""
    upstream = FakeGrowattServer()
    await upstream.start()
    entry = proxy_entry(free_port, upstream.port, allowed_dataloggers=["JPC492227A"])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    silent = await FakeDongle.connect(free_port)
    stranger = await FakeDongle.connect(free_port)
    await stranger.send(PING)
    assert await stranger.closed()
    # An upstream connection would start at once, not after a delay: let the loop run.
    await hass.async_block_till_done()
    for _ in range(100):
        await asyncio.sleep(0)
    assert upstream.connections == 0
    assert entry.runtime_data.listener.stats.upstream_connects == 0
    await silent.close()
    assert await hass.config_entries.async_unload(entry.entry_id)
    await upstream.stop()


# -- case 6: command policy --------------------------------------------------------------------
def set_item(seq: int, item: int, value: str = "1") -> bytes:
    return messages.set_config(seq, 6, 1, SERIAL, item, value)


def register_command(seq: int, function: int) -> bytes:
    """An inverter register command as the cloud sends it (serial field, register, value)."""
    return encode_frame(seq, 6, 1, function, messages.serial_field(SERIAL, 6) + bytes(4))


BLOCKED = [
    set_item(10 + n, item)
    for n, item in enumerate((0x04, 0x0B, 0x0C, 0x0E, 0x11, 0x19, 0x1A, 0x1E, 0x20, 0x21))
] + [register_command(30 + n, f) for n, f in enumerate((0x05, 0x06, 0x10))]
"""The commands the issue saw reach the datalogger, plus the server-address item 0x11."""
RELAYED = [
    messages.set_clock(40, 6, 1, SERIAL, datetime(2026, 1, 2, 3, 4, 5)),
    messages.get_config(41, 6, 1, SERIAL),
]


@pytest.mark.parametrize(
    ("options", "expected_blocked"),
    [({}, len(BLOCKED)), ({"allow_redirect": True, "allow_commands": True}, 0)],
)
async def test_cloud_command_policy(
    hass: HomeAssistant, free_port: int, options: dict[str, Any], expected_blocked: int
) -> None:
    """By default only acks, pings, the clock and config queries reach the datalogger;
    each blocked command is counted; the options let everything through."""
    upstream = FakeGrowattServer(commands=[*BLOCKED, *RELAYED])
    await upstream.start()
    entry = proxy_entry(free_port, upstream.port, **options)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    listener = entry.runtime_data.listener
    dongle = await identified(free_port)
    await until(lambda: any(s.upstream_connected for s in listener.sessions))
    await dongle.send(ANNOUNCE)
    expected = [*acks(ANNOUNCE), *(BLOCKED if not expected_blocked else []), *RELAYED]
    await dongle.expect_raw(*expected)
    assert listener.stats.commands_blocked == expected_blocked
    await dongle.send(PING)
    await dongle.expect_raw(PING)  # nothing else was queued behind
    assert dongle.inbox == []
    await dongle.close()
    assert await hass.config_entries.async_unload(entry.entry_id)
    await upstream.stop()


@pytest.mark.parametrize(
    ("frame", "verdict"),
    [
        (set_item(1, 0x1F, "2026-01-02 03:04:05"), messages.Verdict.RELAY),
        (messages.get_config(1, 6, 1, SERIAL), messages.Verdict.RELAY),
        (PING, messages.Verdict.RELAY),
        (set_item(1, 0x13, "evil.example"), messages.Verdict.BLOCK_REDIRECT),
        (set_item(1, 0x20), messages.Verdict.BLOCK_COMMAND),
        (register_command(1, 0x10), messages.Verdict.BLOCK_COMMAND),
        (encode_frame(1, 6, 1, 0x50, bytes(40)), messages.Verdict.BLOCK_COMMAND),
    ],
)
def test_cloud_verdict_defaults(frame: bytes, verdict: messages.Verdict) -> None:
    """The default policy per frame (grott's blockcmd lets only the clock 0x18 through)."""
    assert messages.cloud_verdict(decode_frame(frame), False, False) is verdict


# -- case 7: data loss -------------------------------------------------------------------------
async def test_backlog_survives_reconnection_and_restart(
    hass: HomeAssistant, free_port: int, hass_storage: dict[str, Any]
) -> None:
    """Upstream down: 3 records, the datalogger reconnects, 2 more, Home Assistant restarts
    (entry reload); upstream back: all 5 reach it once, in order, after the announce."""
    upstream = FakeGrowattServer()
    await upstream.start()
    port = upstream.port
    await upstream.stop()  # the cloud is down from the start
    entry = proxy_entry(free_port, port)
    entry.add_to_hass(hass)
    with patch.object(proxy, "UPSTREAM_BACKOFF", (0.01,)):
        assert await hass.config_entries.async_setup(entry.entry_id)
        dongle = await identified(free_port)
        await dongle.send(ANNOUNCE, *DATA[:3])
        await dongle.expect_raw(*acks(ANNOUNCE, *DATA[:3]))
        await dongle.close()
        dongle = await identified(free_port)  # reconnects during the outage
        await dongle.send(DATA[3])
        await dongle.expect_raw(*acks(DATA[3]))
        await dongle.close()
        assert await hass.config_entries.async_unload(entry.entry_id)
        saved = hass_storage[f"pv_monitor.growatt_backlog.{entry.entry_id}"]["data"]
        assert [bytes.fromhex(f) for f in saved["backlogs"][SERIAL]] == [ANNOUNCE, *DATA[:4]]
        assert saved["hosts"] == ["127.0.0.1"]  # favoured after the restart

        assert await hass.config_entries.async_setup(entry.entry_id)
        listener = entry.runtime_data.listener
        assert list(listener.upstreams[SERIAL].backlog) == [ANNOUNCE, *DATA[:4]]
        assert listener.trusted_hosts == {"127.0.0.1"}
        assert SERIAL in listener.known_dataloggers  # from the device registry
        await upstream.start(port)
        dongle = await identified(free_port)
        await dongle.send(DATA[4])
        await dongle.expect_raw(*acks(DATA[4]))
        await until(lambda: sum(f.function == 0x04 for f in upstream.received) == 5, 200_000)
        got = [f.raw for f in upstream.received if f.function in (0x03, 0x04)]
        assert got == [ANNOUNCE, *DATA]
        await until(lambda: not listener.upstreams[SERIAL].backlog, 200_000)
        await dongle.close()
        assert await hass.config_entries.async_unload(entry.entry_id)
    assert hass_storage[f"pv_monitor.growatt_backlog.{entry.entry_id}"]["data"] == {
        "backlogs": {},
        "hosts": ["127.0.0.1"],
    }
    await upstream.stop()


async def test_silent_upstream_answered_locally(
    hass: HomeAssistant, free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """An upstream that accepts and never answers: pings echoed and records acked locally
    within the timeout; the stalled upstream is dropped and the records stay queued."""
    caplog.set_level(logging.WARNING)
    received: list[bytes] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(4096):
            received.append(chunk)
        writer.close()

    upstream = await asyncio.start_server(silent, "127.0.0.1", 0)
    entry = proxy_entry(free_port, upstream.sockets[0].getsockname()[1])
    entry.add_to_hass(hass)
    with (
        patch.object(proxy, "UPSTREAM_ACK_TIMEOUT", 0.05),
        patch.object(proxy, "UPSTREAM_STALL", 0.3),
        patch.object(proxy, "UPSTREAM_BACKOFF", (5.0,)),
    ):
        assert await hass.config_entries.async_setup(entry.entry_id)
        listener = entry.runtime_data.listener
        dongle = await identified(free_port)
        await until(lambda: any(s.upstream_connected for s in listener.sessions))
        for frame in (PING, DATA[0], PING, DATA[1]):
            await dongle.send(frame)
            await dongle.expect_raw(frame if frame == PING else acks(frame)[0])
        assert listener.stats.acks_sent == 2
        await until(lambda: listener.stats.upstream_failures >= 1, rounds=1_000_000)
        assert listener.stats.upstream_failures == 1  # one stall, one failure
        assert any("does not acknowledge" in r.getMessage() for r in caplog.records)
        assert list(listener.upstreams[SERIAL].backlog) == DATA[:2]
        await dongle.close()
        assert await hass.config_entries.async_unload(entry.entry_id)
    upstream.close()
    await upstream.wait_closed()
