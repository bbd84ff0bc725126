"""Reading P1 telegrams with dsmr-parser's asyncio protocol, counting what is dropped.

:class:`P1Protocol` is dsmr-parser's ``DSMRProtocol`` with its ``TelegramParser``, changed
in how bytes become telegrams and what it does with bad input:

- :class:`BoundedTelegramBuffer` frames telegrams as dsmr-parser's ``TelegramBuffer`` does
  (a telegram is ``/`` ... ``!`` + CRC + CRLF, matched by dsmr-parser's own regular
  expression), but looks for telegram ends only in the new chunk plus a 7-character tail
  and keeps at most ``longest telegram + 8 KiB`` after a telegram start: dsmr-parser 1.4.3
  keeps everything and rescans the whole buffer on every chunk, which a junk stream turns
  into seconds of event-loop stall and megabytes of memory.
- Bytes after a complete telegram up to the next ``/`` (the lines a Q3D's COM-1 gateway
  appends) are counted, not dropped or logged.
- A CRC of 1-3 hexadecimal digits is zero-padded before validation (later dsmr-parser
  versions accept them; 1.4.3 wants 4).
- A telegram with a wrong CRC, one cut short (its start lost to a reconnect or its end to a
  link cut) or one that does not parse is dropped and reported to the :class:`P1Listener`
  to be counted, never logged per telegram (dsmr-parser logs each CRC error at info and
  each parse error with a traceback).
- Encrypted meters (DLMS general-global-cipher frames) are framed here and decrypted by
  dsmr-parser's parser with the user's keys; such frames arriving on a plain version are
  reported as :attr:`DropReason.ENCRYPTED`, so the config flow can say which option to pick.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import InvalidOperation
import logging
import re
from typing import Any, Final, Protocol

from dlms_cosem.exceptions import CryptographyError, LocalDlmsProtocolError
from dsmr_parser.clients.protocol import DSMRProtocol
from dsmr_parser.clients.telegram_buffer import _FIND_TELEGRAMS_REGEX
from dsmr_parser.exceptions import InvalidChecksumError, ParseError
from dsmr_parser.parsers import TelegramParser
from serial import SerialException
from serial_asyncio_fast import create_serial_connection

from .link import ConnectionType, DropCounters, DropReason, P1Settings
from .specs import DSMR_VERSIONS

__all__ = ["ConnectionType", "DropCounters", "DropReason", "P1Settings"]

_LOGGER = logging.getLogger(__name__)

GENERAL_GLOBAL_CIPHER_TAG: Final = 0xDB
"""DLMS APDU tag of a general-global-cipher frame (IEC 62056-5-3, table 9)."""
MAX_ENCRYPTED_FRAME: Final = 4096
"""Larger announced lengths are garbage: the frame buffer resynchronises."""
BUFFER_SLACK: Final = 8192
"""Characters kept after a telegram start beyond the longest telegram of the specification
(:attr:`.specs.DsmrVersion.longest_telegram`); more and the start is dropped."""
_END: Final = re.compile(r"!([A-F0-9]{0,4})\0?\r\n")
"""A telegram's end: the tail of dsmr-parser's ``_FIND_TELEGRAMS_REGEX``."""
END_TAIL: Final = 7
"""Characters before a new chunk rescanned for an end split across chunks (``!ABCD\0\r``)."""
_SHORT_CRC: Final = re.compile(r"!([A-F0-9]{1,3})(\0?\r\n)$")
_ENCRYPTED_HEADER: Final = re.compile(rb"\xdb\x08.{8}[\x00-\x7f\x81\x82]", re.DOTALL)
"""A general-global-cipher frame start: tag, system-title length 8, title, BER length."""
_BLANK: Final = "\r\n\0 "


class P1Listener(Protocol):
    """Receives what a :class:`P1Protocol` reads."""

    def telegram_received(self, telegram: Any, raw: str) -> None:
        """A valid telegram: dsmr-parser's ``Telegram`` and its text (decrypted)."""

    def telegram_dropped(self, reason: DropReason, error: str) -> None:
        """A telegram was dropped for ``reason``."""

    def connection_lost(self, exc: Exception | None) -> None:
        """The serial port or TCP connection closed (``exc`` None: closed by us)."""


