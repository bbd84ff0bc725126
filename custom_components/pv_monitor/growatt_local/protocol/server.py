"""Asyncio TCP listener for Growatt dataloggers, in server or transparent-proxy mode.

No Home Assistant import: the listener reports through a :class:`ListenerHandler` and keeps
its own counters in :class:`ListenerStats`.

Server mode answers like the Growatt server: acknowledges every record (0x03, 0x04, 0x20,
0x50), echoes pings (0x16), sets the datalogger clock (0x18 item 0x1f) after each announce
and queries its configuration items (0x19) once per connection.

Proxy mode relays the datalogger's frames unchanged (the raw bytes) while decoding a copy;
see :mod:`.proxy` for the upstream side and the command policy.

Inverter register commands (:meth:`GrowattListener.async_read_registers` and the writes)
go on the connection that carries the inverter, addressed with the unit id of its records
(:mod:`.commands`), one at a time per connection (:mod:`.command_queue`); server mode
always, proxy mode only with ``local_commands``. The datalogger's answers to them are
consumed here, never relayed to the cloud.

Everything on the LAN may talk to the listener (threat model in README "Security"):

- *Identity*: a connection's datalogger serial is fixed by its first frame that carries one
  and must be letters and digits (:func:`.messages.check_serial`) and pass the allow-list
  before anything is acknowledged or decoded; a frame naming another serial, or a record
  naming another datalogger, is dropped and counted. A second connection claiming a
  datalogger that is connected and talking is refused, unless it comes from the same
  address (the datalogger reconnecting) or the first went silent.
- *Caps*: at most ``max_dataloggers`` datalogger serials (the allow-list's not counted) and
  ``max_inverters`` inverters per datalogger; beyond them the handler hears
  :meth:`ListenerHandler.limit_reached` once per serial.
- *Slots*: at most :data:`MAX_PER_ADDRESS` connections per address and ``max_connections``
  in all (capped by the process's file-descriptor limit, :func:`effective_max_connections`);
  at the limit the least recently active unidentified connection makes room, then an idle
  identified one; an address that served a configured datalogger is preferred.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
import logging
import resource
import time
from typing import Final, Protocol

from ...common.log import LogOnce
from ...common.redact import redact_serial
from . import commands, messages
from .command_queue import (
    DEFAULT_TIMEOUT as DEFAULT_COMMAND_TIMEOUT,
    Command,
    CommandQueue,
    CommandStats,
    CommandUnavailable,
    Offer,
)
from .framing import Frame, FrameDecoder, FrameError, Function
from .limits import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_DATALOGGERS, DEFAULT_MAX_INVERTERS
from .proxy import ProxyLink, UpstreamState
from .records import Record, RecordError, parse_record

_LOGGER = logging.getLogger(__name__)

RECORD_FUNCTIONS: Final = frozenset({Function.ANNOUNCE, Function.DATA, Function.BUFFERED_DATA})
"""Functions whose payload is a register record we decode."""

MAX_PER_ADDRESS: Final = 8
"""Connections one peer address may hold at once (a datalogger needs one)."""
FD_SHARE: Final = 0.5
"""Share of the process's file-descriptor soft limit the listener may use; the rest stays
for Home Assistant (database, integrations, HTTP)."""
FIRST_FRAME_TIMEOUT: Final = 60.0
"""Seconds a new connection may take to send its first valid frame (a datalogger pings or
announces at once)."""
UNIDENTIFIED_GRACE: Final = 1.0
"""Seconds a new connection is safe from eviction by another unknown address (a datalogger
sends its first frame within milliseconds of connecting)."""
IDLE_TIMEOUT: Final = 900.0
"""Seconds without a valid frame after which a connection is closed: three 5-minute data
intervals. Also ends half-open connections of dataloggers that lost power at night."""
DEFAULT_DATA_INTERVAL: Final = 300.0
"""Seconds between data records unless the datalogger reported item 0x04 (ShineWiFi: 5 min).
A connection silent this long is idle: it may be evicted or replaced by its serial."""
ERROR_BUDGET: Final = 32
"""Bad frames one connection may send before it is closed."""
MAX_WRITE_BUFFER: Final = 256 * 1024
"""Bytes waiting to be sent to a peer that does not read, before the connection is closed."""
PEER_FAILURE_LIMIT: Final = 20
PEER_FAILURE_WINDOW: Final = 60.0
"""A peer address whose connections closed without a valid frame this many times within
the window is refused until the window passes (unless a datalogger is connected from it)."""
MAX_TRUSTED_HOSTS: Final = 64
"""Addresses remembered as having served a datalogger (bounded memory)."""
DECODE_SLICE: Final = 0.005
"""Seconds of decoding per event-loop turn: a burst of records (a datalogger replaying its
buffer) is decoded in slices, so Home Assistant's other work waits at most this long."""
DECODE_QUEUE_HIGH: Final = 2000
DECODE_QUEUE_LOW: Final = 500
"""Records waiting for decoding above which connections stop being read (TCP flow control
holds the sender), and below which reading resumes."""
SWEEP_INTERVAL: Final = 5.0
"""Seconds between checks of the timeouts above."""


