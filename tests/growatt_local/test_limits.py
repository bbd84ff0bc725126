"""Listener limits and hygiene: connection cap, eviction, timeouts, error budget, rates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from unittest.mock import patch

import pytest

from custom_components.pv_monitor.growatt_local.protocol import messages, server
from custom_components.pv_monitor.growatt_local.protocol.framing import decode_frame, encode_frame
from custom_components.pv_monitor.growatt_local.protocol.records import Record
from custom_components.pv_monitor.growatt_local.protocol.server import (
    DataloggerSession,
    GrowattListener,
    ListenerConfig,
)
from tests.helpers import until

from .dongle import FakeDongle
from .fixtures import capture

PING = capture("gm_data1_v5_0116_ping_both_echo_01").raw
DATA = capture("gm_data1_v5_0104_data_from_logger_23").raw


class Recorder:
    """A ListenerHandler that keeps what it is told."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.dropped = 0

    def datalogger_connected(self, session: DataloggerSession) -> None:
        """Ignore."""

    def datalogger_disconnected(self, session: DataloggerSession) -> None:
        """Ignore."""

    def record_received(self, session: DataloggerSession, record: Record) -> None:
        self.records.append(record)

    def config_received(self, session: DataloggerSession, item: int, value: str) -> None:
        """Ignore."""

    def frame_dropped(self, session: DataloggerSession, error: Exception) -> None:
        self.dropped += 1


@pytest.fixture
async def listener(socket_enabled: None) -> AsyncGenerator[GrowattListener]:
    """A server-mode listener on an ephemeral loopback port, at most 3 connections."""
    lst = GrowattListener(ListenerConfig(host="127.0.0.1", port=0, max_connections=3), Recorder())
    await lst.start()
    yield lst
    await lst.stop()


async def raw_connect(port: int, source: str = "127.0.0.1") -> FakeDongle:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    return FakeDongle(reader, writer)


async def test_error_budget_closes_the_connection(listener: GrowattListener) -> None:
    """More bad frames than the budget: closed; a good frame in between does not reset it."""
    port = listener.bound_port
    assert port is not None
    dongle = await FakeDongle.connect(port)
    bad = PING[:-1] + bytes([PING[-1] ^ 0xFF])  # CRC broken
    for _ in range(server.ERROR_BUDGET + 1):
        await dongle.send(bad, PING, split=False)
    assert await dongle.closed()
    assert listener.stats.closed_errors == 1
    assert listener.stats.frames_dropped == server.ERROR_BUDGET + 1


@patch.object(server, "UNIDENTIFIED_GRACE", 0.0)
async def test_cap_evicts_silent_connections_first(listener: GrowattListener) -> None:
    """At the cap a silent connection makes room; with none silent, the new one is refused."""
    port = listener.bound_port
    assert port is not None
    silent = [await FakeDongle.connect(port) for _ in range(3)]
    await until(lambda: listener.stats.connections_open == 3)
    real = await FakeDongle.connect(port)
    await real.send(PING)
    await real.expect_raw(PING)
    assert listener.stats.evicted == 1
    assert await silent[0].closed()
    others = []
    for n in range(2):  # other dataloggers (one connection per serial)
        other = await FakeDongle.connect(port)
        ping = encode_frame(1, 5, 1, 0x16, f"JPC49222{n}X".encode())
        await other.send(ping)
        await other.expect_raw(ping)
        others.append(other)
    assert listener.stats.evicted == 3
    refused = await FakeDongle.connect(port)
    assert await refused.closed()
    assert listener.stats.rejected_limit == 1
    # The real datalogger was served throughout.
    await real.send(DATA)
    await real.expect_raw(messages.ack(decode_frame(DATA)))
    for dongle in (real, *others, *silent, refused):
        await dongle.close()


