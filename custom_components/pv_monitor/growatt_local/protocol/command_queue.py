"""One datalogger connection's queue of our inverter register commands (0x05/0x06/0x10).

Pure asyncio (no Home Assistant import). Rules:

- One command outstanding per connection (a datalogger forwards one Modbus request at a
  time on its RS-485 bus); the others wait in order, at most :data:`MAX_QUEUE` in all, so a
  stuck or hostile datalogger cannot make memory grow (beyond: :class:`CommandUnavailable`).
- No answer within ``timeout`` seconds: the same bytes (same sequence number) are sent once
  more; no answer again: :class:`CommandTimeout`. A late answer to the first try completes
  the retry, since both carry the same sequence number.
- An answer completes the outstanding command when its function and registers are the
  command's, and its sequence number is the command's or none we used lately (the
  datalogger echoes it: see :mod:`.commands`). An answer with the sequence number of a
  command already finished is *late*, counted and dropped; one that matches nothing is
  reported as not ours (the caller drops it in server mode, relays it to the cloud in proxy
  mode). A malformed answer while a command of its function is outstanding is counted and
  dropped; the command keeps waiting.
- Connection lost: every command fails at once with :class:`CommandUnavailable`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
import enum
from typing import Final

from .commands import CommandAnswerError, RegisterValues, WriteResult, parse_answer
from .framing import Frame

DEFAULT_TIMEOUT: Final = 10.0
"""Seconds to wait for an answer before the one retry. grott's server waits up to 10 s
for an inverter's answer (``MaxInverterResponseWait`` in johanmeijer/grott
``grottserver.py``); an answer travels datalogger -> RS-485 -> inverter and back."""
MAX_QUEUE: Final = 16
"""Commands one connection may hold (the outstanding one included)."""
RECENT: Final = 16
"""Sequence numbers of finished commands remembered to recognise late answers."""

type Answer = RegisterValues | WriteResult


class CommandError(Exception):
    """Base class of the errors a register command ends with."""


class CommandTimeout(CommandError):  # noqa: N818 - the names of the API (issue 19)
    """No answer came, after the one retry."""


class CommandRejected(CommandError):  # noqa: N818 - the names of the API (issue 19)
    """The datalogger answered "failed": result byte not 0x00, or a read without values."""


class CommandUnavailable(CommandError):  # noqa: N818 - the names of the API (issue 19)
    """No connection for the inverter, or commands not allowed, queue full, connection lost.

    Raised when no live connection carries the inverter, in proxy mode without the
    ``local_commands`` option, when the connection's queue is full, and for every command
    still queued or outstanding when the connection is lost.
    """


@dataclass(frozen=True, slots=True)
class Command:
    """One register command as sent: ``raw`` is its wire frame (see :mod:`.commands`)."""

    function: int
    seq: int
    first: int
    last: int
    raw: bytes


@dataclass(slots=True)
class CommandStats:
    """Counters of every connection's command queue (one instance per listener)."""

    sent: int = 0
    """Command frames written, retries included."""
    answered: int = 0
    retries: int = 0
    timeouts: int = 0
    rejected: int = 0
    """Answers saying "failed" (result byte, or a read without values)."""
    unavailable: int = 0
    """Commands refused for a full queue or failed by a lost connection."""
    late: int = 0
    """Answers to a command already finished (answered, or given up)."""
    stray: int = 0
    """Register answers that belong to no command of ours (server mode; dropped)."""
    malformed: int = 0
    """Register answers whose layout does not fit their function (dropped)."""


class Offer(enum.Enum):
    """What :meth:`CommandQueue.offer` did with a datalogger's register answer."""

    ANSWER = "answer"
    LATE = "late"
    MALFORMED = "malformed"
    NOT_OURS = "not_ours"


@dataclass(slots=True)
class _Pending:
    command: Command
    future: asyncio.Future[Answer]
    attempts: int = 0