def effective_max_connections(requested: int, proxy: bool) -> int:
    """``requested`` capped to :data:`FD_SHARE` of the file-descriptor soft limit.

    Each datalogger connection holds one descriptor, two in proxy mode (its upstream).
    Read with :func:`resource.getrlimit` (``RLIMIT_NOFILE``); at least 1.
    """
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return requested
    usable = int(soft * FD_SHARE) // (2 if proxy else 1)
    return max(1, min(requested, usable))


@dataclass(slots=True)
class ListenerStats:
    """Counters of one listener, for diagnostics sensors and the diagnostics download."""

    connections_total: int = 0
    connections_open: int = 0
    connections_rejected: int = 0
    """Connections closed because the datalogger is not in the allowed list."""
    frames_received: int = 0
    frames_dropped: int = 0
    """Bad frames (length, CRC, protocol, serial) and undecodable records."""
    records_live: int = 0
    records_buffered: int = 0
    records_announce: int = 0
    acks_sent: int = 0
    """Acknowledgements sent by us (server mode, or proxy with the upstream away)."""
    upstream_connects: int = 0
    upstream_failures: int = 0
    """Upstream connections that failed, or closed within the short-session time."""
    rejected_limit: int = 0
    """Connections refused because ``max_connections`` were open (and none could be evicted)."""
    evicted: int = 0
    """Connections closed to make room for a new one at the limit."""
    rejected_rate: int = 0
    """Connections refused from a peer with too many failed connections."""
    rejected_address: int = 0
    """Connections refused because their address held :data:`MAX_PER_ADDRESS` already."""
    rejected_serial: int = 0
    """Connections closed for a first frame whose serial field is invalid (NUL, space...)."""
    rejected_duplicate: int = 0
    """Connections refused for claiming the serial of a connected, talking datalogger."""
    rejected_cap: int = 0
    """Connections refused because ``max_dataloggers`` serials are known already."""
    replaced: int = 0
    """Connections of a datalogger closed because it reconnected (same address or silent)."""
    frames_foreign: int = 0
    """Frames and records naming a datalogger other than the connection's (dropped)."""
    records_over_cap: int = 0
    """Records of an inverter beyond ``max_inverters`` of its datalogger (dropped)."""
    records_bad_inverter: int = 0
    """Records whose inverter serial is invalid or equals the datalogger's (dropped)."""
    closed_idle: int = 0
    """Connections closed for sending nothing valid within the first-frame or idle timeout."""
    closed_errors: int = 0
    """Connections closed after spending their error budget of bad frames."""
    closed_overflow: int = 0
    """Connections closed because the peer did not read what we sent."""
    handler_errors: int = 0
    """Frames whose handling raised (a bug): counted, logged once, the session goes on."""
    commands_blocked: int = 0
    """Frames from the Growatt cloud the command policy did not relay."""
    backlog_dropped: int = 0
    """Records dropped from a full upstream backlog (the oldest first)."""
    last_error: str | None = None

    @property
    def connections_refused(self) -> int:
        """Connections refused or closed for misbehaving, all reasons together."""
        return (
            self.connections_rejected
            + self.rejected_limit
            + self.evicted
            + self.rejected_rate
            + self.rejected_address
            + self.rejected_serial
            + self.rejected_duplicate
            + self.rejected_cap
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

    @property
    def data_interval(self) -> float:
        """Seconds between data records: item 0x04 (minutes) if reported and sane."""
        try:
            minutes = float(self.config.get(messages.ConfigItem.DATA_INTERVAL, ""))
        except ValueError:
            return DEFAULT_DATA_INTERVAL
        return minutes * 60 if 0 < minutes <= 60 else DEFAULT_DATA_INTERVAL

    @property
    def redacted(self) -> str:
        """The serial as logs show it (model prefix only), or the peer address."""
        return redact_serial(self.serial) if self.serial else self.peer


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

    def limit_reached(self, kind: str, peer: str, serial: str) -> None:
        """A datalogger or inverter (``kind``) was refused at its cap (once per serial).

        ``kind`` is "dataloggers" or "inverters"; ``peer`` the address it came from.
        """

    def backlog_changed(self, serial: str) -> None:
        """The proxy backlog of datalogger ``serial`` changed (the glue persists it)."""


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    """Settings of a :class:`GrowattListener`.

    ``allowed_dataloggers`` empty means any datalogger is served (up to
    ``max_dataloggers``). ``now`` gives local wall-clock time for the datalogger clock
    (0x18 item 0x1f). ``allow_redirect`` and ``allow_commands`` widen the proxy's command
    policy (:func:`.messages.cloud_verdict`). ``local_commands`` lets Home Assistant send
    its own register commands (0x05/0x06/0x10) to the datalogger in proxy mode (server mode
    always may); ``command_timeout`` is the seconds one command waits for its answer before
    its one retry (:mod:`.command_queue`).
    """

    host: str
    port: int
    proxy: bool = False
    upstream_host: str = "server.growatt.com"
    upstream_port: int = 5279
    allowed_dataloggers: frozenset[str] = frozenset()
    allow_redirect: bool = False
    allow_commands: bool = False
    now: Callable[[], datetime] = datetime.now
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_dataloggers: int = DEFAULT_MAX_DATALOGGERS
    max_inverters: int = DEFAULT_MAX_INVERTERS
    local_commands: bool = False
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT


class GrowattListener:
    """TCP server accepting datalogger connections on ``config.host``:``config.port``."""

    def __init__(self, config: ListenerConfig, handler: ListenerHandler) -> None:
        """Create a listener; nothing is bound before :meth:`start`."""
        self.config = config
        self.handler = handler
        self.stats = ListenerStats()
        self.command_stats = CommandStats()
        """Counters of the register commands of every connection (:mod:`.command_queue`)."""
        self.max_connections = effective_max_connections(config.max_connections, config.proxy)
        if self.max_connections < config.max_connections:
            _LOGGER.warning(
                "Maximum connections %d lowered to %d: the process may open only so many files",
                config.max_connections,
                self.max_connections,
            )
        self.upstreams: dict[str, UpstreamState] = {}
        """Proxy state per datalogger serial: backlog and backoff, kept across connections."""
        self.known_dataloggers: set[str] = set()
        """Datalogger serials served (this run or, from the glue, before a restart)."""
        self.known_inverters: dict[str, set[str]] = {}
        """Inverter serials per datalogger serial (same sources)."""
        self.trusted_hosts: set[str] = set()
        """Addresses from which a configured datalogger connected."""
        self.duplicate_log = LogOnce(_LOGGER)
        self.foreign_log = LogOnce(_LOGGER)
        self.blocked_log = LogOnce(_LOGGER)
        self.answer_log = LogOnce(_LOGGER)
        """Register answers that match no command of ours (server mode) or are malformed."""
        self._limit_reported: set[str] = set()
        self._server: asyncio.Server | None = None
        self._connections: set[_DataloggerConnection] = set()
        self._by_serial: dict[str, _DataloggerConnection] = {}
        self._peer_failures: dict[str, deque[float]] = {}
        self._sweep_handle: asyncio.TimerHandle | None = None
        self._decode_queue: deque[tuple[_DataloggerConnection, Frame]] = deque()
        self._decode_handle: asyncio.Handle | None = None
        self._paused: set[_DataloggerConnection] = set()

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

    # -- memory the glue seeds and persists -------------------------------------------------
    def remember(self, datalogger: str, inverters: Iterable[str] = ()) -> None:
        """Count a datalogger (and its inverters) known before a restart against the caps."""
        self.known_dataloggers.add(datalogger)
        self.known_inverters.setdefault(datalogger, set()).update(inverters)

    def forget(self, serial: str) -> None:
        """Forget a datalogger or inverter the user deleted (frees its place in the caps)."""
        self.known_dataloggers.discard(serial)
        self.known_inverters.pop(serial, None)
        for inverters in self.known_inverters.values():
            inverters.discard(serial)
        self._limit_reported.discard(serial)

    def upstream_state(self, serial: str) -> UpstreamState:
        """The proxy state of datalogger ``serial`` (created empty)."""
        state = self.upstreams.get(serial)
        if state is None:
            state = self.upstreams[serial] = UpstreamState(serial, self.stats)
        return state

    def restore_backlog(self, serial: str, frames: Iterable[bytes]) -> None:
        """Put back the backlog of ``serial`` saved before a restart (oldest first)."""
        self.upstream_state(serial).backlog.extend(frames)

    def trust_hosts(self, hosts: Iterable[str]) -> None:
        """Favour addresses that served a datalogger before a restart (bounded)."""
        for host in hosts:
            if len(self.trusted_hosts) >= MAX_TRUSTED_HOSTS:
                break
            self.trusted_hosts.add(host)

    def backlogs(self) -> dict[str, list[bytes]]:
        """Every non-empty backlog, oldest record first (for the glue to save)."""
        return {s: list(state.backlog) for s, state in self.upstreams.items() if state.backlog}

    # -- inverter register commands (issue 19) -----------------------------------------------
    def commands_available(self, inverter: str) -> bool:
        """Whether exactly one live connection carries ``inverter`` and commands are allowed.

        Allowed in server mode always, in proxy mode only with ``local_commands``. A
        connection carries an inverter once one of its records was decoded.
        """
        return self._command_target(inverter) is not None

    def _command_target(self, inverter: str) -> _DataloggerConnection | None:
        """The one live connection carrying ``inverter``, if commands are allowed.

        None also when two connections (two datalogger serials) claim the inverter: a
        LAN client posing as a second datalogger of it must neither receive our commands
        nor answer them, and we cannot tell which one is real.
        """
        if self.config.proxy and not self.config.local_commands:
            return None
        found = [
            conn
            for conn in self._by_serial.values()
            if conn.commands is not None and not conn.closed and inverter in conn.inverter_units
        ]
        return found[0] if len(found) == 1 else None

    def _target(self, inverter: str) -> _DataloggerConnection:
        conn = self._command_target(inverter)
        if conn is None:
            self.command_stats.unavailable += 1
            if self.config.proxy and not self.config.local_commands:
                raise CommandUnavailable("local commands are not allowed in proxy mode")
            raise CommandUnavailable(
                f"no datalogger connection (or more than one) carries {redact_serial(inverter)}"
            )
        return conn

    async def async_read_registers(self, inverter: str, first: int, last: int) -> dict[int, int]:
        """Read holding registers ``first``..``last`` of ``inverter`` (0x05).

        Returns ``{register: value}`` (raw u16 values).

        Raises:
            ValueError: the range is empty, beyond u16 or over 125 registers (checked
                before anything else: nothing is sent).
            CommandUnavailable: no live connection carries ``inverter``, commands are not
                allowed, the queue is full, or the connection was lost.
            CommandTimeout: no answer after the retry.
            CommandRejected: the datalogger answered without values.
        """
        commands.check_request(Function.READ_REGISTERS, first, last=last)
        answer = await self._target(inverter).command(
            inverter, Function.READ_REGISTERS, first, last, ()
        )
        assert isinstance(answer, commands.RegisterValues)
        return answer.as_dict()

    async def async_write_register(self, inverter: str, register: int, value: int) -> int:
        """Write ``value`` (u16) into holding ``register`` of ``inverter`` (0x06), read back.

        Returns the value read back (0x05) after the write, which the caller compares.

        Raises:
            ValueError: ``register`` or ``value`` beyond u16 (nothing is sent).
            CommandUnavailable, CommandTimeout: as :meth:`async_read_registers`.
            CommandRejected: the datalogger answered that the write (or read-back) failed.
        """
        commands.check_request(Function.WRITE_REGISTER, register, (value,))
        await self._target(inverter).command(
            inverter, Function.WRITE_REGISTER, register, register, (value,)
        )
        return (await self.async_read_registers(inverter, register, register))[register]

    async def async_write_registers(
        self, inverter: str, first: int, values: Sequence[int]
    ) -> dict[int, int]:
        """Write ``values`` into registers from ``first`` on (0x10), then read them back.

        Returns ``{register: value}`` as read back.

        Raises:
            ValueError: no values, more than 123, or a register/value beyond u16.
            CommandUnavailable, CommandTimeout, CommandRejected: as
                :meth:`async_write_register`.
        """
        last = commands.check_request(Function.WRITE_REGISTERS, first, values)
        await self._target(inverter).command(
            inverter, Function.WRITE_REGISTERS, first, last, tuple(values)
        )
        return await self.async_read_registers(inverter, first, last)

    # -- lifecycle --------------------------------------------------------------------------
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
            backlog=max(100, self.max_connections),
            start_serving=False,
        )

    async def start_serving(self) -> None:
        """Accept connections on the bound socket."""
        assert self._server is not None, "bind() first"
        await self._server.start_serving()
        self._sweep_handle = asyncio.get_running_loop().call_later(SWEEP_INTERVAL, self._sweep)

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
        # Records already acknowledged are still decoded: nothing received is lost.
        while self._decode_queue:
            conn, frame = self._decode_queue.popleft()
            conn.guarded(conn.record, frame)
        if self._decode_handle is not None:
            self._decode_handle.cancel()
            self._decode_handle = None
        self._connections.clear()
        self._by_serial.clear()

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

    # -- admission ---------------------------------------------------------------------------
    def _admit(self, peer_host: str) -> bool:
        """Decide whether a new connection may stay (limits); count and say why not."""
        failures = self._peer_failures.get(peer_host)
        favoured = peer_host in self.trusted_hosts
        trusted = favoured or any(
            c.identified and c.peer_host == peer_host for c in self._connections
        )
        if failures is not None and len(failures) >= PEER_FAILURE_LIMIT and not trusted:
            self.stats.rejected_rate += 1
            return False
        same_host = [c for c in self._connections if c.peer_host == peer_host]
        if len(same_host) >= MAX_PER_ADDRESS:
            victim = self._victim(same_host, favoured)
            if victim is None:
                self.stats.rejected_address += 1
                return False
            self._evict(victim)
        if len(self._connections) >= self.max_connections:
            victim = self._victim(list(self._connections), favoured)
            if victim is None:
                self.stats.rejected_limit += 1
                return False
            self._evict(victim)
        return True

    def _evict(self, victim: _DataloggerConnection) -> None:
        self.stats.evicted += 1
        victim.close()

    def _victim(
        self, candidates: list[_DataloggerConnection], favoured: bool
    ) -> _DataloggerConnection | None:
        """The connection to close for a new one, or None when none may be closed.

        First the least recently active unidentified connection past its grace time (a
        newcomer from an address that served a configured datalogger, ``favoured``, may
        also close younger ones from other addresses); then identified connections idle for
        longer than their data interval, dataloggers not configured first.
        """
        now = time.monotonic()
        unidentified = [
            c
            for c in candidates
            if not c.identified
            and (
                now - c.session.connected_at > UNIDENTIFIED_GRACE
                or (favoured and c.peer_host not in self.trusted_hosts)
            )
        ]
        if unidentified:
            return min(unidentified, key=lambda c: c.last_activity)
        idle = [
            c
            for c in candidates
            if c.identified
            and c.session.last_frame_at is not None
            and now - c.session.last_frame_at > c.session.data_interval
        ]
        if not idle:
            return None
        return min(idle, key=lambda c: (self.configured(c.session.serial), c.last_activity))

    def _failed(self, peer_host: str) -> None:
        """A connection from ``peer_host`` ended without a single valid frame."""
        self._peer_failures.setdefault(peer_host, deque()).append(time.monotonic())

    # -- identity ----------------------------------------------------------------------------
    def _allowed(self, serial: str) -> bool:
        allowed = self.config.allowed_dataloggers
        return not allowed or serial.upper() in allowed

    def configured(self, serial: str | None) -> bool:
        """Whether ``serial`` is on the allow-list or was served before."""
        if serial is None:  # pragma: no cover - only identified connections are asked
            return False
        return serial.upper() in self.config.allowed_dataloggers or serial in self.known_dataloggers

    def _claim(self, conn: _DataloggerConnection, serial: str) -> bool:
        """Let ``conn`` become datalogger ``serial``: allow-list, cap, duplicate rules."""
        if not self._allowed(serial):
            self.stats.connections_rejected += 1
            _LOGGER.debug("Rejected datalogger %s from %s", redact_serial(serial), conn.peer_host)
            return False
        if (
            not self.configured(serial)
            and len(self.known_dataloggers) >= self.config.max_dataloggers
        ):
            self.stats.rejected_cap += 1
            self._limit("dataloggers", conn.peer_host, serial)
            return False
        other = self._by_serial.get(serial)
        if other is not None and not other.closed:
            if other.peer_host != conn.peer_host and not other.silent():
                self.stats.rejected_duplicate += 1
                self.duplicate_log.problem(
                    "A second connection from %s claimed datalogger %s, which is connected "
                    "from %s and talking; refused (counted in diagnostics)",
                    conn.peer_host,
                    redact_serial(serial),
                    other.peer_host,
                )
                return False
            self.stats.replaced += 1
            other.close()
        self._by_serial[serial] = conn
        self.known_dataloggers.add(serial)
        if len(self.trusted_hosts) < MAX_TRUSTED_HOSTS:
            self.trusted_hosts.add(conn.peer_host)
        return True

    def _limit(self, kind: str, peer: str, serial: str) -> None:
        """Tell the handler once per serial that it was refused at its cap."""
        if serial in self._limit_reported:
            return
        self._limit_reported.add(serial)
        self.handler.limit_reached(kind, peer, serial)

    def accept_inverter(self, datalogger: str, inverter: str, peer: str) -> bool:
        """Whether a record of ``inverter`` may be decoded (cap ``max_inverters``)."""
        known = self.known_inverters.setdefault(datalogger, set())
        if inverter in known:
            return True
        if len(known) >= self.config.max_inverters:
            self.stats.records_over_cap += 1
            self._limit("inverters", peer, inverter)
            return False
        known.add(inverter)
        return True

    # -- decoding in slices ------------------------------------------------------------------
    def enqueue_record(self, conn: _DataloggerConnection, frame: Frame) -> None:
        """Queue a record of ``conn`` for decoding after this turn's acks are out.

        Above :data:`DECODE_QUEUE_HIGH` waiting records, ``conn`` stops being read.
        """
        self._decode_queue.append((conn, frame))
        if self._decode_handle is None:
            self._decode_handle = asyncio.get_running_loop().call_soon(self._decode_slice)
        busy = len(self._decode_queue) > DECODE_QUEUE_HIGH
        if busy and conn not in self._paused and conn.transport is not None and not conn.closed:
            conn.transport.pause_reading()
            self._paused.add(conn)

    def _decode_slice(self) -> None:
        """Decode queued records for up to :data:`DECODE_SLICE`, then yield to the loop."""
        queue = self._decode_queue
        deadline = time.perf_counter() + DECODE_SLICE
        while queue:  # at least one record per slice
            conn, frame = queue.popleft()
            conn.guarded(conn.record, frame)  # also of a connection closed since the ack
            if time.perf_counter() >= deadline:
                break
        if queue:
            self._decode_handle = asyncio.get_running_loop().call_soon(self._decode_slice)
        else:
            self._decode_handle = None
        if len(queue) < DECODE_QUEUE_LOW and self._paused:
            for conn in self._paused:
                if conn.transport is not None and not conn.closed:
                    conn.transport.resume_reading()
            self._paused.clear()

    def _released(self, conn: _DataloggerConnection) -> None:
        """Bookkeeping when ``conn`` closes."""
        self._connections.discard(conn)
        self._paused.discard(conn)
        serial = conn.session.serial
        if serial is not None and self._by_serial.get(serial) is conn:
            del self._by_serial[serial]
        if conn.session.last_frame_at is None:
            self._failed(conn.peer_host)


