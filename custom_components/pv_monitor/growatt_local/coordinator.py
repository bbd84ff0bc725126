"""Push coordinator of a local Growatt listener entry.

The pure :class:`~.protocol.server.GrowattListener` reports dataloggers, records and config
items here; this module turns them into per-datalogger and per-inverter state, registers
devices as they appear, and wakes only the entities of the device that changed (a record
of one inverter never rewrites the states of the others).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..common.counter import CounterGuard, CounterLimits, Verdict
from ..common.log import LogOnce
from ..common.redact import redact_serial
from ..common.runtime import service_device_info
from ..common.statistics import async_adjust_reset, sensor_statistic_id
from ..const import DOMAIN
from .const import DEFAULT_DATA_INTERVAL, STALE_INTERVALS, GrowattLocalSettings
from .control import InverterControl
from .counters import COUNTER_KEYS, InverterCounters, nominal_power_w
from .guard import ListenerGuard
from .protocol.backfill import plausible_record_time
from .protocol.codes import dtc_series, model_name
from .protocol.messages import ConfigItem
from .protocol.reading import InverterReading, decode_family_values, decode_record
from .protocol.records import Record
from .protocol.registers import (
    FAMILY_KEYS,
    VALUE_UNITS,
    InverterFamily,
    decode_device_info,
    family_of_ranges,
)
from .protocol.server import DataloggerSession, GrowattListener

_LOGGER = logging.getLogger(__name__)

BACKFILL_DELAY = 30.0
"""Seconds after the last buffered record before the backfill runs (dataloggers send their
buffer in bursts; one import per burst)."""

HISTORY_KEYS = frozenset(
    {
        "energy_total",
        "pv_energy_total",
        "pv1_energy_total",
        "pv2_energy_total",
        "pv3_energy_total",
        "pv4_energy_total",
        "grid_import_energy_total",
        "grid_export_energy_total",
        "load_energy_total",
        "battery_charge_energy_total",
        "battery_discharge_energy_total",
        "ac_charge_energy_total",
        "ac_discharge_energy_total",
    }
)
"""Lifetime energy counters (kWh) whose statistics buffered records fill in."""

FAMILY_MODELS: dict[InverterFamily | None, str] = {
    InverterFamily.TL: "TL (protocol II)",
    InverterFamily.TL_X: "TL-X / MIN / MIC / MOD",
    InverterFamily.SPH: "SPH / SPA hybrid",
    InverterFamily.SPF: "SPF off-grid",
}

STORAGE_VERSION = 1
"""Version of the entry's store: ``{"families": {inverter serial: family}}``."""

type GrowattLocalConfigEntry = ConfigEntry[GrowattLocalCoordinator]


def _inverter_model(inverter: InverterState) -> str:
    """Device model: series and nominal power, e.g. ``MIN 7000-10000TL-X, 8,000 VA``.

    The series comes from the device type code of the announce (holding 43, "DTC", also
    the device's model id; table in ``protocol/codes.py``), else the family (``TL
    (protocol II), 3,000 VA``); the nominal power from holding 6-7 ("Pmax").
    """
    series = dtc_series(inverter.device_info.get("dtc"))
    model = series or FAMILY_MODELS.get(inverter.family, "Growatt inverter")
    return model_name(model, inverter.counters.nominal_w)


