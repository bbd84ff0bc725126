"""Reading P1 telegrams with dsmr-parser's asyncio protocol, counting what is dropped.

:class:`P1Protocol` is dsmr-parser's ``DSMRProtocol`` (its ``TelegramBuffer`` framing and
``TelegramParser``), changed in what it does with bad input: a telegram with a wrong CRC,
one cut short (its start lost to a reconnect or its end to a link cut) or one that does
not parse is dropped and reported to the :class:`P1Listener` to be counted, never logged
per telegram (dsmr-parser logs each CRC error at info and each parse error with a
traceback). Encrypted meters (DLMS general-global-cipher frames) are framed here and
decrypted by dsmr-parser's parser with the user's keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import InvalidOperation
from enum import StrEnum
import logging
from typing import Any, Final, Protocol

from dlms_cosem.exceptions import CryptographyError, LocalDlmsProtocolError
from dsmr_parser.clients.protocol import DSMRProtocol
from dsmr_parser.clients.telegram_buffer import TelegramBuffer
from dsmr_parser.exceptions import InvalidChecksumError, ParseError
from dsmr_parser.parsers import TelegramParser
from serial import SerialException
from serial_asyncio_fast import create_serial_connection

from .specs import DSMR_VERSIONS

_LOGGER = logging.getLogger(__name__)

GENERAL_GLOBAL_CIPHER_TAG: Final = 0xDB
"""DLMS APDU tag of a general-global-cipher frame (IEC 62056-5-3, table 9)."""
MAX_ENCRYPTED_FRAME: Final = 4096
"""Larger announced lengths are garbage: the frame buffer resynchronises."""


class DropReason(StrEnum):
    """Why a telegram was dropped."""

    CRC = "crc"
    """CRC16 in the telegram's last line does not match its content."""
    TRUNCATED = "truncated"
    """Start or end missing: the link was cut or (re)connected mid-telegram."""
    INVALID = "invalid"
    """Not a telegram of the configured specification (or not decryptable)."""


class ConnectionType(StrEnum):
    """How the P1 port is reached."""

    SERIAL = "serial"
    NETWORK = "network"


@dataclass(frozen=True, slots=True)
class P1Settings:
    """Where and how to read: serial ``path`` or network ``host``/``port``, DSMR version."""

    connection: ConnectionType
    dsmr_version: str
    path: str | None = None
    host: str | None = None
    port: int | None = None
    encryption_key: str = ""
    authentication_key: str = ""

    @property
    def label(self) -> str:
        """``host:port`` or the serial path, for logs."""
        if self.connection is ConnectionType.NETWORK:
            return f"{self.host}:{self.port}"
        return str(self.path)


@dataclass(slots=True)
class DropCounters:
    """Telegrams received and dropped, by reason, since the runtime started."""

    telegrams: int = 0
    dropped: dict[DropReason, int] = field(default_factory=lambda: dict.fromkeys(DropReason, 0))

    @property
    def total_dropped(self) -> int:
        """All dropped telegrams."""
        return sum(self.dropped.values())


class P1Listener(Protocol):
    """Receives what a :class:`P1Protocol` reads."""

    def telegram_received(self, telegram: Any, raw: str) -> None:
        """A valid telegram: dsmr-parser's ``Telegram`` and its text (decrypted)."""

    def telegram_dropped(self, reason: DropReason, error: str) -> None:
        """A telegram was dropped for ``reason``."""

    def connection_lost(self, exc: Exception | None) -> None:
        """The serial port or TCP connection closed (``exc`` None: closed by us)."""


class CountingTelegramBuffer(TelegramBuffer):  # type: ignore[misc]
    """dsmr-parser's buffer, reporting data it discards before a complete telegram."""

    def __init__(self, on_discard: Callable[[], None]) -> None:
        super().__init__()
        self._on_discard = on_discard

    def _remove(self, telegram: str) -> None:
        buffer: str = self._buffer
        if buffer[: buffer.index(telegram)].strip("\r\n\0 "):
            self._on_discard()  # the tail or head of a telegram cut short
        super()._remove(telegram)

    @property
    def has_partial(self) -> bool:
        """Whether the buffer holds the start of a telegram (data short of a whole one)."""
        return bool(self._buffer.strip("\r\n\0 "))


