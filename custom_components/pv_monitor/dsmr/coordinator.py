"""Push coordinator of a DSMR P1 smart-meter entry.

Reads telegrams with :mod:`.dsmr.reader` (dsmr-parser), keeps every one of them for
in-process consumers (:meth:`DsmrCoordinator.async_subscribe`, :attr:`latest_net_power_w`,
:attr:`history`), and wakes only the entities whose state must be written according to
:class:`.dsmr.publish.StatePublisher`. The connection is re-opened forever with a backoff
(1 s doubling up to the reconnect-interval option); a silent link (no valid telegram for
:data:`.dsmr.const.STALE_AFTER` seconds) makes the meter's sensors unavailable and is
re-opened too.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
import logging
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from ..const import DOMAIN
from .const import (
    CONF_AUTHENTICATION_KEY,
    CONF_CONNECTION_TYPE,
    CONF_DSMR_VERSION,
    CONF_ENCRYPTION_KEY,
    CONF_POWER_INTERVAL,
    CONF_RECONNECT_INTERVAL,
    CONF_SERIAL_PATH,
    DEFAULT_POWER_INTERVAL,
    DEFAULT_RECONNECT_INTERVAL,
    FIRST_RETRY_DELAY,
    FIRST_TELEGRAM_WAIT,
    HISTORY_KEEP,
    STALE_AFTER,
)
from .p1.mapping import MeterReading, decode_identifier, reading_from_telegram
from .p1.publish import StatePublisher
from .p1.reader import ConnectionType, DropCounters, DropReason, P1Settings, async_connect

_LOGGER = logging.getLogger(__name__)

STATUS_CONTEXT = "__status__"
"""Listener context of the connectivity and dropped-telegram entities."""
TO_REDACT = {CONF_ENCRYPTION_KEY, CONF_AUTHENTICATION_KEY, "equipment_id", "serial_number"}

type DsmrConfigEntry = ConfigEntry[DsmrCoordinator]


def settings_from_data(data: dict[str, Any] | Any) -> P1Settings:
    """Build the reader settings from config-entry data (or flow input of the same shape)."""
    connection = ConnectionType(data[CONF_CONNECTION_TYPE])
    return P1Settings(
        connection=connection,
        dsmr_version=data[CONF_DSMR_VERSION],
        path=data.get(CONF_SERIAL_PATH),
        host=data.get(CONF_HOST),
        port=data.get(CONF_PORT),
        encryption_key=data.get(CONF_ENCRYPTION_KEY, ""),
        authentication_key=data.get(CONF_AUTHENTICATION_KEY, ""),
    )


def meter_device_identifier(entry: ConfigEntry[Any]) -> tuple[str, str]:
    """Device-registry identifier of the electricity meter of ``entry``."""
    return (DOMAIN, f"dsmr_{entry.unique_id or entry.entry_id}")


class DsmrCoordinator(DataUpdateCoordinator[MeterReading | None]):
    """Owns the P1 connection of one entry and the latest reading.

    ``data`` is the latest :class:`MeterReading` (None before the first telegram).
    Entities listen with a ``context`` equal to their sensor key (or
    :data:`STATUS_CONTEXT`); only the keys the publisher selects are woken.
    """

    config_entry: DsmrConfigEntry

    def __init__(self, hass: HomeAssistant, entry: DsmrConfigEntry) -> None:
        """Build the coordinator (not yet connected) from the entry's data and options."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} dsmr {entry.title}",
            update_interval=None,
        )
        self.data = None
        self.settings = settings_from_data(entry.data)
        options = entry.options
        self.publisher = StatePublisher(options.get(CONF_POWER_INTERVAL, DEFAULT_POWER_INTERVAL))
        self.reconnect_interval = max(
            FIRST_RETRY_DELAY,
            float(options.get(CONF_RECONNECT_INTERVAL, DEFAULT_RECONNECT_INTERVAL)),
        )
        self.counters = DropCounters()
        self.history: deque[MeterReading] = deque(maxlen=HISTORY_KEEP)
        """Recent readings, oldest first, for in-process consumers."""
        self.connected = False
        self.online = False
        """A valid telegram arrived less than STALE_AFTER seconds ago."""
        self.reconnects = 0
        self.last_raw: str | None = None
        self.known_keys: set[str] = set()
        self._transport: asyncio.BaseTransport | None = None
        self._stopping = False
        self._delay = FIRST_RETRY_DELAY
        self._retry_cancel: CALLBACK_TYPE | None = None
        self._stale_cancel: CALLBACK_TYPE | None = None
        self._burst = 0
        self._lost_logged = False
        self._first = asyncio.Event()
        self._subscribers: list[Callable[[MeterReading], None]] = []
        self._new_key_callbacks: list[Callable[[], None]] = []

    # -- lifecycle --------------------------------------------------------------------------
    async def async_setup(self) -> None:
        """Register the meter device, connect and wait briefly for the first telegram.

        Raises:
            ConfigEntryNotReady: the serial port or TCP address cannot be opened.
        """
        entry = self.config_entry
        dr.async_get(self.hass).async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={meter_device_identifier(entry)},
            manufacturer="DSMR smart meter",
            name=entry.title,
            model=f"DSMR {self.settings.dsmr_version}",
        )
        try:
            await self._async_open()
        except OSError as err:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="dsmr_cannot_connect",
                translation_placeholders={"target": self.settings.label, "error": str(err)},
            ) from err
        try:
            await asyncio.wait_for(self._first.wait(), FIRST_TELEGRAM_WAIT)
        except TimeoutError:
            _LOGGER.debug("No telegram from %s yet; entities appear with the first", entry.title)

    async def async_start(self) -> None:
        """Nothing to start: telegrams already flow since :meth:`async_setup`."""

    async def async_stop(self) -> None:
        """Close the connection, cancel the retry and stale timers."""
        self._stopping = True
        for cancel in (self._retry_cancel, self._stale_cancel):
            if cancel is not None:
                cancel()
        self._retry_cancel = self._stale_cancel = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def _async_open(self) -> None:
        _transport, _protocol = await async_connect(self.hass.loop, self.settings, self)
        self._transport = _transport
        self.connected = True
        _LOGGER.debug("Connected to %s", self.settings.label)
        self.async_update_context({STATUS_CONTEXT})

    @callback
    def _schedule_reconnect(self) -> None:
        if self._stopping or self._retry_cancel is not None:
            return
        delay = self._delay
        self._delay = min(self._delay * 2, self.reconnect_interval)
        self._retry_cancel = async_call_later(self.hass, delay, self._retry)

    @callback
    def _retry(self, _now: Any) -> None:
        self._retry_cancel = None
        self.config_entry.async_create_background_task(
            self.hass, self._async_reconnect(), f"{DOMAIN} dsmr reconnect {self.settings.label}"
        )

    async def _async_reconnect(self) -> None:
        if self._stopping:
            return
        self.reconnects += 1
        try:
            await self._async_open()
        except OSError as err:
            _LOGGER.debug("Reconnecting to %s failed: %s", self.settings.label, err)
            self._schedule_reconnect()

    # -- P1Listener ---------------------------------------------------------------------------
    @callback
    def telegram_received(self, telegram: Any, raw: str) -> None:
        """Store the reading, feed the consumers, create and wake entities."""
        reading = reading_from_telegram(telegram)
        self.counters.telegrams += 1
        if self._burst:
            _LOGGER.info(
                "Valid telegrams from %s again after %d dropped", self.settings.label, self._burst
            )
            self._burst = 0
        self._delay = FIRST_RETRY_DELAY
        self._lost_logged = False
        if self.data is None and reading.equipment_id:
            self._update_meter_device(reading)
        self.data = reading
        self.history.append(reading)
        self.last_raw = raw
        self._first.set()
        if self._stale_cancel is not None:
            self._stale_cancel()
        self._stale_cancel = async_call_later(self.hass, STALE_AFTER, self._went_stale)
        for subscriber in list(self._subscribers):
            subscriber(reading)
        keys = {key for key, _value in reading.states()}
        if not keys <= self.known_keys:
            self.known_keys |= keys
            for cb in list(self._new_key_callbacks):
                cb()
        if not self.online:
            self.online = True
            self.publisher.reset()
            self.publisher.publish(self.hass.loop.time(), reading.states())
            self.async_update_listeners()
            return
        self.async_update_context(
            set(self.publisher.publish(self.hass.loop.time(), reading.states()))
        )

    @callback
    def telegram_dropped(self, reason: DropReason, error: str) -> None:
        """Count a dropped telegram; log the first of a burst only."""
        self.counters.dropped[reason] += 1
        if self._burst == 0:
            _LOGGER.warning(
                "Dropped a telegram from %s (%s: %s); further drops until the next valid "
                "telegram are only counted (sensor 'Dropped telegrams')",
                self.settings.label,
                reason,
                error,
            )
        else:
            _LOGGER.debug("Dropped a telegram (%s: %s)", reason, error)
        self._burst += 1
        self.async_update_context({STATUS_CONTEXT})

    @callback
    def connection_lost(self, exc: Exception | None) -> None:
        """Schedule a reconnection unless we are stopping."""
        self._transport = None
        self.connected = False
        if self._stopping:
            return
        if not self._lost_logged:
            self._lost_logged = True
            _LOGGER.warning(
                "Connection to %s lost (%s); reconnecting", self.settings.label, exc or "closed"
            )
        self.async_update_context({STATUS_CONTEXT})
        self._schedule_reconnect()

    @callback
    def _went_stale(self, _now: Any) -> None:
        """No telegram for STALE_AFTER seconds: sensors unavailable, re-open the link."""
        self._stale_cancel = None
        self.online = False
        _LOGGER.warning(
            "No valid telegram from %s for %s s; reconnecting", self.settings.label, STALE_AFTER
        )
        self.async_update_listeners()
        if self._transport is not None:
            self._transport.close()  # connection_lost schedules the reconnection

    # -- consumers and entities -----------------------------------------------------------------
    @property
    def latest_net_power_w(self) -> float | None:
        """Net grid power of the freshest telegram (W, import positive), None when offline."""
        if not self.online or self.data is None:
            return None
        return self.data.net_power_w

    @callback
    def async_subscribe(self, cb: Callable[[MeterReading], None]) -> CALLBACK_TYPE:
        """Call ``cb`` with every valid reading (before any state write); returns unsubscribe."""
        self._subscribers.append(cb)

        def remove() -> None:
            self._subscribers.remove(cb)

        return remove

    @callback
    def async_add_new_key_listener(self, cb: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``cb`` when a telegram brings a sensor key not seen before."""
        self._new_key_callbacks.append(cb)

        def remove() -> None:
            self._new_key_callbacks.remove(cb)

        return remove

    @callback
    def async_update_context(self, contexts: set[str]) -> None:
        """Wake the entities listening with one of ``contexts``."""
        if not contexts:
            return
        for update_callback, context in list(self._listeners.values()):
            if context in contexts:
                update_callback()

    def _update_meter_device(self, reading: MeterReading) -> None:
        registry = dr.async_get(self.hass)
        device = registry.async_get_device(identifiers={meter_device_identifier(self.config_entry)})
        if device is not None and reading.equipment_id:
            registry.async_update_device(
                device.id,
                serial_number=decode_identifier(reading.equipment_id),
                sw_version=reading.version,
            )

    def diagnostics(self) -> dict[str, Any]:
        """Settings, counters and the last telegram, identifiers and keys redacted."""
        reading = self.data
        raw = self.last_raw
        secrets: set[str] = set()
        if reading is not None:
            secrets = {i for i in [reading.equipment_id] if i} | {
                d.equipment_id for d in reading.mbus.values() if d.equipment_id
            }
        for secret in secrets:
            if raw:
                raw = raw.replace(secret, "**REDACTED**")
        return async_redact_data(
            {
                "settings": {
                    "connection": self.settings.connection,
                    "dsmr_version": self.settings.dsmr_version,
                    CONF_ENCRYPTION_KEY: self.settings.encryption_key,
                    CONF_AUTHENTICATION_KEY: self.settings.authentication_key,
                    "power_interval": self.publisher.power_interval,
                    "reconnect_interval": self.reconnect_interval,
                },
                "connected": self.connected,
                "online": self.online,
                "reconnects": self.reconnects,
                "telegrams": self.counters.telegrams,
                "dropped": {str(k): v for k, v in self.counters.dropped.items()},
                "last_reading": None
                if reading is None
                else {
                    "equipment_id": reading.equipment_id,
                    "version": reading.version,
                    "timestamp": reading.timestamp.isoformat() if reading.timestamp else None,
                    "values": reading.values,
                    "mbus": {
                        str(ch): {
                            "medium": d.medium,
                            "device_type": d.device_type,
                            "equipment_id": d.equipment_id,
                            "value": d.value,
                            "unit": d.unit,
                        }
                        for ch, d in reading.mbus.items()
                    },
                },
                "last_telegram": raw,
            },
            TO_REDACT,
        )