@dataclass(slots=True)
class DataloggerState:
    """A datalogger seen by the listener (kept after it disconnects)."""

    serial: str
    protocol: int | None = None
    peer: str | None = None
    connected: bool = False
    last_seen: datetime | None = None
    last_data: datetime | None = None
    data_interval: float = DEFAULT_DATA_INTERVAL
    """Seconds between data records (config item 0x04, minutes on the wire)."""
    config: dict[int, str] = field(default_factory=dict)
    inverters: set[str] = field(default_factory=set)
    records_unclassified: int = 0
    """Data records whose inverter family could not be told (no entities created)."""
    presence: LogOnce = field(
        default_factory=lambda: LogOnce(_LOGGER, level=logging.INFO), repr=False
    )
    """Logs going offline and coming back once each."""

    @property
    def online(self) -> bool:
        """Connected, and no more than three data intervals since the last data record."""
        reference = self.last_data or self.last_seen
        if not self.connected or reference is None:
            return False
        return dt_util.utcnow() - reference <= self.stale_after

    @property
    def stale_after(self) -> timedelta:
        """Time without a data record after which the datalogger counts as offline."""
        return timedelta(seconds=self.data_interval * STALE_INTERVALS)


@dataclass(slots=True)
class InverterState:
    """Latest live values of one inverter, with the guards against false resets."""

    serial: str
    datalogger_serial: str
    family: InverterFamily | None
    """Register map of its records; None until a data record or the option decides it."""
    values: dict[str, float | int | str] = field(default_factory=dict)
    known_keys: set[str] = field(default_factory=set)
    """Value keys that have had a value (their entities exist or are being added)."""
    updated_at: datetime | None = None
    record_time: datetime | None = None
    """Datalogger clock of the last live record."""
    device_info: dict[str, str] = field(default_factory=dict)
    buffered_total: int = 0
    counters: InverterCounters = field(init=False)
    """The guards of its energy counters (see :mod:`.counters`)."""
    pending_history: list[tuple[datetime, dict[str, float]]] = field(default_factory=list)
    """Lifetime counters of buffered records not yet imported: (aware time, {key: kWh})."""
    history_rows: int = 0
    """Hourly statistics rows imported from buffered records."""
    history_rejected: int = 0
    """Buffered records whose datalogger clock was unset or implausible (never imported)."""
    history_implausible: int = 0
    """Buffered hours whose counter lay outside what the live readings and the power limit
    allow (never imported)."""

    def __post_init__(self) -> None:
        """Start the counter guards of this inverter."""
        self.counters = InverterCounters(self.serial, self.family)


@dataclass(slots=True)
class GrowattLocalData:
    """Everything the listener knows: dataloggers and inverters by serial."""

    dataloggers: dict[str, DataloggerState] = field(default_factory=dict)
    inverters: dict[str, InverterState] = field(default_factory=dict)


_MISSING = object()


def merge_values(
    state: InverterState, new: dict[str, float | int | str], at: float, day: date
) -> tuple[set[str], list[tuple[str, Verdict]]]:
    """Merge decoded values into ``state``; energy counters only through their guards.

    Args:
        state: the inverter's state (values and counter guards).
        new: a reading's values.
        at: the reading's time, seconds (UTC epoch).
        day: the local day of the reading (daily counters restart once a day).

    Returns:
        The keys whose published value changed, and ``(key, verdict)`` of every counter
        reading the guard did not simply accept (held, rejected, reset, day started).
    """
    old = state.values
    counters = state.counters
    counters.observe_power(new)
    changed: set[str] = set()
    verdicts: list[tuple[str, Verdict]] = []
    for key, value in new.items():
        if old.get(key, _MISSING) == value:
            continue
        shown: float | int | str = value
        if key in COUNTER_KEYS and isinstance(value, (int, float)):
            verdict = counters.offer(key, float(value), at, day)
            if verdict is not Verdict.ACCEPTED:
                verdicts.append((key, verdict))
            published = counters.value(key)
            if published is None or old.get(key) == published:
                continue
            shown = published
        old[key] = shown
        changed.add(key)
    return changed, verdicts