class EncryptedFrameBuffer:
    """Splits a byte stream into DLMS general-global-cipher frames.

    Frame: ``0xDB``, system-title length (8), system title, BER length (1, 2 or 3 bytes:
    ``<0x80``, ``0x81 n``, ``0x82 nn``) of security control + frame counter + ciphertext +
    tag. Bytes before a ``0xDB`` are discarded and reported.
    """

    def __init__(self, on_discard: Callable[[], None]) -> None:
        self._buffer = b""
        self._on_discard = on_discard

    @property
    def has_partial(self) -> bool:
        """Whether the buffer holds an incomplete frame."""
        return bool(self._buffer)

    def append(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the complete frames now in the buffer."""
        self._buffer += data
        frames: list[bytes] = []
        while self._buffer:
            start = self._buffer.find(bytes([GENERAL_GLOBAL_CIPHER_TAG]))
            if start != 0:
                self._on_discard()
                self._buffer = b"" if start < 0 else self._buffer[start:]
                continue
            length = self._frame_length()
            if length is None or len(self._buffer) < length:
                break
            if length < 0:
                self._on_discard()
                self._buffer = self._buffer[1:]
                continue
            frames.append(self._buffer[:length])
            self._buffer = self._buffer[length:]
        return frames

    def _frame_length(self) -> int | None:
        """Total frame length, None if not yet known, -1 if the header is garbage."""
        buf = self._buffer
        if len(buf) < 2:
            return None
        title_end = 2 + buf[1]
        if len(buf) < title_end + 1:
            return None
        first = buf[title_end]
        if first < 0x80:
            size, header = first, title_end + 1
        elif first in (0x81, 0x82):
            width = first - 0x80
            if len(buf) < title_end + 1 + width:
                return None
            size = int.from_bytes(buf[title_end + 1 : title_end + 1 + width], "big")
            header = title_end + 1 + width
        else:
            return -1
        if buf[1] != 8 or size > MAX_ENCRYPTED_FRAME:
            return -1
        return header + size


class P1Protocol(DSMRProtocol):  # type: ignore[misc]
    """dsmr-parser's DSMR protocol, reporting telegrams and drops to a listener."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        settings: P1Settings,
        listener: P1Listener,
    ) -> None:
        version = DSMR_VERSIONS[settings.dsmr_version]
        super().__init__(loop, TelegramParser(version.specification))
        self.listener = listener
        self._keys = (settings.encryption_key, settings.authentication_key)
        self.telegram_buffer = CountingTelegramBuffer(self._discard)
        self.frame_buffer = EncryptedFrameBuffer(self._discard) if version.encrypted else None

    def _discard(self) -> None:
        """Report a telegram cut short (data discarded by the buffer)."""
        self.listener.telegram_dropped(DropReason.TRUNCATED, "incomplete telegram")

    def data_received(self, data: bytes) -> None:
        """Frame received bytes into telegrams (dsmr-parser's buffer) and handle each."""
        self._active = True
        if self.frame_buffer is not None:
            for frame in self.frame_buffer.append(data):
                self.handle_telegram(frame.hex())
            return
        self.telegram_buffer.append(data.decode("latin1"))
        for telegram in self.telegram_buffer.get_all():
            self.handle_telegram(telegram)

    def handle_telegram(self, telegram: str) -> None:
        """Parse one framed telegram; report it, or report why it was dropped."""
        try:
            telegram.encode("ascii")
            parsed = self.telegram_parser.parse(telegram, *self._keys)
        except InvalidChecksumError as err:
            self.listener.telegram_dropped(DropReason.CRC, str(err))
            return
        except (
            ParseError,
            ValueError,
            ArithmeticError,
            InvalidOperation,
            IndexError,
            KeyError,
            TypeError,
            RuntimeError,
            CryptographyError,
            LocalDlmsProtocolError,
        ) as err:
            self.listener.telegram_dropped(DropReason.INVALID, f"{type(err).__name__}: {err}")
            return
        if self.frame_buffer is not None:
            telegram = "(decrypted)"
        self.listener.telegram_received(parsed, telegram)

    def connection_lost(self, exc: Exception | None) -> None:
        """Report a telegram cut short by the link, then the closed connection."""
        buffer = self.frame_buffer or self.telegram_buffer
        if buffer.has_partial:
            self._discard()
        self._closed.set()
        self.listener.connection_lost(exc)


async def async_connect(
    loop: asyncio.AbstractEventLoop, settings: P1Settings, listener: P1Listener
) -> tuple[asyncio.BaseTransport, P1Protocol]:
    """Open the serial port or TCP connection of ``settings``, reading into ``listener``.

    The serial port is opened in the executor (pyserial-asyncio-fast), with the settings
    of the DSMR version.

    Raises:
        OSError: the TCP connection failed or the serial port could not be opened
            (``serial.SerialException`` is an ``OSError``).
    """

    def factory() -> P1Protocol:
        return P1Protocol(loop, settings, listener)

    transport: asyncio.BaseTransport
    protocol: asyncio.BaseProtocol
    if settings.connection is ConnectionType.NETWORK:
        transport, protocol = await loop.create_connection(
            factory, str(settings.host), int(settings.port or 0)
        )
    else:
        serial_settings = dict(DSMR_VERSIONS[settings.dsmr_version].serial_settings)
        transport, protocol = await create_serial_connection(
            loop, factory, str(settings.path), **serial_settings
        )
    assert isinstance(protocol, P1Protocol)
    return transport, protocol


class NoTelegramError(Exception):
    """No valid telegram arrived in time; ``dropped`` counts those that were invalid."""

    def __init__(self, dropped: int) -> None:
        super().__init__(f"no valid telegram ({dropped} dropped)")
        self.dropped = dropped


class _FirstTelegram:
    """Listener waiting for the first valid telegram."""

    def __init__(self, future: asyncio.Future[Any]) -> None:
        self.future = future
        self.dropped = 0

    def telegram_received(self, telegram: Any, raw: str) -> None:
        if not self.future.done():
            self.future.set_result(telegram)

    def telegram_dropped(self, reason: DropReason, error: str) -> None:
        self.dropped += 1

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.future.done():
            self.future.set_exception(ConnectionError(f"connection lost: {exc}"))


async def async_read_one_telegram(settings: P1Settings, wait: float) -> Any:
    """Connect, return the first valid telegram (dsmr-parser ``Telegram``), disconnect.

    Raises:
        OSError: cannot connect or open the port, or the connection closed early.
        NoTelegramError: no valid telegram within ``wait`` seconds.
    """
    loop = asyncio.get_running_loop()
    listener = _FirstTelegram(loop.create_future())
    try:
        transport, _protocol = await asyncio.wait_for(async_connect(loop, settings, listener), wait)
    except TimeoutError as err:
        raise OSError(f"timed out connecting to {settings.label}") from err
    except SerialException as err:
        raise OSError(str(err)) from err
    try:
        return await asyncio.wait_for(listener.future, wait)
    except TimeoutError as err:
        raise NoTelegramError(listener.dropped) from err
    finally:
        transport.close()
