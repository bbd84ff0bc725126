"""Proxy mode: the link between one datalogger connection and the Growatt server.

Pure asyncio (no Home Assistant import). What public proxies taught us, and where we differ:

- grott (johanmeijer/grott ``grottproxy.py``) relays byte for byte and, with ``blockcmd``,
  blocks every configure command from the server except the clock set (0x18 item 0x1f):
  our default policy is the same (:func:`.messages.cloud_verdict`), with options for
  re-pointing items and for the rest (register commands 0x05/0x06/0x10, reboot 0x20).
- grott opens the upstream connection on accept, for any client; we open it only for an
  identified, allowed datalogger, and redial with a delay that grows across failures and
  across upstream sessions shorter than :data:`SHORT_SESSION` (an upstream that accepts and
  closes at once is a failure, not a success).

Records go to the upstream one at a time, in order, from one backlog per datalogger serial
(:class:`UpstreamState`, kept by the listener across reconnections and saved by the glue
across restarts): the head is sent, and removed only when the upstream acknowledges it.
The datalogger gets the upstream's acknowledgement when it comes within
:data:`UPSTREAM_ACK_TIMEOUT`, otherwise ours (likewise for pings), so it never buffers
or drops the link because the cloud is slow or gone.

Register commands (0x05/0x06/0x10) of the cloud and of Home Assistant (with the
``local_commands`` option) never overlap on the datalogger, so their answers cannot be mixed
whatever sequence numbers the two sides pick: ours is sent only while no relayed cloud
command awaits its answer (:meth:`ProxyLink.cloud_idle`), and a cloud command arriving while
ours is outstanding is held (at most :data:`HELD_CLOUD_COMMANDS`) and relayed as soon as
ours finished. Answers to ours are consumed by the listener and never relayed.
"""

from __future__ import annotations

import asyncio
from collections import deque
import logging
from typing import TYPE_CHECKING, Final

from ...common.log import LogOnce
from ...common.redact import redact_serial
from . import messages
from .framing import Frame, FrameDecoder, Function

if TYPE_CHECKING:
    from .server import ListenerStats, _DataloggerConnection

_LOGGER = logging.getLogger(__name__)

UPSTREAM_ACK_TIMEOUT: Final = 2.0
"""Seconds a record or ping may wait for the upstream's answer before we answer locally
(dataloggers drop the link after about 15 unanswered frames)."""
UPSTREAM_STALL: Final = 30.0
"""Seconds the upstream may leave a record unacknowledged before the connection is
dropped and redialled (a failure)."""
UPSTREAM_BACKLOG: Final = 2000
"""Records kept per datalogger while the upstream is away, relayed in order when it is
back: about 7 days of 5-minute records; the oldest are dropped first beyond that."""
UPSTREAM_CONNECT_TIMEOUT: Final = 10.0
UPSTREAM_BACKOFF: Final = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Seconds before the next upstream attempt after 1, 2, ... failures (the last repeats):
a broken upstream sees at most one connection a minute after the first two minutes."""
SHORT_SESSION: Final = 5.0
"""An upstream session shorter than this counts as a failure."""
HELD_CLOUD_COMMANDS: Final = 16
"""Cloud register commands held while one of ours is outstanding; beyond, the oldest is
dropped (counted as blocked): the cloud repeats what it still wants."""


class UpstreamState:
    """Per datalogger serial: backlog, consecutive failures and their once-logged fault."""

    def __init__(self, serial: str, stats: ListenerStats) -> None:
        """Empty state of datalogger ``serial``; counts go to the listener's ``stats``."""
        self.serial = serial
        self.stats = stats
        self.backlog: deque[bytes] = deque(maxlen=UPSTREAM_BACKLOG)
        self.last_announce: bytes | None = None
        self.failures = 0
        self.log = LogOnce(_LOGGER)

    def append(self, raw: bytes) -> None:
        """Queue a record for the upstream (the oldest goes when the backlog is full)."""
        if len(self.backlog) == self.backlog.maxlen:
            self.stats.backlog_dropped += 1
        self.backlog.append(raw)

    def delay(self) -> float:
        """Seconds to wait before the next attempt."""
        if not self.failures:
            return 0.0
        return UPSTREAM_BACKOFF[min(self.failures, len(UPSTREAM_BACKOFF)) - 1]

    def failed(self, host: str, reason: str) -> None:
        """Count a failed attempt or short session; log the first of a run."""
        self.failures += 1
        self.stats.upstream_failures += 1
        self.log.problem(
            "Growatt upstream %s for datalogger %s %s; acknowledging locally and retrying "
            "with growing delays",
            host,
            redact_serial(self.serial),
            reason,
        )

    def succeeded(self, host: str) -> None:
        """The upstream acknowledged or stayed long enough: reset the backoff."""
        self.failures = 0
        self.log.recovered("Growatt upstream %s is answering again", host)


