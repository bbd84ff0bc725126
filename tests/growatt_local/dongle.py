"""Loopback peers for end-to-end tests: a datalogger client and a fake Growatt server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
import contextlib
import random

from custom_components.pv_monitor.growatt_local.protocol import messages
from custom_components.pv_monitor.growatt_local.protocol.framing import Frame, FrameDecoder

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