async def test_first_frame_and_idle_timeouts(socket_enabled: None) -> None:
    """Silent connections are closed after the first-frame timeout; talking ones stay."""
    with (
        patch.object(server, "FIRST_FRAME_TIMEOUT", 0.05),
        patch.object(server, "SWEEP_INTERVAL", 0.02),
    ):
        lst = GrowattListener(ListenerConfig(host="127.0.0.1", port=0), Recorder())
        await lst.start()
        port = lst.bound_port
        assert port is not None
        silent = await FakeDongle.connect(port)
        talking = await FakeDongle.connect(port)
        await talking.send(PING)
        await talking.expect_raw(PING)
        assert await silent.closed()
        assert lst.stats.closed_idle == 1
        with patch.object(server, "IDLE_TIMEOUT", 0.05):
            assert await talking.closed()
        assert lst.stats.closed_idle == 2
        await lst.stop()


async def test_failing_peer_is_refused_for_a_while(listener: GrowattListener) -> None:
    """A peer whose connections keep ending without a valid frame is refused; others not."""
    port = listener.bound_port
    assert port is not None
    with patch.object(server, "PEER_FAILURE_LIMIT", 3):
        for _ in range(3):
            noisy = await raw_connect(port, "127.0.0.2")
            await noisy.send(b"GET / HTTP/1.0\r\n\r\n", split=False)
            await noisy.close()
        await until(lambda: len(listener._peer_failures.get("127.0.0.2", ())) == 3)
        refused = await raw_connect(port, "127.0.0.2")
        assert await refused.closed()
        assert listener.stats.rejected_rate == 1
        welcome = await raw_connect(port, "127.0.0.1")
        await welcome.send(PING)
        await welcome.expect_raw(PING)
        await welcome.close()


async def test_peer_with_a_datalogger_is_trusted(listener: GrowattListener) -> None:
    """Failures from an address whose datalogger is connected never lock it out."""
    port = listener.bound_port
    assert port is not None
    with patch.object(server, "PEER_FAILURE_LIMIT", 1):
        real = await raw_connect(port, "127.0.0.3")
        await real.send(PING)
        await real.expect_raw(PING)
        noisy = await raw_connect(port, "127.0.0.3")
        await noisy.close()
        await until(lambda: len(listener._peer_failures.get("127.0.0.3", ())) == 1)
        again = await raw_connect(port, "127.0.0.3")
        await again.send(PING)
        await again.expect_raw(PING)
        assert listener.stats.rejected_rate == 0
        for dongle in (real, again):
            await dongle.close()


async def test_peer_that_does_not_read_is_closed(listener: GrowattListener) -> None:
    """Output piling up for a peer that does not read closes the connection."""
    port = listener.bound_port
    assert port is not None
    with patch.object(server, "MAX_WRITE_BUFFER", -1):
        dongle = await FakeDongle.connect(port)
        await dongle.send(PING)
        assert await dongle.closed()
    assert listener.stats.closed_overflow == 1
    assert listener.stats.connections_refused == 1


async def test_failure_memory_expires(listener: GrowattListener) -> None:
    """The sweep forgets failures older than the window."""
    listener._failed("10.1.2.3")
    with patch.object(server, "PEER_FAILURE_WINDOW", -1.0):
        listener._sweep()
    assert "10.1.2.3" not in listener._peer_failures


@pytest.mark.parametrize(("max_connections", "backlog"), [(3, 100), (1000, 1000)])
async def test_accept_backlog_follows_the_connection_limit(
    socket_enabled: None, max_connections: int, backlog: int
) -> None:
    """Dataloggers reconnecting all at once are queued, not dropped, up to the limit."""
    loop = asyncio.get_running_loop()
    create_server = loop.create_server
    seen: dict[str, object] = {}

    async def spy(*args: object, **kwargs: object) -> asyncio.Server:
        seen.update(kwargs)
        return await create_server(*args, **kwargs)  # type: ignore[arg-type]

    config = ListenerConfig(host="127.0.0.1", port=0, max_connections=max_connections)
    lst = GrowattListener(config, Recorder())
    with patch.object(loop, "create_server", spy):
        await lst.start()
    assert seen["backlog"] == backlog
    assert lst.bound_port is not None
    await lst.stop()