class ProxyLink:
    """The upstream side of one identified datalogger connection in proxy mode."""

    def __init__(self, conn: _DataloggerConnection, state: UpstreamState) -> None:
        """Link ``conn`` to the upstream; the connection task starts at once."""
        self.conn = conn
        self.state = state
        self.listener = conn.listener
        self.upstream: _UpstreamConnection | None = None
        self.in_flight: tuple[int, int] | None = None
        self.need_announce = False
        self.waiting: dict[tuple[int, int], tuple[asyncio.TimerHandle, Frame]] = {}
        """Datalogger frames (records, pings) whose answer we await from the upstream."""
        self.stall: asyncio.TimerHandle | None = None
        self.stalled = False
        self.cloud_commands: dict[tuple[int, int], asyncio.TimerHandle] = {}
        """Relayed cloud register commands awaiting the datalogger's answer, by
        ``(function, seq)``; each expires after the command timeout."""
        self.held: deque[Frame] = deque()
        """Cloud register commands held while one of our commands is outstanding."""
        self.task = asyncio.get_running_loop().create_task(
            self._run(), name=f"growatt upstream {conn.session.peer}"
        )

    @property
    def up(self) -> bool:
        """Whether the upstream connection is open."""
        return self.upstream is not None and self.upstream.connected

    def close(self) -> None:
        """The datalogger connection closed: drop the upstream, keep the backlog."""
        self.task.cancel()
        for handle in self.cloud_commands.values():
            handle.cancel()
        self.cloud_commands.clear()
        self.held.clear()
        if self.upstream is not None:
            self.upstream.close()
        self._answer_locally()

    # -- datalogger -> upstream ------------------------------------------------------------
    def from_datalogger(self, frame: Frame) -> None:
        """Relay, queue or answer a frame of the (identified) datalogger."""
        function = frame.function
        if function in messages.ACKED_FUNCTIONS:
            if function == Function.ANNOUNCE:
                self.state.last_announce = frame.raw
            self.state.append(frame.raw)
            self.listener.handler.backlog_changed(self.state.serial)
            self._pump()
            key = messages.frame_key(frame.raw)
            if self.in_flight == key and len(self.state.backlog) == 1:
                self._await_answer(key, frame)
            else:
                self.conn.ack(frame)
            return
        if function in messages.REGISTER_COMMANDS:
            self._cloud_answered(messages.frame_key(frame.raw))
        if not self.up:
            if function == Function.PING:
                self.conn.write(messages.ping_echo(frame))
            return
        assert self.upstream is not None
        self.upstream.write(frame.raw)
        if function == Function.PING:
            self._await_answer(messages.frame_key(frame.raw), frame)

    def _await_answer(self, key: tuple[int, int], frame: Frame) -> None:
        old = self.waiting.pop(key, None)
        if old is not None:
            old[0].cancel()
        handle = asyncio.get_running_loop().call_later(
            UPSTREAM_ACK_TIMEOUT, self._answer_locally, key
        )
        self.waiting[key] = (handle, frame)

    def _answer_locally(self, key: tuple[int, int] | None = None) -> None:
        """Answer one awaited frame (``key``) or all of them ourselves."""
        keys = list(self.waiting) if key is None else [key]
        for k in keys:
            entry = self.waiting.pop(k, None)
            if entry is None:
                continue
            entry[0].cancel()
            if entry[1].function == Function.PING:
                self.conn.write(messages.ping_echo(entry[1]))
            else:
                self.conn.ack(entry[1])

    def _pump(self) -> None:
        """Send the next record (the announce first on a new connection) if none is out."""
        if not self.up or self.in_flight is not None:
            return
        assert self.upstream is not None
        backlog = self.state.backlog
        announce = self.state.last_announce
        raw: bytes | None = None
        if self.need_announce:
            self.need_announce = False
            if announce is not None and not (backlog and backlog[0][7] == Function.ANNOUNCE):
                raw = announce
        if raw is None and backlog:
            raw = backlog[0]
        if raw is None:
            return
        self.in_flight = messages.frame_key(raw)
        self.upstream.write(raw)
        self.stall = asyncio.get_running_loop().call_later(UPSTREAM_STALL, self._stalled)

    def _stalled(self) -> None:
        self.stall = None
        if self.upstream is not None:
            self.stalled = True  # counted as a failure when the connection has closed
            self.upstream.close()

    # -- upstream -> datalogger ------------------------------------------------------------
    def from_upstream(self, frame: Frame) -> None:
        """Match an answer, or relay / block a command of the Growatt cloud."""
        key = messages.frame_key(frame.raw)
        if messages.is_ack(frame):
            if key == self.in_flight:
                self._acked(key)
                self._relay_answer(key, frame)
                self._pump()
            return  # any other ack: for a record already acknowledged locally
        if frame.function == Function.PING:
            self._relay_answer(key, frame)
            return
        config = self.listener.config
        verdict = messages.cloud_verdict(frame, config.allow_redirect, config.allow_commands)
        if verdict is messages.Verdict.RELAY:
            if frame.function in messages.REGISTER_COMMANDS:
                self._cloud_command(frame)
            else:
                self.conn.write(frame.raw)
            return
        self.listener.stats.commands_blocked += 1
        self.listener.blocked_log.problem(
            "Blocked a command of the Growatt cloud for datalogger %s (function %#04x, %s); "
            "further blocked commands are counted in the 'Blocked commands' sensor",
            self.conn.session.redacted,
            frame.function,
            "re-pointing" if verdict is messages.Verdict.BLOCK_REDIRECT else "not needed",
        )

    # -- register commands: the cloud's and ours, one at a time ----------------------------
    def cloud_idle(self) -> bool:
        """Whether no relayed cloud register command awaits its answer (ours may go)."""
        return not self.cloud_commands

    def _cloud_command(self, frame: Frame) -> None:
        """Relay a cloud register command now, or hold it while ours is outstanding."""
        queue = self.conn.commands
        if queue is not None and queue.busy:
            if len(self.held) >= HELD_CLOUD_COMMANDS:
                self.held.popleft()
                self.listener.stats.commands_blocked += 1
            self.held.append(frame)
            return
        key = messages.frame_key(frame.raw)
        old = self.cloud_commands.pop(key, None)
        if old is not None:
            old.cancel()
        timeout = self.listener.config.command_timeout
        self.cloud_commands[key] = asyncio.get_running_loop().call_later(
            timeout, self._cloud_answered, key
        )
        self.conn.write(frame.raw)

    def release_cloud_commands(self) -> None:
        """Our command finished: relay the cloud commands held meanwhile, in order."""
        while self.held:
            self._cloud_command(self.held.popleft())

    def _cloud_answered(self, key: tuple[int, int]) -> None:
        """The cloud command ``key`` was answered (or expired): ours may go."""
        handle = self.cloud_commands.pop(key, None)
        if handle is None:
            return
        handle.cancel()
        if not self.cloud_commands and self.conn.commands is not None:
            self.conn.commands.kick()

    def _acked(self, key: tuple[int, int]) -> None:
        self.in_flight = None
        if self.stall is not None:
            self.stall.cancel()
            self.stall = None
        backlog = self.state.backlog
        if backlog and messages.frame_key(backlog[0]) == key:
            backlog.popleft()
            self.listener.handler.backlog_changed(self.state.serial)
        self.state.succeeded(self.listener.config.upstream_host)

    def _relay_answer(self, key: tuple[int, int], frame: Frame) -> None:
        entry = self.waiting.pop(key, None)
        if entry is not None:  # the datalogger still waits: give it the upstream's answer
            entry[0].cancel()
            self.conn.write(frame.raw)

    # -- connection loop ---------------------------------------------------------------------
    async def _run(self) -> None:
        """Keep an upstream connection open while the datalogger is connected."""
        config = self.listener.config
        loop = asyncio.get_running_loop()
        host = f"{config.upstream_host}:{config.upstream_port}"
        while not self.conn.is_closed():
            if delay := self.state.delay():
                await asyncio.sleep(delay)
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
                self.state.failed(host, f"unreachable ({err})")
                continue
            if self.conn.is_closed():  # closed while we were connecting
                upstream.close()
                return
            started = loop.time()
            self.stalled = False
            self._connected(upstream)
            await upstream.wait_closed()
            if self.stalled:
                self.state.failed(host, "does not acknowledge records")
            elif loop.time() - started < SHORT_SESSION:
                self.state.failed(host, "closed the connection at once")

    def _connected(self, upstream: _UpstreamConnection) -> None:
        self.upstream = upstream
        self.listener.stats.upstream_connects += 1
        self.conn.session.upstream_connected = True
        self.need_announce = True
        self._pump()

    def lost(self) -> None:
        """The upstream connection closed: answer what it left waiting; keep the backlog."""
        self.conn.session.upstream_connected = False
        self.in_flight = None
        if self.stall is not None:
            self.stall.cancel()
            self.stall = None
        self._answer_locally()


class _UpstreamConnection(asyncio.Protocol):
    """Connection from the proxy to the Growatt server for one datalogger."""

    def __init__(self, link: ProxyLink) -> None:
        self.link = link
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
                self.link.from_upstream(item)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connected = False
        if not self._closed.done():
            self._closed.set_result(None)
        self.link.lost()

    def write(self, data: bytes) -> None:
        if self.transport is not None and self.connected:
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def wait_closed(self) -> None:
        await self._closed
