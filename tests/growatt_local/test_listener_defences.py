"""The pure listener's defences without Home Assistant: eviction order, back-pressure,
bare answer bytes, cap memory, proxy backlog bounds and ping handling.

Datalogger frames are the real captures of ``tests/fixtures/growatt`` (GrowattMonitor
protocol 5 JPC492227A; shine2mqtt protocol 6 XGDABCDEFG).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import time
from unittest.mock import patch

import pytest

from custom_components.pv_monitor.growatt_local.protocol import messages, proxy, server
from custom_components.pv_monitor.growatt_local.protocol.framing import decode_frame, encode_frame
from custom_components.pv_monitor.growatt_local.protocol.server import (
    DataloggerSession,
    GrowattListener,
    ListenerConfig,
)
from tests.helpers import until

from .dongle import FakeDongle, FakeGrowattServer
from .fixtures import capture
from .test_limits import Recorder, raw_connect

PING = capture("gm_data1_v5_0116_ping_both_echo_01").raw
DATA = capture("gm_data1_v5_0104_data_from_logger_23").raw
BUFFERED = capture("gm_data1_v5_0150_data2_from_logger_28").raw
BARE_ANSWER = capture("shine2mqtt_v6_0118_ack_1").raw
"""A datalogger's one-byte answer to a 0x18 write: no serial."""
S2M_PING = capture("shine2mqtt_v6_0116_ping_1").raw
S2M_DATA = [capture(f"shine2mqtt_v6_0104_data_{n}").raw for n in range(1, 6)]


class LimitRecorder(Recorder):
    """A handler that also keeps cap refusals and backlog changes."""

    def __init__(self) -> None:
        super().__init__()
        self.limits: list[tuple[str, str, str]] = []
        self.backlog_changes = 0
        self.sessions: list[DataloggerSession] = []

    def limit_reached(self, kind: str, peer: str, serial: str) -> None:
        self.limits.append((kind, peer, serial))

    def backlog_changed(self, serial: str) -> None:
        self.backlog_changes += 1


@pytest.fixture
async def listener(socket_enabled: None) -> AsyncGenerator[GrowattListener]:
    """A server-mode listener on an ephemeral loopback port, at most 3 connections."""
    lst = GrowattListener(
        ListenerConfig(host="127.0.0.1", port=0, max_connections=3, max_dataloggers=1),
        LimitRecorder(),
    )
    await lst.start()
    yield lst
    await lst.stop()


def ping(serial: bytes) -> bytes:
    return encode_frame(1, 5, 1, 0x16, serial)


async def test_idle_identified_connection_makes_room(listener: GrowattListener) -> None:
    """With no unnamed connection to close, one idle past its data interval goes."""
    port = listener.bound_port
    assert port is not None
    listener.config = ListenerConfig(host="127.0.0.1", port=0, max_connections=3)
    serials = [f"XGD000000{n}".encode() for n in range(3)]
    dongles = []
    for serial in serials:
        dongle = await raw_connect(port, "127.0.0.4")
        await dongle.send(ping(serial), split=False)
        await dongle.expect_raw(ping(serial))
        dongles.append(dongle)
    refused = await FakeDongle.connect(port)
    assert await refused.closed()
    assert listener.stats.rejected_limit == 1
    idle = next(c for c in listener._connections if c.session.serial == "XGD0000001")
    assert idle.session.last_frame_at is not None
    idle.session.last_frame_at -= server.DEFAULT_DATA_INTERVAL + 1
    newcomer = await FakeDongle.connect(port)
    await newcomer.send(PING)
    await newcomer.expect_raw(PING)
    assert await dongles[1].closed()
    assert listener.stats.evicted == 1
    for dongle in (*dongles, newcomer):
        await dongle.close()


async def test_per_address_cap(listener: GrowattListener) -> None:
    """A ninth connection from one address is refused while the first eight are young."""
    port = listener.bound_port
    assert port is not None
    listener.max_connections = 100
    conns = [await raw_connect(port, "127.0.0.5") for _ in range(server.MAX_PER_ADDRESS)]
    await until(lambda: listener.stats.connections_open == server.MAX_PER_ADDRESS)
    extra = await raw_connect(port, "127.0.0.5")
    assert await extra.closed()
    assert listener.stats.rejected_address == 1
    with patch.object(server, "UNIDENTIFIED_GRACE", 0.0):
        again = await raw_connect(port, "127.0.0.5")
        await again.send(PING)
        await again.expect_raw(PING)
    assert listener.stats.evicted == 1
    for conn in (*conns, again):
        await conn.close()


