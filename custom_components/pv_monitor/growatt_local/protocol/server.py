"""Asyncio TCP listener for Growatt dataloggers, in server or transparent-proxy mode.

No Home Assistant import: the listener reports through a :class:`ListenerHandler` and keeps
its own counters in :class:`ListenerStats`.

Server mode answers like the Growatt server: acknowledges every record (0x03, 0x04, 0x20,
0x50), echoes pings (0x16), sets the datalogger clock (0x18 item 0x1f) after each announce
and queries its configuration items (0x19) once per connection.

Proxy mode relays every frame both ways unchanged (the raw bytes), while decoding a copy.
Upstream commands that would re-point the datalogger (0x18 items 0x11-0x13) are dropped
unless allowed. While the upstream is unreachable, or does not acknowledge a record within
:data:`UPSTREAM_ACK_TIMEOUT`, the listener acknowledges locally so the datalogger never
buffers; a late upstream acknowledgement for a record already acknowledged is swallowed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
import logging
import time
from typing import Final, Protocol

from . import messages
from .framing import Frame, FrameDecoder, FrameError, Function
from .records import Record, RecordError, parse_record

_LOGGER = logging.getLogger(__name__)

RECORD_FUNCTIONS: Final = frozenset({Function.ANNOUNCE, Function.DATA, Function.BUFFERED_DATA})
"""Functions whose payload is a register record we decode."""

UPSTREAM_ACK_TIMEOUT: Final = 5.0
"""Seconds a proxied record may wait for the upstream ack before we ack it locally."""

UPSTREAM_BACKLOG: Final = 2000
"""Records kept (acked locally) while the upstream is away, relayed when it is back, so the
Growatt cloud misses nothing of a short outage. About 20 h of 5-minute records per
inverter; the oldest are dropped first beyond that."""

DEFAULT_MAX_CONNECTIONS: Final = 64
"""Open connections allowed at once (option); a home has one or a few dataloggers."""
FIRST_FRAME_TIMEOUT: Final = 60.0
"""Seconds a new connection may take to send its first valid frame (a datalogger pings or
announces at once)."""
IDLE_TIMEOUT: Final = 900.0
"""Seconds without a valid frame after which a connection is closed: three 5-minute data
intervals. Also ends half-open connections of dataloggers that lost power at night."""
ERROR_BUDGET: Final = 32
"""Bad frames one connection may send before it is closed."""
MAX_WRITE_BUFFER: Final = 256 * 1024
"""Bytes waiting to be sent to a peer that does not read, before the connection is closed."""
PEER_FAILURE_LIMIT: Final = 20
PEER_FAILURE_WINDOW: Final = 60.0
"""A peer address whose connections closed without a valid frame this many times within
the window is refused until the window passes (unless a datalogger is connected from it)."""
SWEEP_INTERVAL: Final = 5.0
"""Seconds between checks of the timeouts above."""

UPSTREAM_CONNECT_TIMEOUT: Final = 10.0
UPSTREAM_BACKOFF: Final = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Seconds between upstream reconnection attempts (the last repeats)."""


@dataclass(slots=True)
class ListenerStats:
    """Counters of one listener, for diagnostics sensors and the diagnostics download."""

    connections_total: int = 0
    connections_open: int = 0
    connections_rejected: int = 0
    """Connections closed because the datalogger is not in the allowed list."""
    frames_received: int = 0
    frames_dropped: int = 0
    """Bad frames (length, CRC, protocol) and undecodable records."""
    records_live: int = 0
    records_buffered: int = 0
    records_announce: int = 0
    acks_sent: int = 0
    """Acknowledgements sent by us (server mode, or proxy with the upstream away)."""
    upstream_connects: int = 0
    upstream_failures: int = 0
    rejected_limit: int = 0
    """Connections refused because ``max_connections`` were open (and none could be evicted)."""
    evicted: int = 0
    """Connections without a valid frame closed to make room for a new one at the limit."""
    rejected_rate: int = 0
    """Connections refused from a peer with too many failed connections."""
    closed_idle: int = 0
    """Connections closed for sending nothing valid within the first-frame or idle timeout."""
    closed_errors: int = 0
    """Connections closed after spending their error budget of bad frames."""
    closed_overflow: int = 0
    """Connections closed because the peer did not read what we sent."""
    handler_errors: int = 0
    """Frames whose handling raised (a bug): counted, logged once, the session goes on."""
    commands_blocked: int = 0
    """Upstream 0x18 writes of server address items that were not relayed."""
    last_error: str | None = None

    @property
    def connections_refused(self) -> int:
        """Connections refused or closed for misbehaving, all reasons together."""
        return (
            self.connections_rejected
            + self.rejected_limit
            + self.evicted
            + self.rejected_rate
            + self.closed_idle
            + self.closed_errors
            + self.closed_overflow
        )


