"""Glue of the listener's defences (caps, backlogs, device removal, counter writes).

The caps' repair issue, the proxy backlogs saved across restarts, the removal of stale
devices, and listener counters that write their state at most once per
:data:`COUNTER_WRITE_INTERVAL`.

Kept apart from :mod:`.coordinator` (which owns the record path); the coordinator calls in.
"""

from __future__ import annotations

from datetime import datetime
import logging
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..common.issues import async_raise_issue
from ..common.log import LogOnce
from ..common.redact import redact_serial
from ..const import DOMAIN

if TYPE_CHECKING:
    from .coordinator import GrowattLocalCoordinator

_LOGGER = logging.getLogger(__name__)

COUNTER_WRITE_INTERVAL: Final = 10.0
"""Seconds between state writes of the listener's counters (dropped frames, buffered
records, connections): a flood of bad frames or a burst of buffered records writes at most
one state per counter per interval."""
BACKLOG_SAVE_DELAY: Final = 10.0
"""Seconds after a backlog change before the backlogs are saved (one write per burst)."""
STORAGE_VERSION: Final = 1


class ListenerGuard:
    """The defences of one listener entry that need Home Assistant."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry[Any], coordinator: GrowattLocalCoordinator
    ) -> None:
        """Bind to ``entry``'s coordinator; nothing is loaded before :meth:`async_load`."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.growatt_backlog.{entry.entry_id}"
        )
        self.limit_log = LogOnce(_LOGGER)
        self._counter_timer: CALLBACK_TYPE | None = None
        self._counter_dirty = False
        self._save_pending = False
        self._saved_hosts: set[str] = set()

    @property
    def limit_issue_id(self) -> str:
        """Repair issue raised when a datalogger or inverter was refused at its cap."""
        return f"device_limit_{self.entry.entry_id}"

    async def async_load(self) -> None:
        """Restore saved backlogs and count the devices of earlier runs against the caps."""
        listener = self.coordinator.listener
        saved = await self.store.async_load() or {}
        for serial, frames in saved.get("backlogs", {}).items():
            listener.restore_backlog(serial, (bytes.fromhex(f) for f in frames))
        listener.trust_hosts(saved.get("hosts", []))
        self._saved_hosts.update(listener.trusted_hosts)
        registry = dr.async_get(self.hass)
        devices = dr.async_entries_for_config_entry(registry, self.entry.entry_id)
        serial_of = {d.id: _serial(d) for d in devices}
        for device in devices:
            serial = serial_of[device.id]
            if serial is None or serial == self.entry.entry_id:
                continue
            parent = serial_of.get(device.via_device_id or "")
            if parent is None:
                listener.remember(serial)
            else:
                listener.remember(parent, [serial])

    async def async_stop(self) -> None:
        """Cancel the counter timer; save the backlogs now if a save is pending."""
        if self._counter_timer is not None:
            self._counter_timer()
            self._counter_timer = None
        if self._save_pending:
            self._save_pending = False
            await self.store.async_save(self._backlog_data())

    def diagnostics(self) -> dict[str, Any]:
        """Caps, remembered devices and addresses, and the proxy's state per datalogger."""
        listener = self.coordinator.listener
        config = listener.config
        return {
            "max_connections": listener.max_connections,
            "max_dataloggers": config.max_dataloggers,
            "max_inverters": config.max_inverters,
            "allow_redirect": config.allow_redirect,
            "allow_commands": config.allow_commands,
            "known_dataloggers": len(listener.known_dataloggers),
            "favoured_addresses": len(listener.trusted_hosts),
            "upstreams": {
                serial: {"backlog": len(state.backlog), "failures": state.failures}
                for serial, state in listener.upstreams.items()
            },
        }

    # -- counters ----------------------------------------------------------------------
    @callback
    def async_update_counters(self) -> None:
        """Write the listener-wide sensors now, or once the write interval has passed."""
        if self._counter_timer is not None:
            self._counter_dirty = True
            return
        self.coordinator.async_update_device(None)
        self._counter_timer = async_call_later(
            self.hass, COUNTER_WRITE_INTERVAL, self._async_counter_due
        )

    @callback
    def _async_counter_due(self, _now: datetime) -> None:
        self._counter_timer = None
        if self._counter_dirty:
            self._counter_dirty = False
            self.async_update_counters()

    # -- backlogs ----------------------------------------------------------------------
    def _backlog_data(self) -> dict[str, Any]:
        listener = self.coordinator.listener
        backlogs = listener.backlogs()
        return {
            "backlogs": {serial: [f.hex() for f in frames] for serial, frames in backlogs.items()},
            "hosts": sorted(listener.trusted_hosts),
        }

    @callback
    def host_seen(self, peer: str) -> None:
        """A datalogger identified from ``peer`` (``host:port``): save a new address."""
        host = peer.rpartition(":")[0]
        if host not in self._saved_hosts:
            self._saved_hosts.add(host)
            self.backlog_changed()

    @callback
    def backlog_changed(self) -> None:
        """Schedule one save of the backlogs and addresses (called per backlog change)."""
        if not self._save_pending:
            self._save_pending = True
            self.store.async_delay_save(self._saved_now, BACKLOG_SAVE_DELAY)

    def _saved_now(self) -> dict[str, Any]:
        self._save_pending = False
        return self._backlog_data()

    # -- caps --------------------------------------------------------------------------
    @callback
    def limit_reached(self, kind: str, peer: str, serial: str) -> None:
        """One repair issue naming the peer; the first refusal of a run is logged."""
        config = self.coordinator.listener.config
        limit = config.max_dataloggers if kind == "dataloggers" else config.max_inverters
        placeholders = {
            "kind": kind,
            "peer": peer,
            "serial": redact_serial(serial),
            "limit": str(limit),
        }
        self.limit_log.problem(
            "Refused %s %s from %s: the entry serves at most %s (option); see Repairs",
            kind,
            placeholders["serial"],
            peer,
            limit,
        )
        async_raise_issue(self.hass, self.limit_issue_id, "device_limit", placeholders)

    # -- stale devices -----------------------------------------------------------------
    @callback
    def remove_device(self, device: dr.DeviceEntry) -> bool:
        """Whether the user may delete ``device`` (then it is forgotten: state and caps).

        Only a datalogger or inverter not seen within its stale time (three data intervals).
        """
        serial = _serial(device)
        if serial is None or serial == self.entry.entry_id:
            return False
        data = self.coordinator.data
        now = dt_util.utcnow()
        logger = data.dataloggers.get(serial)
        if logger is not None:
            seen = logger.last_seen
            if logger.connected or (seen is not None and now - seen <= logger.stale_after):
                return False
        inverter = data.inverters.get(serial)
        if inverter is not None and self.coordinator.inverter_online(serial):
            return False
        data.dataloggers.pop(serial, None)
        data.inverters.pop(serial, None)
        for other in data.dataloggers.values():
            other.inverters.discard(serial)
        self.coordinator.listener.forget(serial)
        return True


def _serial(device: dr.DeviceEntry) -> str | None:
    """The serial (or entry id) in a device's PV Monitor identifier."""
    return next((ident for domain, ident in device.identifiers if domain == DOMAIN), None)