async def test_bare_answer_before_identity_is_ignored(listener: GrowattListener) -> None:
    """A serial-less answer byte first: nothing happens; the datalogger then names itself."""
    port = listener.bound_port
    assert port is not None
    dongle = await FakeDongle.connect(port)
    await dongle.send(BARE_ANSWER, PING, split=False)
    await dongle.expect_raw(PING)
    assert listener.stats.rejected_serial == 0
    await dongle.close()


async def test_datalogger_cap_reported_once_per_serial(listener: GrowattListener) -> None:
    """The same over-cap serial twice: refused twice, reported once."""
    port = listener.bound_port
    assert port is not None
    first = await FakeDongle.connect(port)
    await first.send(PING)
    await first.expect_raw(PING)
    for _ in range(2):
        other = await FakeDongle.connect(port)
        await other.send(ping(b"XGD0000009"), split=False)
        assert await other.closed()
    handler = listener.handler
    assert isinstance(handler, LimitRecorder)
    assert handler.limits == [("dataloggers", "127.0.0.1", "XGD0000009")]
    assert listener.stats.rejected_cap == 2
    listener.forget("JPC492227A")
    listener.forget("XGD0000009")
    assert "JPC492227A" not in listener.known_dataloggers
    await first.close()


async def test_back_pressure_and_decoding_at_stop(listener: GrowattListener) -> None:
    """Records pile up beyond the high mark: reading pauses, resumes once drained; records
    still queued at stop are decoded (already acknowledged)."""
    port = listener.bound_port
    assert port is not None
    handler = listener.handler
    assert isinstance(handler, LimitRecorder)
    dongle = await FakeDongle.connect(port)
    with (
        patch.object(server, "DECODE_QUEUE_HIGH", 2),
        patch.object(server, "DECODE_QUEUE_LOW", 1),
        patch.object(server, "DECODE_SLICE", 0.0),
    ):
        await dongle.send(*([BUFFERED] * 6), split=False)
        await dongle.receive(6)
        await until(lambda: len(handler.records) == 6)
    conn = next(iter(listener._connections))
    assert not listener._paused
    assert conn.transport is not None
    assert conn.transport.is_reading()
    listener._decode_queue.extend([(conn, decode_frame(BUFFERED))] * 2)
    await listener.stop()
    assert len(handler.records) == 8
    await dongle.close()


async def test_proxy_backlog_bound_and_ping_paths(socket_enabled: None) -> None:
    """Upstream away: the backlog keeps the newest records (the rest counted); pings are
    echoed locally, and a ping resent before its answer is answered once."""
    upstream = FakeGrowattServer()
    await upstream.start()
    port = upstream.port
    await upstream.stop()
    handler = LimitRecorder()
    with (
        patch.object(proxy, "UPSTREAM_BACKLOG", 3),
        patch.object(proxy, "UPSTREAM_BACKOFF", (0.01,)),
    ):
        lst = GrowattListener(
            ListenerConfig(
                host="127.0.0.1", port=0, proxy=True, upstream_host="127.0.0.1", upstream_port=port
            ),
            handler,
        )
        await lst.start()
        assert lst.bound_port is not None
        dongle = await FakeDongle.connect(lst.bound_port)
        await dongle.send(S2M_PING)
        await dongle.expect_raw(S2M_PING)
        await dongle.send(*S2M_DATA, split=False)
        await dongle.expect_raw(*(messages.ack(decode_frame(d)) for d in S2M_DATA))
        state = lst.upstreams["XGDABCDEFG"]
        assert list(state.backlog) == S2M_DATA[2:]
        assert lst.stats.backlog_dropped == 2
        assert handler.backlog_changes == 5
        await upstream.start(port)
        upstream.ack = False  # the cloud answers pings only
        await until(lambda: upstream.connections == 1, rounds=200_000)
        await until(lambda: any(s.upstream_connected for s in lst.sessions), rounds=200_000)
        with patch.object(proxy, "UPSTREAM_ACK_TIMEOUT", 5.0):
            link = next(iter(lst._connections)).link
            assert link is not None
            link.from_datalogger(decode_frame(S2M_PING))  # a resend before the answer
            await dongle.send(S2M_PING, split=False)
            await dongle.expect_raw(S2M_PING)
        await until(lambda: not link.waiting)
        assert dongle.inbox == []
        await dongle.close()
        await lst.stop()
    await upstream.stop()


def test_upstream_state_delay_grows() -> None:
    """1, 2, 5, 10, 30, then 60 s after consecutive failures; 0 after a success."""
    state = proxy.UpstreamState("XGDABCDEFG", server.ListenerStats())
    delays = []
    for _ in range(8):
        state.failed("server.growatt.com:5279", "closed the connection at once")
        delays.append(state.delay())
    assert delays == [1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 60.0, 60.0]
    assert state.stats.upstream_failures == 8
    state.succeeded("server.growatt.com:5279")
    assert state.delay() == 0.0
    assert time.monotonic() > 0
