"""Loopback peers for end-to-end tests: a datalogger client and a fake Growatt server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
import contextlib
import random

from custom_components.pv_monitor.growatt_local.protocol import messages
from custom_components.pv_monitor.growatt_local.protocol.framing import (
    Frame,
    FrameDecoder,
    encode_frame,
)

TIMEOUT = 5.0


class FakeDongle:
    """A TCP client playing a datalogger: writes split and glued like the network does."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.rng = random.Random(5279)
        self.decoder = FrameDecoder()
        self.inbox: list[Frame] = []

    @classmethod
    async def connect(cls, port: int) -> FakeDongle:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, *frames: bytes, split: bool = True) -> None:
        """Send frames glued into one stream, cut at random points into several writes."""
        data = b"".join(frames)
        if not split:
            self.writer.write(data)
            await self.writer.drain()
            return
        pos = 0
        while pos < len(data):
            step = self.rng.randrange(1, 200)
            self.writer.write(data[pos : pos + step])
            await self.writer.drain()
            await asyncio.sleep(0)
            pos += step

    async def receive(self, count: int = 1) -> list[Frame]:
        """Wait for ``count`` frames from the server."""
        async with asyncio.timeout(TIMEOUT):
            while len(self.inbox) < count:
                chunk = await self.reader.read(4096)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.inbox.extend(f for f in self.decoder.feed(chunk) if isinstance(f, Frame))
        out, self.inbox = self.inbox[:count], self.inbox[count:]
        return out

    async def expect_raw(self, *expected: bytes) -> None:
        """Wait for frames equal byte for byte to ``expected``."""
        got = await self.receive(len(expected))
        assert [f.raw.hex() for f in got] == [e.hex() for e in expected]

    async def closed(self) -> bool:
        """Whether the server closed the connection (EOF within the timeout)."""
        try:
            async with asyncio.timeout(TIMEOUT):
                while await self.reader.read(4096):
                    pass  # answers sent before the close
                return True
        except ConnectionError:
            return True
        except TimeoutError:
            return False

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


class FakeGrowattServer:
    """A fake upstream Growatt server: acks records, echoes pings, records what it got."""

    def __init__(self, commands: Iterable[bytes] = ()) -> None:
        self.received: list[Frame] = []
        self.commands = list(commands)
        """Frames sent to each new connection after its first announce."""
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self.connections = 0
        self.ack = True
        """Whether records are acknowledged (False: play a server that stopped answering)."""

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Go down hard: stop listening and drop every connection."""
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()
        self.writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.add(writer)
        decoder = FrameDecoder()
        announced = False
        try:
            while chunk := await reader.read(4096):
                for frame in decoder.feed(chunk):
                    if not isinstance(frame, Frame):
                        continue
                    self.received.append(frame)
                    if frame.function == 0x16:
                        writer.write(messages.ping_echo(frame))
                    elif frame.function in messages.ACKED_FUNCTIONS and self.ack:
                        writer.write(messages.ack(frame))
                        if frame.function == 0x03 and not announced:
                            announced = True
                            for command in self.commands:
                                writer.write(command)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self.writers.discard(writer)
            writer.close()


class CommandDongle(FakeDongle):
    """A datalogger that answers the server's register commands as the captured ones do.

    Answers (layouts in ``tests/fixtures/growatt/commands/README.md``, from the captured
    JonasMH/Growatt2Mqtt and bremme/shine2mqtt answers): same seq, unit and function as
    the command, then the datalogger serial field; 0x05: first, last and the values (no
    values when a register is unknown: the "empty register get response" of grott);
    0x06: register, result byte (0x00 done, 0x01 failed) and the value; 0x10: first, last,
    result. ``registers`` is the inverter's holding registers; a write to a register in
    ``reject`` fails and changes nothing. Call :meth:`answer_commands` after the announce;
    every other frame the server sends lands in ``inbox``.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.serial = ""
        self.protocol = 6
        self.registers: dict[int, int] = {}
        self.reject: set[int] = set()
        self.commands: list[Frame] = []
        """Register commands received, in order (retries included)."""
        self.silent = 0
        """Commands still to leave unanswered (a busy RS-485 bus)."""
        self.before_answer: list[bytes] = []
        """Frames sent glued in front of the next answer (records, pings), then cleared."""
        self.task: asyncio.Task[None] | None = None

    def answer_commands(self, serial: str, protocol: int, registers: dict[int, int]) -> None:
        """Start answering register commands in the background."""
        self.serial, self.protocol, self.registers = serial, protocol, dict(registers)
        self.task = asyncio.get_running_loop().create_task(self._serve())

    async def _serve(self) -> None:
        # No asyncio.timeout here: tests fire the loop's timers to drive command timeouts.
        with contextlib.suppress(ConnectionError):
            while chunk := await self.reader.read(4096):
                for frame in self.decoder.feed(chunk):
                    if not isinstance(frame, Frame):
                        continue
                    if frame.function not in (0x05, 0x06, 0x10):
                        self.inbox.append(frame)
                        continue
                    self.commands.append(frame)
                    if self.silent:
                        self.silent -= 1
                        continue
                    glued, self.before_answer = self.before_answer, []
                    await self.send(*glued, self.answer(frame))

    def answer(self, frame: Frame) -> bytes:
        """The answer a datalogger gives to register command ``frame``."""
        body = frame.payload[frame.serial_width :]
        first = int.from_bytes(body[0:2], "big")
        second = int.from_bytes(body[2:4], "big")
        if frame.function == 0x05:
            known = all(r in self.registers for r in range(first, second + 1))
            values = [self.registers[r] for r in range(first, second + 1)] if known else []
            tail = _u16(first, second, *values)
        elif frame.function == 0x06:
            ok = first not in self.reject
            if ok:
                self.registers[first] = second
            tail = _u16(first) + (b"\x00" if ok else b"\x01") + _u16(self.registers.get(first, 0))
        else:
            values = [int.from_bytes(body[i : i + 2], "big") for i in range(4, len(body), 2)]
            ok = not self.reject.intersection(range(first, second + 1))
            if ok:
                self.registers.update(zip(range(first, second + 1), values, strict=True))
            tail = _u16(first, second) + (b"\x00" if ok else b"\x01")
        payload = messages.serial_field(self.serial, self.protocol) + tail
        return encode_frame(frame.seq, frame.protocol, frame.unit, frame.function, payload)


def _u16(*numbers: int) -> bytes:
    return b"".join(n.to_bytes(2, "big") for n in numbers)