class GrowattLocalCoordinator(DataUpdateCoordinator[GrowattLocalData]):
    """Owns the listener of one config entry and the state it reports.

    Listeners (entities) register with a ``context`` equal to their device's serial, or
    None for listener-wide entities; :meth:`async_update_device` wakes only those.
    """

    config_entry: GrowattLocalConfigEntry

    def __init__(self, hass: HomeAssistant, entry: GrowattLocalConfigEntry) -> None:
        """Build the coordinator and its (not yet started) listener from the entry."""
        settings = GrowattLocalSettings.from_mapping(entry.data, entry.options)
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} growatt listener {settings.listener.port}",
            update_interval=None,
        )
        self.data = GrowattLocalData()
        self.family_overrides: Mapping[str, InverterFamily] = settings.inverter_families
        self.families: dict[str, InverterFamily] = {}
        """Families detected from records, by inverter serial: decided once, remembered
        across restarts in the entry's store (the option overrides)."""
        self._families_dirty = False
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.growatt_local.{entry.entry_id}"
        )
        self.listener = GrowattListener(
            replace(settings.listener, now=lambda: dt_util.now().replace(tzinfo=None)), self
        )
        # The listener's own (service) device carries the listener-wide sensors.
        dr.async_get(hass).async_get_or_create(
            config_entry_id=entry.entry_id,
            **service_device_info(entry, "Growatt datalogger listener"),
        )
        self._restored: dict[str, dict[str, float]] = {}
        self._restored_at: dict[str, dict[str, datetime]] = {}
        self._backfill_timer: CALLBACK_TYPE | None = None
        self._new_device_callbacks: list[Callable[[], None]] = []
        self._device_listeners: dict[str | None, list[CALLBACK_TYPE]] = {}
        self._value_listeners: dict[tuple[str | None, str], list[CALLBACK_TYPE]] = {}
        self._stale_timers: dict[str, CALLBACK_TYPE] = {}
        self._logged_drop = False
        self.guard = ListenerGuard(hass, entry, self)
        self.control = InverterControl(hass, self)
        """Read-back values and safe writes of the inverters' control registers."""

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def port_issue_id(self) -> str:
        """Repair issue raised while the entry's port cannot be bound."""
        return f"port_unavailable_{self.config_entry.entry_id}"

    async def async_setup(self) -> None:
        """Bind the listener's socket (connections are accepted from :meth:`async_start`).

        Raises:
            ConfigEntryNotReady: the address cannot be bound (port in use, address not on
                this machine); a repair issue tells the user what to do meanwhile.
        """
        entry = self.config_entry
        await self._async_load_families()
        try:
            await self.listener.bind()
        except OSError as err:
            placeholders = {
                "host": self.listener.config.host,
                "port": str(self.listener.config.port),
                "error": err.strerror or str(err),
            }
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self.port_issue_id,
                is_fixable=True,
                data={"entry_id": entry.entry_id},
                severity=ir.IssueSeverity.ERROR,
                translation_key="port_unavailable",
                translation_placeholders=placeholders,
            )
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="port_unavailable",
                translation_placeholders=placeholders,
            ) from err
        ir.async_delete_issue(self.hass, DOMAIN, self.port_issue_id)
        await self.guard.async_load()

    async def _async_load_families(self) -> None:
        """Recall the families decided before; drop entities their family does not have."""
        stored = await self._store.async_load() or {}
        for serial, family in stored.get("families", {}).items():
            if family in InverterFamily.__members__.values():
                self.families[serial] = InverterFamily(family)
        for serial in {*self.families, *self.family_overrides}:
            family = self._family_hint(serial)
            if family is not None:
                self._remove_foreign_entities(serial, family)

    def _remove_foreign_entities(self, serial: str, family: InverterFamily) -> None:
        """Remove the sensors of inverter ``serial`` that ``family``'s map cannot give."""
        registry = er.async_get(self.hass)
        keys = FAMILY_KEYS[family]
        for reg_entry in er.async_entries_for_config_entry(registry, self.config_entry.entry_id):
            owner, _, key = reg_entry.unique_id.partition("_")
            if reg_entry.domain == "sensor" and owner == serial and key not in keys:
                registry.async_remove(reg_entry.entity_id)

    def _families_data(self) -> dict[str, Any]:
        return {"families": {serial: family.value for serial, family in self.families.items()}}

    async def async_start(self) -> None:
        """Accept datalogger connections, now that the entities listen."""
        await self.listener.start_serving()

    async def async_stop(self) -> None:
        """Close the socket and every connection; import pending history; cancel timers."""
        for cancel in self._stale_timers.values():
            cancel()
        self._stale_timers.clear()
        await self.listener.stop()
        await self.guard.async_stop()
        if self._families_dirty:
            await self._store.async_save(self._families_data())
        if self._backfill_timer is not None:
            self._backfill_timer()
            self._backfill_timer = None
        if any(inverter.pending_history for inverter in self.data.inverters.values()):
            await self.async_backfill()

    @property
    def inverter_serials(self) -> list[str]:
        """Serials of the inverters seen so far (for the options flow)."""
        return sorted(self.data.inverters)

    @callback
    def restore_value(self, serial: str, key: str, value: float, at: datetime) -> None:
        """Seed a counter restored from before a restart: it is the guard's baseline.

        ``at`` is when the restored state was last updated, so the energy produced while
        Home Assistant was down is a plausible increase.
        """
        self._restored.setdefault(serial, {})[key] = value
        inverter = self.data.inverters.get(serial)
        if inverter is not None and key not in inverter.counters.guards:
            self._restore_counter(inverter, key, value, at)
        else:
            self._restored_at.setdefault(serial, {})[key] = at

    def _restore_counter(
        self, inverter: InverterState, key: str, value: float, at: datetime
    ) -> None:
        inverter.counters.restore(key, value, at.timestamp(), dt_util.as_local(at).date())
        inverter.values.setdefault(key, value)
        inverter.known_keys.add(key)

    def restored_value(self, serial: str, key: str) -> float | None:
        """The restored value of a counter that no record has updated yet."""
        return self._restored.get(serial, {}).get(key)

    @callback
    def async_known_datalogger(self, serial: str) -> None:
        """Recreate a datalogger known before a restart, disconnected until it reconnects."""
        self.data.dataloggers.setdefault(serial, DataloggerState(serial=serial))

    # -- entity plumbing --------------------------------------------------------------------
    @callback
    def async_add_new_device_listener(self, cb: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``cb`` whenever a device or a value key appears (platforms add entities)."""
        self._new_device_callbacks.append(cb)

        def remove() -> None:
            self._new_device_callbacks.remove(cb)

        return remove

    @callback
    def _async_new_devices(self) -> None:
        for cb in list(self._new_device_callbacks):
            cb()

    @callback
    def async_new_control_registers(self) -> None:
        """Control registers answered a read: the platforms add their entities."""
        self._async_new_devices()

    @callback
    def async_add_listener(
        self, update_callback: CALLBACK_TYPE, context: Any = None
    ) -> Callable[[], None]:
        """Listen for updates of the device ``context`` (a serial; None: listener-wide).

        ``context`` may also be ``(serial, value key)``: the entity of one value, woken by
        :meth:`async_update_values` only when that value changed. Listeners are indexed by
        device and value, so a record touches only the entities it changed.
        """
        remove = super().async_add_listener(update_callback, context)
        device, key = context if isinstance(context, tuple) else (context, None)
        by_device = self._device_listeners.setdefault(device, [])
        by_device.append(update_callback)
        by_key = self._value_listeners.setdefault((device, key), []) if key else None
        if by_key is not None:
            by_key.append(update_callback)

        @callback
        def remove_listener() -> None:
            remove()
            by_device.remove(update_callback)
            if by_key is not None:
                by_key.remove(update_callback)

        return remove_listener

    @callback
    def async_update_values(self, serial: str, keys: set[str]) -> None:
        """Wake the entities of the values ``keys`` of device ``serial``."""
        listeners = self._value_listeners
        for key in keys:
            for update_callback in list(listeners.get((serial, key), ())):
                update_callback()

    @callback
    def async_update_device(self, serial: str | None) -> None:
        """Wake the entities registered with context ``serial`` (None: listener-wide)."""
        for update_callback in list(self._device_listeners.get(serial, ())):
            update_callback()

    # -- ListenerHandler ----------------------------------------------------------------------
    def datalogger_connected(self, session: DataloggerSession) -> None:
        """Register the datalogger device and mark it connected."""
        assert session.serial is not None
        logger = self._datalogger(session.serial)
        logger.connected = True
        logger.protocol = session.protocol
        logger.peer = session.peer
        logger.last_seen = dt_util.utcnow()
        self._schedule_stale(logger)
        self._log_presence(logger)
        self.async_update_device(session.serial)
        self.guard.async_update_counters()
        self.guard.host_seen(session.peer)
        self.control.datalogger_connected(logger.inverters)

    def datalogger_disconnected(self, session: DataloggerSession) -> None:
        """Mark the datalogger disconnected, unless another connection of it is open."""
        assert session.serial is not None
        if any(other.serial == session.serial for other in self.listener.sessions):
            return
        logger = self._datalogger(session.serial)
        logger.connected = False
        self._log_presence(logger)
        self._async_update_datalogger_and_inverters(logger)
        self.guard.async_update_counters()

    def config_received(self, session: DataloggerSession, item: int, value: str) -> None:
        """Store a config item; data interval and firmware update the device."""
        assert session.serial is not None
        logger = self._datalogger(session.serial)
        logger.config[item] = value
        if item == ConfigItem.DATA_INTERVAL:
            try:
                minutes = float(value)
            except ValueError:
                return
            if 0 < minutes <= 60:
                logger.data_interval = minutes * 60
        elif item in (ConfigItem.FIRMWARE_VERSION, ConfigItem.DEVICE_TYPE):
            self._update_datalogger_device(logger)

    def frame_dropped(self, session: DataloggerSession, error: Exception) -> None:
        """Log the first dropped frame at warning level, later ones at debug level."""
        if not self._logged_drop:
            self._logged_drop = True
            _LOGGER.warning(
                "Dropped a bad frame from %s (%s); further drops are counted in the "
                "'Dropped frames' sensor and logged at debug level",
                session.redacted,
                error,
            )
        else:
            _LOGGER.debug("Dropped a bad frame from %s: %s", session.peer, error)
        self.guard.async_update_counters()

    def limit_reached(self, kind: str, peer: str, serial: str) -> None:
        """A datalogger or inverter beyond its cap was refused: one repair issue."""
        self.guard.limit_reached(kind, peer, serial)

    def backlog_changed(self, serial: str) -> None:
        """Save the proxy backlogs (delayed, one write for a burst)."""
        self.guard.backlog_changed()

    def record_received(self, session: DataloggerSession, record: Record) -> None:
        """Turn an announce, live or buffered record into state."""
        logger = self._datalogger(record.datalogger_serial)
        now = dt_util.utcnow()
        logger.last_seen = now
        serial = record.inverter_serial or record.datalogger_serial
        if record.holding:
            self._announce_received(serial, record)
        elif record.buffered:
            self._buffered_received(serial, record)
        else:
            self._live_received(logger, serial, record, now)
        if not record.buffered:
            self.control.inverter_seen(serial)

    def _announce_received(self, serial: str, record: Record) -> None:
        """Describe the inverter's device from the holding registers of an announce."""
        new_device = serial not in self.data.inverters
        inverter = self._inverter(serial, record.datalogger_serial, self._family_hint(serial))
        inverter.device_info.update(decode_device_info(record.registers))
        nominal = nominal_power_w(record.registers)
        if nominal is not None:
            inverter.counters.nominal_w = nominal
        self._update_inverter_device(inverter)
        if new_device:
            self._async_new_devices()

    def _buffered_received(self, serial: str, record: Record) -> None:
        """Count a buffered record and keep its lifetime counters for the backfill."""
        new_device = serial not in self.data.inverters
        inverter = self._inverter(serial, record.datalogger_serial, self._family_hint(serial))
        inverter.buffered_total += 1
        self._queue_history(inverter, record)
        self.guard.async_update_counters()
        if new_device:
            self._async_new_devices()

    def _live_received(
        self, logger: DataloggerState, serial: str, record: Record, now: datetime
    ) -> None:
        """Merge a live record's reading; wake only the entities whose value changed."""
        inverter = self.data.inverters.get(serial)
        family = self._family_hint(serial) or (inverter.family if inverter else None)
        reading = decode_record(record, family, inverter.values if inverter else ())
        if reading.family is None:
            logger.records_unclassified += 1
            return
        new_device = inverter is None
        inverter = self._inverter(serial, record.datalogger_serial, reading.family)
        self._set_family(inverter, reading)
        was_online = self.inverter_online(serial)
        logger_was_online = logger.online
        changed, verdicts = merge_values(
            inverter, reading.values, now.timestamp(), dt_util.as_local(now).date()
        )
        for key, verdict in verdicts:
            if verdict is Verdict.RESET:
                self._counter_reset(inverter, key)
        inverter.updated_at = now
        inverter.record_time = record.timestamp
        logger.last_data = now
        self._schedule_stale(logger)
        if new_device or not inverter.known_keys.issuperset(changed):
            inverter.known_keys.update(changed)
            self._async_new_devices()
        if was_online:
            self.async_update_values(serial, changed)
        else:
            self.async_update_device(serial)
        if not logger_was_online:
            self._log_presence(logger)
            self.async_update_device(logger.serial)

    def _counter_reset(self, inverter: InverterState, key: str) -> None:
        """A confirmed counter reset (inverter replaced): one repair issue saying what."""
        guard = inverter.counters.guards[key]
        old, new = guard.last_reset or (0.0, guard.value or 0.0)
        _LOGGER.warning(
            "Inverter %s: %s restarted from %s at %s (confirmed by %d readings); the sensor "
            "continues from the new value",
            redact_serial(inverter.serial),
            key,
            old,
            new,
            guard.limits.confirmations,
        )
        statistic_id = sensor_statistic_id(self.hass, f"{inverter.serial}_{key}")
        unit = VALUE_UNITS.get(key) or "kWh"
        async_adjust_reset(self.hass, statistic_id, old, new, dt_util.utcnow(), unit)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"counter_reset_{self.config_entry.entry_id}_{inverter.serial}_{key}",
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="counter_reset",
            translation_placeholders={
                "inverter": inverter.serial,
                "counter": key,
                "old": f"{old:g}",
                "new": f"{new:g}",
            },
        )

    def _family_hint(self, serial: str) -> InverterFamily | None:
        """The family the user chose for ``serial``, or the one decided before."""
        return self.family_overrides.get(serial) or self.families.get(serial)

    def _set_family(self, inverter: InverterState, reading: InverterReading) -> None:
        """Remember the family a reading was decoded with (decided once per inverter)."""
        if reading.family is not None and inverter.family is not reading.family:
            inverter.family = inverter.counters.family = reading.family
            self._update_inverter_device(inverter)
        if reading.detected and reading.family is not None:
            self.families[inverter.serial] = reading.family
            self._families_dirty = True
            self._store.async_delay_save(self._families_data, 1.0)
            self._remove_foreign_entities(inverter.serial, reading.family)

    # -- statistics backfill --------------------------------------------------------------
    def _queue_history(self, inverter: InverterState, record: Record) -> None:
        """Keep a buffered record's lifetime counters for the backfill, if its clock is sane."""
        now = dt_util.now()
        hours = inverter.values.get("operating_hours")
        local = now.replace(tzinfo=None)
        if not plausible_record_time(
            record.timestamp, local, hours if isinstance(hours, float) else None
        ):
            inverter.history_rejected += 1
            return
        assert record.timestamp is not None
        family = inverter.family or family_of_ranges(record.groups)
        values = decode_family_values(record.registers, family)
        counters = {
            key: float(value)
            for key, value in values.items()
            if key in HISTORY_KEYS and isinstance(value, (int, float)) and value > 0
        }
        if not counters:
            return
        moment = dt_util.as_utc(record.timestamp.replace(tzinfo=now.tzinfo))
        inverter.pending_history.append((moment, counters))
        if self._backfill_timer is None:
            self._backfill_timer = async_call_later(
                self.hass, BACKFILL_DELAY, self._async_backfill_due
            )

    @callback
    def _async_backfill_due(self, _now: datetime) -> None:
        self._backfill_timer = None
        self.config_entry.async_create_background_task(
            self.hass, self.async_backfill(), "pv_monitor growatt backfill"
        )

    async def async_backfill(self) -> None:
        """Import the pending buffered counters of every inverter into statistics."""
        if "recorder" not in self.hass.config.components:
            for inverter in self.data.inverters.values():
                inverter.pending_history.clear()
            return
        # Imported here: the recorder's modules are heavy and only needed for a backfill.
        from .statistics import async_backfill_counter  # noqa: PLC0415

        registry = er.async_get(self.hass)
        for inverter in self.data.inverters.values():
            pending, inverter.pending_history = inverter.pending_history, []
            for key in sorted({k for _, counters in pending for k in counters}):
                entity_id = registry.async_get_entity_id(
                    "sensor", DOMAIN, f"{inverter.serial}_{key}"
                )
                if entity_id is None:
                    continue  # no sensor for it yet: nothing to attach history to
                samples = [(moment, c[key]) for moment, c in pending if key in c]
                limits = CounterLimits(max_power_kw=inverter.counters.max_power_kw())
                plan = await async_backfill_counter(self.hass, entity_id, samples, limits)
                inverter.history_rows += len(plan.rows)
                inverter.history_implausible += plan.inconsistent

    # -- internals ------------------------------------------------------------------------------
    def _datalogger(self, serial: str) -> DataloggerState:
        logger = self.data.dataloggers.get(serial)
        if logger is None:
            logger = DataloggerState(serial=serial)
            self.data.dataloggers[serial] = logger
            self._update_datalogger_device(logger)
            self._async_new_devices()
        return logger

    def _inverter(
        self, serial: str, datalogger_serial: str, family: InverterFamily | None
    ) -> InverterState:
        inverter = self.data.inverters.get(serial)
        if inverter is None:
            inverter = InverterState(
                serial=serial, datalogger_serial=datalogger_serial, family=family
            )
            for key, at in self._restored_at.pop(serial, {}).items():
                self._restore_counter(inverter, key, self._restored[serial][key], at)
            self.data.inverters[serial] = inverter
            self._datalogger(datalogger_serial).inverters.add(serial)
            self._update_inverter_device(inverter)
        return inverter

    def _update_datalogger_device(self, logger: DataloggerState) -> None:
        dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.config_entry.entry_id,
            identifiers={(DOMAIN, logger.serial)},
            manufacturer="Growatt",
            name=f"Datalogger {logger.serial}",
            model=logger.config.get(ConfigItem.DEVICE_TYPE) or "ShineWiFi / ShineLAN",
            serial_number=logger.serial,
            sw_version=logger.config.get(ConfigItem.FIRMWARE_VERSION),
        )

    def _update_inverter_device(self, inverter: InverterState) -> None:
        info = inverter.device_info
        dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.config_entry.entry_id,
            identifiers={(DOMAIN, inverter.serial)},
            manufacturer="Growatt",
            name=f"Inverter {inverter.serial}",
            model=_inverter_model(inverter),
            model_id=info.get("dtc"),
            serial_number=inverter.serial,
            sw_version=info.get("firmware"),
            via_device=(DOMAIN, inverter.datalogger_serial),
        )

    def _schedule_stale(self, logger: DataloggerState) -> None:
        cancel = self._stale_timers.pop(logger.serial, None)
        if cancel is not None:
            cancel()

        @callback
        def _stale(_now: datetime) -> None:
            self._stale_timers.pop(logger.serial, None)
            self._log_presence(logger)
            self._async_update_datalogger_and_inverters(logger)

        self._stale_timers[logger.serial] = async_call_later(
            self.hass, logger.stale_after + timedelta(seconds=1), _stale
        )

    @staticmethod
    def _log_presence(logger: DataloggerState) -> None:
        """Log a datalogger going offline, and coming back, once each (INFO, redacted)."""
        serial = redact_serial(logger.serial)
        if logger.online:
            logger.presence.recovered("Datalogger %s is back online", serial)
        else:
            logger.presence.problem(
                "Datalogger %s is offline (disconnected, or no data record for %d s)",
                serial,
                logger.stale_after.total_seconds(),
            )

    def _async_update_datalogger_and_inverters(self, logger: DataloggerState) -> None:
        self.async_update_device(logger.serial)
        for serial in logger.inverters:
            self.async_update_device(serial)

    def inverter_online(self, serial: str) -> bool:
        """Whether the inverter's live values are fresh (its datalogger is online)."""
        inverter = self.data.inverters.get(serial)
        if inverter is None or inverter.updated_at is None:
            return False
        logger = self.data.dataloggers.get(inverter.datalogger_serial)
        if logger is None:
            return False
        return dt_util.utcnow() - inverter.updated_at <= logger.stale_after

    def counter_guards(self) -> dict[str, CounterGuard]:
        """The counters' guards by sensor unique id (diagnostics' spike scan)."""
        return {
            f"{serial}_{key}": guard
            for serial, inverter in self.data.inverters.items()
            for key, guard in inverter.counters.guards.items()
        }

    def diagnostics(self) -> dict[str, Any]:
        """Plain-data snapshot of the listener state (serials are redacted by the caller)."""
        return {
            "stats": {
                name: getattr(self.listener.stats, name) for name in self.listener.stats.__slots__
            },
            "defences": self.guard.diagnostics(),
            "commands": asdict(self.listener.command_stats),
            "dataloggers": {
                serial: {
                    "protocol": logger.protocol,
                    "connected": logger.connected,
                    "online": logger.online,
                    "last_seen": logger.last_seen.isoformat() if logger.last_seen else None,
                    "data_interval": logger.data_interval,
                    "config": {f"{item:#04x}": v for item, v in logger.config.items()},
                    "inverters": sorted(logger.inverters),
                    "records_unclassified": logger.records_unclassified,
                }
                for serial, logger in self.data.dataloggers.items()
            },
            "inverters": {
                serial: {
                    "datalogger": inverter.datalogger_serial,
                    "family": inverter.family.value if inverter.family else None,
                    "values": dict(inverter.values),
                    "device_info": dict(inverter.device_info),
                    "updated_at": inverter.updated_at.isoformat() if inverter.updated_at else None,
                    "record_time": inverter.record_time.isoformat()
                    if inverter.record_time
                    else None,
                    "buffered_records": inverter.buffered_total,
                    "history_rows_imported": inverter.history_rows,
                    "history_rejected_clock": inverter.history_rejected,
                    "history_pending": len(inverter.pending_history),
                    "history_implausible": inverter.history_implausible,
                    **inverter.counters.diagnostics(),
                    "control_registers": {
                        str(register): raw
                        for register, raw in sorted(self.control.registers(serial).items())
                    },
                }
                for serial, inverter in self.data.inverters.items()
            },
        }