class _DataloggerConnection(asyncio.Protocol):
    """One datalogger TCP connection (and, in proxy mode, its link to the upstream)."""

    def __init__(self, listener: GrowattListener) -> None:
        self.listener = listener
        self.stats = listener.stats
        self.decoder = FrameDecoder()
        now = time.monotonic()
        self.session = DataloggerSession(peer="?", connected_at=now)
        self.last_activity = now
        self.peer_host = "?"
        self.bad_frames = 0
        self.transport: asyncio.Transport | None = None
        self.identified = False
        self.closed = False
        self.server_seq = 0
        self.config_queried = False
        self.link: ProxyLink | None = None
        self.commands: CommandQueue | None = None
        """Our register commands (set when identified, if commands are allowed)."""
        self.inverter_units: dict[str, int] = {}
        """Unit id (header byte 6) of each inverter's records, announce first: the address
        of its register commands (grott ``grottserver.py``: "inverterno")."""

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

    def data_received(self, data: bytes) -> None:
        self.last_activity = time.monotonic()
        for item in self.decoder.feed(data):
            if self.closed:
                return
            if isinstance(item, FrameError):
                self._drop(item)
                continue
            self.guarded(self._handle, item)

    def guarded(self, handle: Callable[[Frame], None], frame: Frame) -> None:
        """Run ``handle(frame)``; a fault is counted and logged once, the session goes on."""
        try:
            handle(frame)
        except Exception as err:
            self.stats.handler_errors += 1
            self.stats.last_error = f"{type(err).__name__}: {err}"
            if self.stats.handler_errors == 1:
                _LOGGER.exception(
                    "Error handling a frame from %s; the session goes on", self.session.redacted
                )

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()

    # -- helpers ------------------------------------------------------------------------
    def is_closed(self) -> bool:
        """Whether :meth:`close` ran (re-read after every await)."""
        return self.closed

    def silent(self) -> bool:
        """Whether no valid frame came for longer than the datalogger's data interval."""
        last = self.session.last_frame_at or self.session.connected_at
        return time.monotonic() - last > self.session.data_interval

    def close(self) -> None:
        """Close the connection and its upstream; report the disconnect once."""
        if self.closed:
            return
        self.closed = True
        self.listener._released(self)
        self.stats.connections_open -= 1
        if self.link is not None:
            self.link.close()
        if self.commands is not None:
            self.commands.close()
        if self.transport is not None:
            self.transport.close()
        if self.identified:
            self.listener.handler.datalogger_disconnected(self.session)

    def write(self, data: bytes) -> None:
        """Send ``data`` to the datalogger; close a peer that does not read."""
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
        """Check the frame's datalogger serial; return False when it must not be handled.

        The first valid serial fixes the connection's identity (allow-list, cap and
        duplicate rules); an invalid one on an unidentified connection closes it.
        """
        try:
            serial = messages.datalogger_serial(frame)
        except messages.SerialError as err:
            self._drop(err)
            if not self.identified:
                self.stats.rejected_serial += 1
                self.close()
            return False
        if self.identified:
            if serial is not None and serial != self.session.serial:
                self._foreign(serial)
                return False
            return True
        if serial is None:
            return False  # a bare answer byte before any identity: nothing to do with it
        if not self.listener._claim(self, serial):
            self.close()
            return False
        self.session.serial = serial
        self.session.protocol = frame.protocol
        self.session.unit = frame.unit
        self.identified = True
        self.listener.handler.datalogger_connected(self.session)
        config = self.listener.config
        if config.proxy:
            self.link = ProxyLink(self, self.listener.upstream_state(serial))
        if not config.proxy or config.local_commands:
            link = self.link
            self.commands = CommandQueue(
                self.write,
                self.listener.command_stats,
                config.command_timeout,
                ready=None if link is None else link.cloud_idle,
                on_idle=None if link is None else link.release_cloud_commands,
            )
        return True

    def _foreign(self, serial: str) -> None:
        """A frame or record naming another datalogger than the connection's: drop it."""
        self.stats.frames_foreign += 1
        self.listener.foreign_log.problem(
            "Datalogger %s sent frames naming datalogger %s; dropped (counted in diagnostics)",
            self.session.redacted,
            redact_serial(serial),
        )

    # -- datalogger -> us -----------------------------------------------------------------
    def _handle(self, frame: Frame) -> None:
        self.stats.frames_received += 1
        if not self._identify(frame):
            return
        self.session.last_frame_at = time.monotonic()
        function = frame.function
        if function in commands.REGISTER_FUNCTIONS and self._command_answer(frame):
            return
        if self.link is not None:
            self.link.from_datalogger(frame)
        elif function == Function.PING:
            self.write(messages.ping_echo(frame))
        elif function in messages.ACKED_FUNCTIONS:
            self.ack(frame)
            if function == Function.ANNOUNCE:
                self._after_announce(frame)
        if function in RECORD_FUNCTIONS:
            # Decoding waits until every ack of this loop iteration is out: with many
            # dataloggers, acks do not queue behind other records' processing.
            self.listener.enqueue_record(self, frame)
        elif function == Function.GET_CONFIG:
            parsed = messages.parse_config_item(frame)
            if parsed is not None:
                item, value = parsed
                self.session.config[item] = value
                self.listener.handler.config_received(self.session, item, value)

    def ack(self, frame: Frame) -> None:
        """Acknowledge a record ourselves (counted)."""
        self.write(messages.ack(frame))
        self.stats.acks_sent += 1

    def record(self, frame: Frame) -> None:
        """Decode an acknowledged record and hand it to the handler (checks first)."""
        try:
            record = parse_record(frame)
            inverter = messages.inverter_serial(frame)
        except RecordError as err:
            self._drop(err)
            return
        except messages.SerialError as err:
            self.stats.records_bad_inverter += 1
            self._drop(err)
            return
        # The datalogger serial field was checked against the session's before the ack.
        serial = self.session.serial
        assert serial is not None
        if inverter == serial:
            self.stats.records_bad_inverter += 1
            return
        if not self.listener.accept_inverter(serial, inverter, self.peer_host):
            return
        if frame.function == Function.ANNOUNCE:
            self.inverter_units[inverter] = frame.unit
        else:
            self.inverter_units.setdefault(inverter, frame.unit)
        if record.buffered:
            self.stats.records_buffered += 1
        elif record.holding:
            self.stats.records_announce += 1
        else:
            self.stats.records_live += 1
        self.listener.handler.record_received(self.session, record)

    def _command_answer(self, frame: Frame) -> bool:
        """Give a register answer to our queue; return whether it was consumed.

        Not ours: server mode drops it (counted as stray: nobody else sends commands);
        proxy mode relays it to the cloud, whose command it answers. Malformed while ours
        is outstanding: a counted drop.
        """
        queue = self.commands
        offer = Offer.NOT_OURS if queue is None else queue.offer(frame)
        if offer is Offer.NOT_OURS:
            if self.link is not None:
                return False
            self.listener.command_stats.stray += 1
        elif offer is Offer.MALFORMED:
            self._drop(commands.CommandAnswerError("malformed answer to a register command"))
        else:
            return True
        self.listener.answer_log.problem(
            "Datalogger %s sent a %s answer to a register command (function %#04x); dropped, "
            "further ones are counted in the diagnostics",
            self.session.redacted,
            "malformed" if offer is Offer.MALFORMED else "stray",
            frame.function,
        )
        return True

    async def command(
        self, inverter: str, function: int, first: int, last: int, values: tuple[int, ...]
    ) -> commands.RegisterValues | commands.WriteResult:
        """Encode a register command for ``inverter`` and run it through the queue.

        ``values`` is empty for a read, one value for 0x06, the range's values for 0x10.

        Raises:
            ValueError: the encoder refused the registers or values (nothing sent).
            CommandError: see :meth:`.CommandQueue.run`.
        """
        queue, serial, protocol = self.commands, self.session.serial, self.session.protocol
        assert queue is not None
        assert serial is not None
        assert protocol is not None
        unit = self.inverter_units[inverter]
        seq = self._next_seq()
        if function == Function.READ_REGISTERS:
            raw = commands.read_registers(seq, protocol, unit, serial, first, last)
        elif function == Function.WRITE_REGISTER:
            raw = commands.write_register(seq, protocol, unit, serial, first, values[0])
        else:
            raw = commands.write_registers(seq, protocol, unit, serial, first, values)
        return await queue.run(Command(function, seq, first, last, raw))

    def _after_announce(self, frame: Frame) -> None:
        """Server mode: set the datalogger clock, then query its config once per connection."""
        serial = self.session.serial
        if serial is None:
            return
        now = self.listener.config.now()
        self.write(messages.set_clock(self._next_seq(), frame.protocol, frame.unit, serial, now))
        if not self.config_queried:
            self.config_queried = True
            self.write(messages.get_config(self._next_seq(), frame.protocol, frame.unit, serial))