class CommandQueue:
    """The register commands of one datalogger connection (see the module docstring).

    ``send`` writes a frame to the datalogger; ``ready`` says whether a command may be
    sent now (proxy mode: no command of the cloud awaits its answer); ``on_idle`` runs when
    the outstanding command finished (proxy mode: release the cloud's held commands).
    """

    def __init__(
        self,
        send: Callable[[bytes], None],
        stats: CommandStats,
        timeout: float = DEFAULT_TIMEOUT,
        ready: Callable[[], bool] | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        """Create an empty, open queue."""
        self._send = send
        self.stats = stats
        self.timeout = timeout
        self._ready = ready
        self._on_idle = on_idle
        self._waiting: deque[_Pending] = deque()
        self._current: _Pending | None = None
        self._recent: deque[tuple[int, int]] = deque(maxlen=RECENT)
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def busy(self) -> bool:
        """Whether a command is outstanding (sent, not yet answered or given up)."""
        return self._current is not None

    def __len__(self) -> int:
        """Commands held: the outstanding one and those waiting."""
        return len(self._waiting) + (self._current is not None)

    async def run(self, command: Command) -> Answer:
        """Queue ``command``, send it in turn and return the datalogger's answer.

        Raises:
            CommandUnavailable: the queue is closed or holds :data:`MAX_QUEUE` commands,
                or the connection was lost before the answer.
            CommandTimeout: no answer after the retry.
            CommandRejected: the answer says "failed".
        """
        if self._closed or len(self) >= MAX_QUEUE:
            self.stats.unavailable += 1
            reason = "the connection is closed" if self._closed else "too many commands queued"
            raise CommandUnavailable(reason)
        pending = _Pending(command, asyncio.get_running_loop().create_future())
        self._waiting.append(pending)
        self.kick()
        return await pending.future

    def kick(self) -> None:
        """Send the next waiting command if none is outstanding and ``ready`` allows it."""
        if self._current is not None or self._closed:
            return
        if self._ready is not None and not self._ready():
            return
        while self._waiting:
            pending = self._waiting.popleft()
            if not pending.future.done():  # its caller may have been cancelled meanwhile
                self._current = pending
                self._transmit()
                return

    def _transmit(self) -> None:
        current = self._current
        assert current is not None
        current.attempts += 1
        self.stats.sent += 1
        self._timer = asyncio.get_running_loop().call_later(self.timeout, self._expired)
        self._send(current.command.raw)

    def _expired(self) -> None:
        self._timer = None
        current = self._current
        if current is None:  # pragma: no cover - the timer is cancelled with the command
            return
        if current.attempts < 2:
            self.stats.retries += 1
            self._transmit()
            return
        self.stats.timeouts += 1
        command = current.command
        self._finish(
            CommandTimeout(
                f"no answer to function {command.function:#04x} for registers "
                f"{command.first}..{command.last} after {current.attempts} tries"
            )
        )

    def _finish(self, outcome: Answer | CommandError) -> None:
        """End the outstanding command with ``outcome``; go on with the next."""
        current = self._current
        assert current is not None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._current = None
        self._recent.append((current.command.function, current.command.seq))
        if not current.future.done():
            if isinstance(outcome, CommandError):
                current.future.set_exception(outcome)
            else:
                current.future.set_result(outcome)
        if self._on_idle is not None:
            self._on_idle()
        self.kick()

    def offer(self, frame: Frame) -> Offer:
        """Match a datalogger's 0x05/0x06/0x10 frame against our commands (counted)."""
        current = self._current
        if current is not None and frame.function == current.command.function:
            try:
                answer = parse_answer(frame)
            except CommandAnswerError:
                self.stats.malformed += 1
                return Offer.MALFORMED
            if self._matches(current.command, frame.seq, answer):
                self.stats.answered += 1
                self._complete(answer)
                return Offer.ANSWER
        if (frame.function, frame.seq) in self._recent:
            self.stats.late += 1
            return Offer.LATE
        return Offer.NOT_OURS

    def _matches(self, command: Command, seq: int, answer: Answer) -> bool:
        if (answer.first, answer.last) != (command.first, command.last):
            return False
        return seq == command.seq or (command.function, seq) not in self._recent

    def _complete(self, answer: Answer) -> None:
        """Finish the outstanding command with ``answer``, or reject it if it failed."""
        failed = not answer.ok if isinstance(answer, WriteResult) else not answer.complete
        if not failed:
            self._finish(answer)
            return
        self.stats.rejected += 1
        what = "the write" if isinstance(answer, WriteResult) else "the read (no values)"
        self._finish(
            CommandRejected(
                f"the datalogger answered that {what} of registers "
                f"{answer.first}..{answer.last} failed"
            )
        )

    def close(self) -> None:
        """The connection is gone: fail every command with :class:`CommandUnavailable`."""
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending = list(self._waiting)
        if self._current is not None:
            pending.insert(0, self._current)
        self._current = None
        self._waiting.clear()
        for item in pending:
            if not item.future.done():
                self.stats.unavailable += 1
                item.future.set_exception(CommandUnavailable("the connection was lost"))