@dataclass(slots=True)
class DataloggerSession:
    """What the listener knows about one connected datalogger (one TCP connection)."""

    peer: str
    connected_at: float
    serial: str | None = None
    protocol: int | None = None
    unit: int = 1
    last_frame_at: float | None = None
    config: dict[int, str] = field(default_factory=dict)
    """Configuration items the datalogger reported (0x19 answers), by item number."""
    upstream_connected: bool = False


class ListenerHandler(Protocol):
    """Receiver of the listener's events; every method runs in the event loop."""

    def datalogger_connected(self, session: DataloggerSession) -> None:
        """A datalogger identified itself (first frame with its serial) on a connection."""

    def datalogger_disconnected(self, session: DataloggerSession) -> None:
        """The connection of an identified datalogger closed."""

    def record_received(self, session: DataloggerSession, record: Record) -> None:
        """A record (announce, live or buffered data) was received and acknowledged."""

    def config_received(self, session: DataloggerSession, item: int, value: str) -> None:
        """The datalogger reported a configuration item (0x19 answer)."""

    def frame_dropped(self, session: DataloggerSession, error: Exception) -> None:
        """A bad frame or undecodable record was dropped (already counted in the stats)."""


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    """Settings of a :class:`GrowattListener`.

    ``allowed_dataloggers`` empty means any datalogger is served. ``now`` gives local
    wall-clock time for the datalogger clock (0x18 item 0x1f).
    """

    host: str
    port: int
    proxy: bool = False
    upstream_host: str = "server.growatt.com"
    upstream_port: int = 5279
    allowed_dataloggers: frozenset[str] = frozenset()
    allow_redirect: bool = False
    now: Callable[[], datetime] = datetime.now
    max_connections: int = DEFAULT_MAX_CONNECTIONS


class GrowattListener:
    """TCP server accepting datalogger connections on ``config.host``:``config.port``."""

    def __init__(self, config: ListenerConfig, handler: ListenerHandler) -> None:
        """Create a listener; nothing is bound before :meth:`start`."""
        self.config = config
        self.handler = handler
        self.stats = ListenerStats()
        self._server: asyncio.Server | None = None
        self._connections: set[_DataloggerConnection] = set()
        self._peer_failures: dict[str, deque[float]] = {}
        self._sweep_handle: asyncio.TimerHandle | None = None

    @property
    def sessions(self) -> list[DataloggerSession]:
        """Sessions of the open connections."""
        return [conn.session for conn in self._connections]

    @property
    def bound_port(self) -> int | None:
        """Port actually bound (useful when started on port 0), None when stopped."""
        if self._server is None or not self._server.sockets:
            return None
        return int(self._server.sockets[0].getsockname()[1])

    async def bind(self) -> None:
        """Bind the socket without accepting yet (see :meth:`start_serving`).

        Raises:
            OSError: the address cannot be bound (port in use, address not local, ...).
        """
        loop = asyncio.get_running_loop()
        host: str | None = self.config.host or None
        self._server = await loop.create_server(
            lambda: _DataloggerConnection(self),
            host=host,
            port=self.config.port,
            reuse_address=True,
            # Every datalogger reconnects at once after a restart or a network outage:
            # a queue as long as the connection limit keeps their SYNs from being dropped
            # (asyncio's default is 100; the kernel caps it at net.core.somaxconn).
            backlog=max(100, self.config.max_connections),
            start_serving=False,
        )

    async def start_serving(self) -> None:
        """Accept connections on the bound socket."""
        assert self._server is not None, "bind() first"
        await self._server.start_serving()
        self._sweep_handle = asyncio.get_running_loop().call_later(SWEEP_INTERVAL, self._sweep)

    def _sweep(self) -> None:
        """Close connections past their first-frame or idle timeout; forget old failures."""
        now = time.monotonic()
        for conn in list(self._connections):
            session = conn.session
            if session.last_frame_at is None:
                expired = now - session.connected_at > FIRST_FRAME_TIMEOUT
            else:
                expired = now - session.last_frame_at > IDLE_TIMEOUT
            if expired:
                self.stats.closed_idle += 1
                conn.close()
        for peer, failures in list(self._peer_failures.items()):
            while failures and now - failures[0] > PEER_FAILURE_WINDOW:
                failures.popleft()
            if not failures:
                del self._peer_failures[peer]
        self._sweep_handle = asyncio.get_running_loop().call_later(SWEEP_INTERVAL, self._sweep)

    def _admit(self, peer_host: str) -> bool:
        """Decide whether a new connection may stay (limits); count and say why not."""
        failures = self._peer_failures.get(peer_host)
        trusted = any(c.identified and c.peer_host == peer_host for c in self._connections)
        if failures is not None and len(failures) >= PEER_FAILURE_LIMIT and not trusted:
            self.stats.rejected_rate += 1
            return False
        if len(self._connections) >= self.config.max_connections:
            # Make room by closing the oldest connection that has not sent a valid frame.
            idle = [c for c in self._connections if c.session.last_frame_at is None]
            if not idle:
                self.stats.rejected_limit += 1
                return False
            self.stats.evicted += 1
            min(idle, key=lambda c: c.session.connected_at).close()
        return True

    def _failed(self, peer_host: str) -> None:
        """A connection from ``peer_host`` ended without a single valid frame."""
        self._peer_failures.setdefault(peer_host, deque()).append(time.monotonic())

    async def start(self) -> None:
        """Bind and accept connections at once.

        Raises:
            OSError: the address cannot be bound.
        """
        await self.bind()
        await self.start_serving()

    async def stop(self) -> None:
        """Stop accepting, close every connection (and its upstream) and wait for them."""
        if self._sweep_handle is not None:
            self._sweep_handle.cancel()
            self._sweep_handle = None
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.close()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        self._connections.clear()

    def _allowed(self, serial: str) -> bool:
        allowed = self.config.allowed_dataloggers
        return not allowed or serial.upper() in allowed