class BoundedTelegramBuffer:
    r"""Frames a character stream into telegrams with bounded memory and bounded rescans.

    ``append(chunk)`` returns the complete telegrams (``/`` ... ``!CRC\r\n``, each matched
    by dsmr-parser's ``_FIND_TELEGRAMS_REGEX``) ending in the chunk. Work per chunk is
    O(len(chunk) + :data:`END_TAIL`), plus at most ``cap`` for a telegram's own text;
    the buffer never holds more than ``cap`` characters after a start. ``on_drop`` is called
    with :attr:`DropReason.TRUNCATED` (a start superseded by a new ``/``, or data before the
    first start on a link) or :attr:`DropReason.OVERFLOW` (more than ``cap``), at most once
    per chunk for each; ``on_trailing(n)`` with the non-blank characters after a telegram.
    """

    def __init__(
        self,
        cap: int,
        on_drop: Callable[[DropReason], None],
        on_trailing: Callable[[int], None],
    ) -> None:
        self.cap = cap
        self._buffer = ""
        """Unconsumed text; starts with ``/`` whenever it is not empty."""
        self._after_telegram = False
        self._on_drop = on_drop
        self._on_trailing = on_trailing

    @property
    def has_partial(self) -> bool:
        """Whether the buffer holds the start of a telegram (data short of a whole one)."""
        return bool(self._buffer)

    def __len__(self) -> int:
        return len(self._buffer)

    def append(self, chunk: str) -> list[str]:
        """Add received characters; return the complete telegrams now framed."""
        telegrams: list[str] = []
        if not self._buffer:
            chunk = self._skip_to_start(chunk)
            if not chunk:
                return telegrams
        scan_from = max(0, len(self._buffer) - END_TAIL)
        text = self._buffer + chunk
        consumed = 0
        for end in _END.finditer(text, scan_from):
            start = text.rfind("/", consumed, end.start())
            if start < 0:
                continue  # an end without a start: gateway lines or junk
            self._classify(text[consumed:start])
            consumed = end.end()
            candidate = text[start:consumed]
            if _FIND_TELEGRAMS_REGEX.fullmatch(candidate):
                telegrams.append(candidate)
            self._after_telegram = True
        self._buffer = ""
        rest = text[consumed:]
        start = rest.rfind("/")
        self._classify(rest if start < 0 else rest[:start])
        if start >= 0:
            if len(rest) - start > self.cap:
                self._on_drop(DropReason.OVERFLOW)
                self._after_telegram = False
            else:
                self._buffer = rest[start:]
        return telegrams

    def _classify(self, head: str) -> None:
        """Report text between telegrams: trailing lines, then any start that never ended."""
        first = head.find("/")
        trailing = (head if first < 0 else head[:first]).strip(_BLANK)
        if trailing:
            self._on_trailing(len(trailing))
        if first >= 0:
            self._on_drop(DropReason.TRUNCATED)

    def _skip_to_start(self, chunk: str) -> str:
        """Drop what precedes the first ``/``: trailing lines or a telegram's lost head."""
        start = chunk.find("/")
        head = (chunk if start < 0 else chunk[:start]).strip(_BLANK)
        if head:
            if self._after_telegram:
                self._on_trailing(len(head))
            else:
                self._on_drop(DropReason.TRUNCATED)
                self._after_telegram = True  # one drop per lost head, not per chunk
        return "" if start < 0 else chunk[start:]

    def clear(self) -> None:
        """Forget everything (a new link starts mid-stream)."""
        self._buffer = ""
        self._after_telegram = False


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
    """dsmr-parser's DSMR protocol, reporting telegrams and drops to a listener.

    ``counters`` (optional) receives the trailing-byte count; drops go to the listener.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        settings: P1Settings,
        listener: P1Listener,
    ) -> None:
        version = DSMR_VERSIONS[settings.dsmr_version]
        super().__init__(loop, TelegramParser(version.specification))
        self.listener = listener
        self.checksum = bool(version.specification.get("checksum_support"))
        self.trailing_bytes = 0
        """Non-blank characters after complete telegrams (ignored), on this link."""
        self._keys = (settings.encryption_key, settings.authentication_key)
        self.telegram_buffer = BoundedTelegramBuffer(
            version.longest_telegram + BUFFER_SLACK, self._drop, self._trailing
        )
        self.frame_buffer = EncryptedFrameBuffer(self._discard) if version.encrypted else None
        self._encrypted_reported = False

    def _drop(self, reason: DropReason) -> None:
        self.listener.telegram_dropped(reason, "incomplete telegram")

    def _discard(self) -> None:
        """Report a telegram cut short (data discarded by the buffer)."""
        self._drop(DropReason.TRUNCATED)

    def _trailing(self, count: int) -> None:
        self.trailing_bytes += count

    def data_received(self, data: bytes) -> None:
        """Frame received bytes into telegrams (bounded buffer) and handle each."""
        self._active = True
        if self.frame_buffer is not None:
            for frame in self.frame_buffer.append(data):
                self.handle_telegram(frame.hex())
            return
        if _ENCRYPTED_HEADER.search(data) and not self._encrypted_reported:
            self._encrypted_reported = True  # once per link: the flow's hint, not a count
            self.listener.telegram_dropped(
                DropReason.ENCRYPTED, "general-global-cipher frame (0xDB) on a plain version"
            )
        for telegram in self.telegram_buffer.append(data.decode("latin1")):
            self.handle_telegram(telegram)

    def handle_telegram(self, telegram: str) -> None:
        """Parse one framed telegram; report it, or report why it was dropped."""
        if self.checksum and (short := _SHORT_CRC.search(telegram)) is not None:
            # dsmr-parser 1.4.3 wants 4 hex digits; later versions pad (``{1,4}``).
            telegram = f"{telegram[: short.start()]}!{short[1].zfill(4)}{short[2]}"
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
    """No valid telegram arrived in time; ``dropped`` counts those that were invalid.

    ``encrypted``: general-global-cipher frames arrived (an encrypted meter read with a
    plain DSMR version).
    """

    def __init__(self, dropped: int, encrypted: bool = False) -> None:
        super().__init__(f"no valid telegram ({dropped} dropped, encrypted: {encrypted})")
        self.dropped = dropped
        self.encrypted = encrypted


class _FirstTelegram:
    """Listener waiting for the first valid telegram."""

    def __init__(self, future: asyncio.Future[Any]) -> None:
        self.future = future
        self.dropped = 0
        self.encrypted = False

    def telegram_received(self, telegram: Any, raw: str) -> None:
        if not self.future.done():
            self.future.set_result(telegram)

    def telegram_dropped(self, reason: DropReason, error: str) -> None:
        self.dropped += 1
        self.encrypted |= reason is DropReason.ENCRYPTED

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
        raise NoTelegramError(listener.dropped, listener.encrypted) from err
    finally:
        transport.close()
