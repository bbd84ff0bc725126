"""Push coordinator of a DSMR P1 smart-meter entry.

Reads telegrams with :mod:`.dsmr.reader` (dsmr-parser), keeps every one of them for
in-process consumers (:meth:`DsmrCoordinator.async_subscribe`,
:meth:`DsmrCoordinator.async_subscribe_net_power`, :attr:`latest_net_power_w`,
:attr:`history`), and wakes only the entities whose state must be written according to
:class:`.dsmr.publish.StatePublisher`. Every energy counter (import/export per tariff,
totals, M-Bus gas/water/heat) passes :class:`..common.counter.CounterGuard` before it is
kept or published. The connection is re-opened forever with a backoff (1 s doubling up to
the reconnect-interval option); a silent link (no valid telegram for
:data:`.dsmr.const.STALE_AFTER` seconds since it opened or since the last telegram) makes the
meter's sensors unavailable and is re-opened too. Link loss and recovery are logged once
each at INFO (Home Assistant's log-when-unavailable rule).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.importlib import async_import_module
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..common.callbacks import Callbacks
from ..common.counter import METER_MAX_POWER_KW, CounterGuard
from ..common.log import LogOnce
from ..const import DOMAIN
from .const import (
    CONF_AUTHENTICATION_KEY,
    CONF_ENCRYPTION_KEY,
    CONF_MAX_POWER_KW,
    CONF_POWER_INTERVAL,
    CONF_RECONNECT_INTERVAL,
    DEFAULT_POWER_INTERVAL,
    DEFAULT_RECONNECT_INTERVAL,
    FIRST_RETRY_DELAY,
    FIRST_TELEGRAM_WAIT,
    HISTORY_KEEP,
    STALE_AFTER,
)
from .counters import MeterCounters
from .p1.link import DropCounters, DropReason
from .p1.mapping import MeterReading, decode_identifier, identification, reading_from_telegram
from .p1.publish import StatePublisher
from .settings import settings_from_data

if TYPE_CHECKING:
    from .p1.reader import P1Protocol

_LOGGER = logging.getLogger(__name__)

STATUS_CONTEXT = "__status__"
"""Listener context of the connectivity and dropped-telegram entities."""
TO_REDACT = {CONF_ENCRYPTION_KEY, CONF_AUTHENTICATION_KEY, "equipment_id", "serial_number"}

type DsmrConfigEntry = ConfigEntry[DsmrCoordinator]


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
        self.meter_counters = MeterCounters(
            hass, entry, float(options.get(CONF_MAX_POWER_KW, METER_MAX_POWER_KW))
        )
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
        self._protocol: P1Protocol | None = None
        self._stopping = False
        self._delay = FIRST_RETRY_DELAY
        self._retry_cancel: CALLBACK_TYPE | None = None
        self._stale_cancel: CALLBACK_TYPE | None = None
        self._drops = LogOnce(_LOGGER)
        self._link = LogOnce(_LOGGER, level=logging.INFO)
        self._status_pending: CALLBACK_TYPE | None = None
        self._first = asyncio.Event()
        self._subscribers: Callbacks[[MeterReading]] = Callbacks()
        self._net_power_subscribers: Callbacks[[float | None]] = Callbacks()
        self._new_key_callbacks: Callbacks[[]] = Callbacks()

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
            name=entry.title,
            model=f"DSMR {self.settings.dsmr_version}",
        )
        self.meter_counters.restore()
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
        for cancel in (self._retry_cancel, self._stale_cancel, self._status_pending):
            if cancel is not None:
                cancel()
        self._retry_cancel = self._stale_cancel = self._status_pending = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self._notify_net_power(None)

    async def _async_open(self) -> None:
        reader = await async_import_module(self.hass, f"{__package__}.p1.reader")
        _transport, _protocol = await reader.async_connect(self.hass.loop, self.settings, self)
        self._protocol = _protocol
        if self._stopping:
            _transport.close()
            return
        self._transport = _transport
        self.connected = True
        _LOGGER.debug("Connected to %s", self.settings.label)
        self._arm_stale()
        self.async_update_context({STATUS_CONTEXT})

    def _arm_stale(self) -> None:
        """(Re)start the stale timer: from the link's opening, then from each telegram."""
        if self._stale_cancel is not None:
            self._stale_cancel()
        self._stale_cancel = async_call_later(self.hass, STALE_AFTER, self._went_stale)

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
        """Guard the counters, store the reading, feed the consumers, wake entities."""
        if self._stopping:
            return
        reading = reading_from_telegram(telegram)
        self.meter_counters.apply(reading, dt_util.utcnow().timestamp())
        self.counters.telegrams += 1
        self._drops.recovered("Valid telegrams from %s again", self.settings.label)
        self._link.recovered("Meter %s is back", self.settings.label)
        self._delay = FIRST_RETRY_DELAY
        if self.data is None:
            self._update_meter_device(reading, raw)
        self.data = reading
        self.history.append(reading)
        self.last_raw = raw
        self._first.set()
        self._arm_stale()
        self._subscribers.fire(reading)
        self._notify_net_power(reading.net_power_w)
        keys = {key for key, _value in reading.states()}
        if not keys <= self.known_keys:
            self.known_keys |= keys
            self._new_key_callbacks.fire()
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
        """Count a dropped telegram; log the first of a burst only (nothing while stopping)."""
        if self._stopping:
            return
        self.counters.dropped[reason] += 1
        if not self._drops.problem(
            "Dropped a telegram from %s (%s: %s); further drops until the next valid "
            "telegram are only counted (sensor 'Dropped telegrams')",
            self.settings.label,
            reason,
            error,
        ):
            _LOGGER.debug("Dropped a telegram (%s: %s)", reason, error)
        if self._status_pending is None:  # the dropped-telegrams sensor, at most once a second
            self._status_pending = async_call_later(self.hass, 1.0, self._write_status)

    @callback
    def _write_status(self, _now: Any) -> None:
        self._status_pending = None
        self.async_update_context({STATUS_CONTEXT})

    @callback
    def connection_lost(self, exc: Exception | None) -> None:
        """Schedule a reconnection unless we are stopping."""
        self._transport = None
        self.connected = False
        if self._protocol is not None:
            self.counters.trailing_bytes += self._protocol.trailing_bytes
            self._protocol = None
        if self._stopping:
            return
        self._link.problem(
            "Connection to %s lost (%s); reconnecting", self.settings.label, exc or "closed"
        )
        self.async_update_context({STATUS_CONTEXT})
        self._schedule_reconnect()

    @callback
    def _went_stale(self, _now: Any) -> None:
        """No telegram for STALE_AFTER seconds: sensors unavailable, re-open the link."""
        self._stale_cancel = None
        self._delay = FIRST_RETRY_DELAY  # the link opened: re-open quickly, not backed off
        self._link.problem(
            "No valid telegram from %s for %s s; reconnecting", self.settings.label, STALE_AFTER
        )
        if self.online:
            self.online = False
            self._notify_net_power(None)
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
        return self._subscribers.add(cb)

    def published(self, key: str) -> float | int | str | None:
        """The state last published for sensor ``key`` (None before the first write)."""
        return self.publisher.written.get(key)

    @callback
    def async_subscribe_net_power(self, cb: Callable[[float | None], None]) -> CALLBACK_TYPE:
        """Call ``cb`` with every telegram's net grid power (W, import positive).

        ``cb(None)`` when the meter goes stale or the entry unloads. Returns unsubscribe.
        This is the typed in-process subscription of the EV surplus controller
        (``ev_charging.coordinator.GridPowerSource``).
        """
        return self._net_power_subscribers.add(cb)

    def _notify_net_power(self, power: float | None) -> None:
        self._net_power_subscribers.fire(power)

    @callback
    def async_add_new_key_listener(self, cb: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``cb`` when a telegram brings a sensor key not seen before."""
        return self._new_key_callbacks.add(cb)

    @callback
    def async_update_context(self, contexts: set[str]) -> None:
        """Wake the entities listening with one of ``contexts``."""
        if not contexts:
            return
        for update_callback, context in list(self._listeners.values()):
            if context in contexts:
                update_callback()

    def _update_meter_device(self, reading: MeterReading, raw: str) -> None:
        """Manufacturer and model from the identification line, serial from the telegram."""
        registry = dr.async_get(self.hass)
        device = registry.async_get_device(identifiers={meter_device_identifier(self.config_entry)})
        if device is None:
            return
        manufacturer, model = identification(raw)
        registry.async_update_device(
            device.id,
            manufacturer=manufacturer,
            model=model or f"DSMR {self.settings.dsmr_version}",
            serial_number=(
                decode_identifier(reading.equipment_id) if reading.equipment_id else None
            ),
            sw_version=None,
        )

    def counter_guards(self) -> dict[str, CounterGuard]:
        """The energy counters' guards by sensor unique id (diagnostics' spike scan)."""
        return self.meter_counters.counter_guards()

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
                "trailing_bytes": self.counters.trailing_bytes
                + (self._protocol.trailing_bytes if self._protocol is not None else 0),
                "buffer_cap": None
                if self._protocol is None
                else self._protocol.telegram_buffer.cap,
                "energy_counters": self.meter_counters.diagnostics(),
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