def _payload_serial(frame: Frame) -> str | None:
    """Datalogger serial at the start of a ping, record or config frame, if present."""
    raw = frame.payload[:10].rstrip(b"\x00")
    if len(raw) < 4 or not all(0x21 <= b < 0x7F for b in raw):
        return None
    return raw.decode("ascii")


class _DataloggerConnection(asyncio.Protocol):
    """One datalogger TCP connection (and, in proxy mode, its upstream connection)."""

    def __init__(self, listener: GrowattListener) -> None:
        self.listener = listener
        self.stats = listener.stats
        self.decoder = FrameDecoder()
        self.session = DataloggerSession(peer="?", connected_at=time.monotonic())
        self.peer_host = "?"
        self.bad_frames = 0
        self.transport: asyncio.Transport | None = None
        self.identified = False
        self.closed = False
        self.server_seq = 0
        self.config_queried = False
        # proxy state
        self.upstream: _UpstreamConnection | None = None
        self.upstream_task: asyncio.Task[None] | None = None
        self.pending: dict[tuple[int, int], tuple[asyncio.TimerHandle, Frame]] = {}
        self.backlog: deque[bytes] = deque(maxlen=UPSTREAM_BACKLOG)
        self.last_announce: bytes | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.session.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.peer_host = str(peer[0]) if peer else "?"
        self.stats.connections_total += 1
        if not self.listener._admit(self.peer_host):
            self.closed = True
            transport.abort()
            return
        self.listener._connections.add(self)
        self.stats.connections_open += 1
        if self.listener.config.proxy:
            self.upstream_task = asyncio.get_running_loop().create_task(
                self._upstream_loop(), name=f"growatt upstream {self.session.peer}"
            )

    def data_received(self, data: bytes) -> None:
        for item in self.decoder.feed(data):
            if self.closed:
                return
            if isinstance(item, FrameError):
                self._drop(item)
                continue
            self._guarded(self._handle, item)

    def _guarded(self, handle: Callable[[Frame], None], frame: Frame) -> None:
        """Run ``handle(frame)``; a fault is counted and logged once, the session goes on."""
        try:
            handle(frame)
        except Exception as err:
            self.stats.handler_errors += 1
            self.stats.last_error = f"{type(err).__name__}: {err}"
            if self.stats.handler_errors == 1:
                _LOGGER.exception(
                    "Error handling a frame from %s; the session goes on",
                    self.session.serial or self.session.peer,
                )

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()

    # -- helpers ------------------------------------------------------------------------
    def is_closed(self) -> bool:
        """Whether :meth:`close` ran (re-read after every await)."""
        return self.closed

    def close(self) -> None:
        """Close the connection and its upstream; report the disconnect once."""
        if self.closed:
            return
        self.closed = True
        self.listener._connections.discard(self)
        self.stats.connections_open -= 1
        if self.session.last_frame_at is None:
            self.listener._failed(self.peer_host)
        for handle, _ in self.pending.values():
            handle.cancel()
        self.pending.clear()
        if self.upstream_task is not None:
            self.upstream_task.cancel()
        if self.upstream is not None:
            self.upstream.close()
        if self.transport is not None:
            self.transport.close()
        if self.identified:
            self.listener.handler.datalogger_disconnected(self.session)

    def _write(self, data: bytes) -> None:
        if self.transport is None or self.closed:
            return
        self.transport.write(data)
        if self.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            self.stats.closed_overflow += 1
            self.close()

    def _next_seq(self) -> int:
        self.server_seq = (self.server_seq % 0xFFFF) + 1
        return self.server_seq

    def _drop(self, error: Exception) -> None:
        self.stats.frames_dropped += 1
        self.stats.last_error = f"{type(error).__name__}: {error}"
        self.listener.handler.frame_dropped(self.session, error)
        self.bad_frames += 1
        if self.bad_frames > ERROR_BUDGET:
            self.stats.closed_errors += 1
            self.close()

    def _identify(self, frame: Frame) -> bool:
        """Learn the datalogger serial; return False when the connection was rejected."""
        if self.identified:
            return True
        serial = _payload_serial(frame)
        if serial is None:
            return True
        if not self.listener._allowed(serial):
            self.stats.connections_rejected += 1
            _LOGGER.debug("Rejected datalogger %s from %s", serial, self.session.peer)
            self.close()
            return False
        self.session.serial = serial
        self.session.protocol = frame.protocol
        self.session.unit = frame.unit
        self.identified = True
        self.listener.handler.datalogger_connected(self.session)
        return True

    # -- datalogger -> us -----------------------------------------------------------------
    def _handle(self, frame: Frame) -> None:
        self.stats.frames_received += 1
        self.session.last_frame_at = time.monotonic()
        if not self._identify(frame):
            return
        proxy = self.listener.config.proxy
        upstream_up = self.upstream is not None and self.upstream.connected
        if proxy and upstream_up:
            assert self.upstream is not None
            self.upstream.write(frame.raw)
        function = frame.function
        if function == Function.PING:
            if not (proxy and upstream_up):
                self._write(messages.ping_echo(frame))
            return
        if function in messages.ACKED_FUNCTIONS:
            if proxy and upstream_up:
                self._await_upstream_ack(frame)
            else:
                self._ack(frame)
                if proxy:
                    self.backlog.append(frame.raw)
            if function == Function.ANNOUNCE:
                self.last_announce = frame.raw
            if function in RECORD_FUNCTIONS:
                # Decoding waits until every ack of this loop iteration is out: with many
                # dataloggers, acks do not queue behind other records' processing.
                asyncio.get_running_loop().call_soon(self._guarded, self._record, frame)
            if function == Function.ANNOUNCE and not proxy:
                self._after_announce(frame)
            return
        if function == Function.GET_CONFIG:
            parsed = messages.parse_config_item(frame)
            if parsed is not None:
                item, value = parsed
                self.session.config[item] = value
                self.listener.handler.config_received(self.session, item, value)

    def _ack(self, frame: Frame) -> None:
        self._write(messages.ack(frame))
        self.stats.acks_sent += 1

    def _record(self, frame: Frame) -> None:
        try:
            record = parse_record(frame)
        except RecordError as err:
            self._drop(err)
            return
        if record.buffered:
            self.stats.records_buffered += 1
        elif record.holding:
            self.stats.records_announce += 1
        else:
            self.stats.records_live += 1
        self.listener.handler.record_received(self.session, record)

    def _after_announce(self, frame: Frame) -> None:
        """Server mode: set the datalogger clock, then query its config once per connection."""
        serial = self.session.serial
        if serial is None:
            return
        now = self.listener.config.now()
        self._write(messages.set_clock(self._next_seq(), frame.protocol, frame.unit, serial, now))
        if not self.config_queried:
            self.config_queried = True
            self._write(messages.get_config(self._next_seq(), frame.protocol, frame.unit, serial))

    # -- proxy ---------------------------------------------------------------------------
    def _await_upstream_ack(self, frame: Frame) -> None:
        key = (frame.function, frame.seq)
        old = self.pending.pop(key, None)
        if old is not None:  # resent before the upstream answered: ack the first locally
            old[0].cancel()
            self._ack(old[1])
        handle = asyncio.get_running_loop().call_later(UPSTREAM_ACK_TIMEOUT, self._ack_locally, key)
        self.pending[key] = (handle, frame)

    def _ack_locally(self, key: tuple[int, int]) -> None:
        entry = self.pending.pop(key, None)
        if entry is not None:
            self._ack(entry[1])

    def _flush_pending(self) -> None:
        """Upstream lost: acknowledge every record it had not acknowledged yet."""
        for handle, frame in self.pending.values():
            handle.cancel()
            self._ack(frame)
        self.pending.clear()

    def upstream_frame(self, frame: Frame) -> None:
        """A frame from the upstream server: relay, swallow or block it."""
        function = frame.function
        if len(frame.payload) == 1 and function in messages.ACKED_FUNCTIONS:
            entry = self.pending.pop((function, frame.seq), None)
            if entry is None:
                return  # already acked locally, or an ack for a replayed backlog record
            entry[0].cancel()
            self._write(frame.raw)
            return
        if function == Function.SET_CONFIG and not self.listener.config.allow_redirect:
            item = messages.parse_set_config_item(frame)
            if item in messages.REDIRECT_ITEMS:
                self.stats.commands_blocked += 1
                _LOGGER.info(
                    "Blocked upstream command re-pointing datalogger %s (item %#x)",
                    self.session.serial,
                    item,
                )
                return
        self._write(frame.raw)

    def upstream_lost(self) -> None:
        """Called by the upstream connection when it closes."""
        self.session.upstream_connected = False
        self._flush_pending()

    async def _upstream_loop(self) -> None:
        """Keep an upstream connection open while the datalogger is connected."""
        config = self.listener.config
        loop = asyncio.get_running_loop()
        attempt = 0
        while not self.closed:
            if self.upstream is None or not self.upstream.connected:
                try:
                    _, upstream = await asyncio.wait_for(
                        loop.create_connection(
                            lambda: _UpstreamConnection(self),
                            config.upstream_host,
                            config.upstream_port,
                        ),
                        UPSTREAM_CONNECT_TIMEOUT,
                    )
                except (OSError, TimeoutError) as err:
                    self.stats.upstream_failures += 1
                    if attempt == 0:
                        _LOGGER.warning(
                            "Growatt upstream %s:%s unreachable (%s); acknowledging "
                            "datalogger %s locally until it is back",
                            config.upstream_host,
                            config.upstream_port,
                            err,
                            self.session.serial or self.session.peer,
                        )
                    delay = UPSTREAM_BACKOFF[min(attempt, len(UPSTREAM_BACKOFF) - 1)]
                    attempt += 1
                    await asyncio.sleep(delay)
                    continue
                if self.is_closed():  # closed while we were connecting
                    upstream.close()
                    return
                if attempt:
                    _LOGGER.info("Growatt upstream %s reachable again", config.upstream_host)
                attempt = 0
                self.upstream = upstream
                self.stats.upstream_connects += 1
                self.session.upstream_connected = True
                if self.last_announce is not None and self.last_announce not in self.backlog:
                    upstream.write(self.last_announce)
                while self.backlog:
                    upstream.write(self.backlog.popleft())
            await self.upstream.wait_closed()


class _UpstreamConnection(asyncio.Protocol):
    """Connection from the proxy to the Growatt server for one datalogger."""

    def __init__(self, downstream: _DataloggerConnection) -> None:
        self.downstream = downstream
        self.decoder = FrameDecoder()
        self.transport: asyncio.Transport | None = None
        self.connected = False
        self._closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.connected = True

    def data_received(self, data: bytes) -> None:
        for item in self.decoder.feed(data):
            if isinstance(item, Frame):
                self.downstream.upstream_frame(item)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connected = False
        if not self._closed.done():
            self._closed.set_result(None)
        self.downstream.upstream_lost()

    def write(self, data: bytes) -> None:
        if self.transport is not None and self.connected:
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def wait_closed(self) -> None:
        await self._closed


def normalise_serials(serials: Iterable[str]) -> frozenset[str]:
    """Uppercase, strip and deduplicate datalogger serials for :class:`ListenerConfig`."""
    return frozenset(s.strip().upper() for s in serials if s.strip())
