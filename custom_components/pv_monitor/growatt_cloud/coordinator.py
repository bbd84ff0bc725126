"""Polling coordinator of a Growatt cloud entry (an account's chosen plants, or one plant).

Each poll reads the plants' totals and every device's latest values through the account's
shared client (:mod:`.account`: one login session and one request budget per account,
persisted across restarts). Around it:

* the request budget stretches the poll interval before the daily budget runs out, with
  the polls of every entry of the account and the history import's share counted;
* a locked account (ShinePhone 507) raises a repair issue saying until when, and polling
  pauses until then;
* refused credentials raise ``ConfigEntryAuthFailed`` (reauthentication); a CDN 403
  without the API's answer, outages and rate limits (V1 10012) back off exponentially
  (5 min, 10, 20, ... at most 2 h) and are logged once;
* every energy counter goes through :class:`~..common.counter.CounterGuard` (no negative,
  backwards or physically impossible value is published; a confirmed jump is a reset with a
  repair issue);
* plant power is the sum of the plant's inverters when the plant list says "0 W"; the
  plant's lifetime energy comes from the finest source (:mod:`.energy`);
* devices that leave a plant are removed from the device registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
import logging
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_TOKEN, CONF_USERNAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from ..common.counter import METER_MAX_POWER_KW, CounterGuard, CounterLimits, Verdict
from ..common.issues import async_raise_issue
from ..common.log import LogOnce
from ..common.redact import redact_serial
from ..common.statistics import async_adjust_reset, sensor_statistic_id
from ..const import DOMAIN
from .account import GrowattCloudAccount, async_get_account, async_release_account
from .api.errors import (
    GrowattAccountLockedError,
    GrowattAuthError,
    GrowattCloudError,
    GrowattRateLimitedError,
)
from .api.models import Device, DeviceData, Plant
from .const import (
    CLOUD_MAX_POWER_KW,
    CONF_DAILY_BUDGET,
    CONF_PASSWORD_HASH,
    CONF_POLL_INTERVAL,
    DEFAULT_DAILY_BUDGET,
    DEFAULT_POLL_INTERVAL,
    DEVICE_LIST_REFRESH_HOURS,
    MAX_BACKOFF_MINUTES,
    MIN_POLL_INTERVAL,
    entry_plants,
)
from .energy import PRODUCING_TYPES, plant_lifetime, plant_power

_LOGGER = logging.getLogger(__name__)

TO_REDACT = {
    CONF_USERNAME,
    CONF_PASSWORD_HASH,
    CONF_TOKEN,
    "password",
    "location",
    "city",
    "country",
    "latitude",
    "longitude",
    "cookies",
    "session",
}
"""Keys redacted from the diagnostics (credentials, the session and the plant's location)."""

_GRID_KEYS = ("grid_", "load_")
"""Counters behind the household connection (limited by its power, not the inverter's)."""

type GrowattCloudConfigEntry = ConfigEntry[GrowattCloudCoordinator]


@dataclass(slots=True)
class GrowattCloudData:
    """What the coordinator knows about its plants.

    ``plants`` holds each plant's ``current_power`` (W), ``energy_today`` and
    ``energy_total`` (kWh); ``values`` the values of each device by serial (local-listener
    value keys); ``device_plant`` the plant of each device.
    """

    plants: dict[str, dict[str, float]] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    device_plant: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    devices_read_at: datetime | None = None


class GrowattCloudCoordinator(DataUpdateCoordinator[GrowattCloudData]):
    """Polls the plants of one entry within the account's daily request budget."""

    config_entry: GrowattCloudConfigEntry

    def __init__(self, hass: HomeAssistant, entry: GrowattCloudConfigEntry) -> None:
        """Build the coordinator from the entry's data and options (account: at set-up)."""
        minutes = max(
            MIN_POLL_INTERVAL, int(entry.options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL))
        )
        self.base_interval = timedelta(minutes=minutes)
        self.plants = entry_plants(entry.data)
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} growatt cloud {', '.join(self.plants)}",
            update_interval=self.base_interval,
        )
        self.data = GrowattCloudData()
        self.daily_budget = int(entry.options.get(CONF_DAILY_BUDGET, DEFAULT_DAILY_BUDGET))
        self._account: GrowattCloudAccount | None = None
        self.locked_until: datetime | None = None
        self.failures = 0
        self.guards: dict[tuple[str, str], CounterGuard] = {}
        self._guard_logs: dict[tuple[str, str], LogOnce] = {}
        self._skipped_devices: set[str] = set()
        self.history: dict[str, Any] = {}
        """Plant id -> its :class:`~.statistics.HistoryImporter` (set by :meth:`async_start`)."""

    # -- account --------------------------------------------------------------------------
    @property
    def account(self) -> GrowattCloudAccount:
        """The shared account (set up by :meth:`async_setup`)."""
        assert self._account is not None
        return self._account

    @property
    def client(self) -> Any:
        """The account's client."""
        return self.account.client

    @property
    def plant_ids(self) -> list[str]:
        """The entry's plants."""
        return list(self.plants)

    @property
    def requests_24h(self) -> int:
        """Requests sent to the cloud for this account in the last 24 hours."""
        return self.account.budget.count(dt_util.utcnow())

    @property
    def lock_issue_id(self) -> str:
        """Repair issue raised while the account is locked."""
        return f"growatt_cloud_account_locked_{self.config_entry.entry_id}"

    # -- lifecycle ------------------------------------------------------------------------
    async def async_setup(self) -> None:
        """Attach to the account (its stored session and budget) and poll once.

        Raises:
            ConfigEntryAuthFailed: credentials refused (reauthentication starts).
            ConfigEntryNotReady: the cloud is unreachable; set-up is retried.
        """
        self._account = await async_get_account(
            self.hass, self.config_entry.entry_id, dict(self.config_entry.data), self.daily_budget
        )
        try:
            await self.async_config_entry_first_refresh()
        except ConfigEntryNotReady:
            if self.locked_until is None:
                await self._async_release()
                raise
            # Retrying set-up would log in again and extend the lock: stay loaded, paused.
        except ConfigEntryAuthFailed:
            await self._async_release()
            raise

    async def async_start(self) -> None:
        """Start the history import of each plant (when the recorder runs)."""
        if "recorder" not in self.hass.config.components:
            return
        # Imported here: the module needs the recorder, which is optional.
        from .statistics import HistoryImporter  # noqa: PLC0415

        for plant_id in self.plants:
            importer = HistoryImporter(self.hass, self, plant_id)
            self.history[plant_id] = importer
            importer.async_schedule(timedelta(seconds=0))
        self.async_update_listeners()

    async def async_stop(self) -> None:
        """Stop polling and the history import; save the account's state."""
        for importer in self.history.values():
            importer.async_cancel()
        await self.async_shutdown()
        await self._async_release()

    async def _async_release(self) -> None:
        if self._account is not None:
            await async_release_account(self._account, self.config_entry.entry_id)
            self._account = None

    # -- polling --------------------------------------------------------------------------
    def _backoff(self) -> timedelta:
        delay: timedelta = self.base_interval * (2 ** min(self.failures, 10))
        return min(max(delay, self.base_interval), timedelta(minutes=MAX_BACKOFF_MINUTES))

    def history_reserved(self) -> int:
        """History requests still to be kept free of polls today (0 once imported)."""
        if all(importer.done for importer in self.history.values()):
            return 0
        return self.account.history_left(dt_util.utcnow())

    async def _async_update_data(self) -> GrowattCloudData:
        """Poll the plants and their devices.

        Raises:
            ConfigEntryAuthFailed: credentials refused.
            UpdateFailed: locked, rate-limited, blocked or unavailable (next poll delayed).
        """
        now = dt_util.utcnow()
        if self.locked_until is not None and now < self.locked_until:
            self.update_interval = self.locked_until - now
            raise self._locked_failure()
        before = self.account.budget.count(now) - getattr(self.client, "logins", 0)
        try:
            data = await self._async_poll(now)
        except GrowattAuthError as err:
            # No more polls with refused credentials: reauthentication reloads the entry.
            self.update_interval = None
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="growatt_cloud_auth_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        except GrowattAccountLockedError as err:
            self._async_locked(now, err)
            raise self._locked_failure() from err
        except GrowattCloudError as err:
            raise self._failure(err, now) from err
        self.failures = 0
        if self.locked_until is not None:
            self.locked_until = None
            ir.async_delete_issue(self.hass, DOMAIN, self.lock_issue_id)
        self.account.changed()
        sent = self.account.budget.count(dt_util.utcnow()) - getattr(self.client, "logins", 0)
        self._set_interval(now, data, sent - before)
        return data

    def _set_interval(self, now: datetime, data: GrowattCloudData, sent: int) -> None:
        """Steady cost of a poll: without the (daily) device list and any login."""
        cost = sent - (1 if data.devices_read_at == now else 0)
        cost = max(1, min(cost, len(self.plants) + 2 * max(1, len(data.devices))))
        self.account.costs[self.config_entry.entry_id] = cost
        self.update_interval = self.account.interval(self.base_interval, self.history_reserved())

    def _failure(self, err: GrowattCloudError, now: datetime) -> UpdateFailed:
        self.failures += 1
        self.update_interval = max(
            self._backoff(), self.account.budget.interval(self.base_interval, 1, now)
        )
        key = (
            "growatt_cloud_rate_limited"
            if isinstance(err, GrowattRateLimitedError)
            else "growatt_cloud_unavailable"
        )
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={
                "error": str(err),
                "minutes": str(int(self.update_interval.total_seconds() // 60)),
            },
        )

    def _locked_failure(self) -> UpdateFailed:
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="growatt_cloud_account_locked",
            translation_placeholders={"until": self._until_text()},
        )

    async def _async_read_devices(
        self, now: datetime
    ) -> tuple[dict[str, Device], dict[str, str], datetime | None]:
        """The device list of every plant (at set-up, then once a day)."""
        old = self.data
        read_at = old.devices_read_at
        if read_at is not None and now - read_at < timedelta(hours=DEVICE_LIST_REFRESH_HOURS):
            return old.devices, old.device_plant, read_at
        devices: dict[str, Device] = {}
        device_plant: dict[str, str] = {}
        for plant_id in self.plants:
            for device in await self.client.devices(plant_id):
                devices[device.serial] = device
                device_plant[device.serial] = plant_id
        if read_at is not None:
            self._async_remove_stale(old.device_plant, device_plant)
        return devices, device_plant, now

    async def _async_poll(self, now: datetime) -> GrowattCloudData:
        devices, device_plant, read_at = await self._async_read_devices(now)
        totals = await self.client.plant_totals(self.plant_ids)
        readings: dict[str, DeviceData] = {}
        for serial, device in devices.items():
            reading = await self.client.device_data(device_plant[serial], device)
            if reading is None:
                self._log_skipped(device)
                continue
            readings[serial] = reading
        day = dt_util.now().date()
        values = {s: v for s, v in self.data.values.items() if s in devices}
        for serial, reading in readings.items():
            values[serial] = self._guarded_values(
                serial, reading.values, now, day, values.get(serial, {})
            )
        plants = {}
        for plant_id in self.plants:
            producing = [
                values.get(serial, {})
                for serial, device in devices.items()
                if device_plant[serial] == plant_id and device.device_type in PRODUCING_TYPES
            ]
            plants[plant_id] = self._plant_values(plant_id, totals[plant_id], producing, now)
        return GrowattCloudData(
            plants=plants,
            devices=devices,
            device_plant=device_plant,
            values=values,
            devices_read_at=read_at,
        )

    def _log_skipped(self, device: Device) -> None:
        if device.serial not in self._skipped_devices:
            self._skipped_devices.add(device.serial)
            _LOGGER.info(
                "Growatt %s device %s: this API gives no values for it",
                device.device_type,
                device.serial,
            )

    def _plant_values(
        self, plant_id: str, plant: Plant, producing: list[dict[str, float]], now: datetime
    ) -> dict[str, float]:
        """Power, today's and lifetime energy of one plant from the best sources."""
        day = dt_util.now().date()
        state = self.account.plants.setdefault(plant_id, {})
        raw = {
            "energy_today": plant.energy_today,
            "energy_total": plant_lifetime(plant, producing, state, day),
        }
        present = {key: value for key, value in raw.items() if value is not None}
        old = {k: v for k, v in self.data.plants.get(plant_id, {}).items() if k != "current_power"}
        limit = CLOUD_MAX_POWER_KW * max(1, len(producing))
        result = self._guarded_values(plant_id, present, now, day, old, limit)
        if (power := plant_power(plant, producing)) is not None:
            result["current_power"] = power
        return result

    # -- counters -------------------------------------------------------------------------
    def _guard(self, owner: str, key: str, limit: float | None = None) -> CounterGuard:
        if (guard := self.guards.get((owner, key))) is None:
            if limit is None:
                limit = METER_MAX_POWER_KW if key.startswith(_GRID_KEYS) else CLOUD_MAX_POWER_KW
            guard = CounterGuard(CounterLimits(limit, daily=key.endswith("_today")))
            self.guards[(owner, key)] = guard
        return guard

    def _guarded_values(
        self,
        owner: str,
        new: dict[str, float],
        now: datetime,
        day: date,
        old: dict[str, float],
        limit: float | None = None,
    ) -> dict[str, float]:
        """``new`` with every energy counter passed through its guard; missing keys kept."""
        merged = dict(old)
        for key, value in new.items():
            if not key.endswith(("_today", "_total")):
                merged[key] = value
                continue
            guard = self._guard(owner, key, limit)
            verdict = guard.offer(value, now.timestamp(), day)
            self._note(owner, key, value, verdict, guard)
            if guard.value is not None:
                merged[key] = guard.value
        return merged

    def _note(
        self, owner: str, key: str, value: float, verdict: Verdict, guard: CounterGuard
    ) -> None:
        """Log a refused reading once per fault; a confirmed reset raises a repair issue."""
        log = self._guard_logs.setdefault((owner, key), LogOnce(_LOGGER))
        if verdict in (Verdict.HELD, Verdict.REJECTED):
            log.problem(
                "Growatt cloud %s %s: %s kWh is not plausible after %s kWh; not published",
                redact_serial(owner),
                key,
                value,
                guard.value,
            )
            return
        log.recovered("Growatt cloud %s %s: plausible readings again", redact_serial(owner), key)
        if verdict is Verdict.RESET and guard.last_reset is not None:
            old, new = guard.last_reset
            self._adjust_reset(owner, key, old, new)
            async_raise_issue(
                self.hass,
                f"growatt_cloud_counter_reset_{owner}_{key}_{self.config_entry.entry_id}",
                "growatt_cloud_counter_reset",
                {"counter": f"{owner} {key}", "old": f"{old:.1f}", "new": f"{new:.1f}"},
            )

    def _unique_id(self, owner: str, key: str) -> str | None:
        """The unique id of the sensor of counter ``key`` of a plant or device."""
        is_plant = owner in self.plants
        plant = owner if is_plant else self.data.device_plant.get(owner)
        if plant is None:
            return None
        return f"{self.device_identifier(plant, None if is_plant else owner)}_{key}"

    def counter_guards(self) -> dict[str, CounterGuard]:
        """The counters' guards by sensor unique id (diagnostics' spike scan)."""
        guards = {self._unique_id(owner, key): guard for (owner, key), guard in self.guards.items()}
        return {unique_id: guard for unique_id, guard in guards.items() if unique_id}

    def _adjust_reset(self, owner: str, key: str, old: float, new: float) -> None:
        """Keep the counter's long-term statistics continuous across a confirmed reset."""
        unique_id = self._unique_id(owner, key)
        if unique_id is None:
            return
        statistic_id = sensor_statistic_id(self.hass, unique_id)
        async_adjust_reset(self.hass, statistic_id, old, new, dt_util.utcnow(), "kWh")

    @callback
    def restore_value(self, owner: str, key: str, value: float) -> None:
        """Seed a lifetime counter restored from before a restart (``owner``: plant or serial).

        A lower first reading (a night-time 0) then does not replace it.
        """
        if not key.endswith("_total"):
            return
        guard = self._guard(owner, key)
        if guard.value is None or value > guard.value:
            guard.restore(value, dt_util.utcnow().timestamp())
        target = (
            self.data.plants.setdefault(owner, {})
            if owner in self.plants
            else self.data.values.setdefault(owner, {})
        )
        if guard.value is not None:
            target[key] = guard.value

    # -- devices --------------------------------------------------------------------------
    def device_identifier(self, plant_id: str, serial: str | None = None) -> str:
        """Device-registry identifier of a plant (``serial`` None) or one of its devices."""
        prefix = f"growatt_cloud_{plant_id}"
        return prefix if serial is None else f"{prefix}_{serial}"

    @callback
    def _async_remove_stale(self, old: dict[str, str], new: dict[str, str]) -> None:
        """Remove the devices that left their plant from the device registry."""
        registry = dr.async_get(self.hass)
        for serial, plant_id in old.items():
            if serial in new:
                continue
            identifier = (DOMAIN, self.device_identifier(plant_id, serial))
            if device := registry.async_get_device(identifiers={identifier}):
                _LOGGER.info(
                    "Growatt device %s left plant %s; removing it",
                    redact_serial(serial),
                    redact_serial(plant_id),
                )
                registry.async_update_device(
                    device.id, remove_config_entry_id=self.config_entry.entry_id
                )
            self.guards = {k: v for k, v in self.guards.items() if k[0] != serial}

    @callback
    def async_remove_device(self, device: dr.DeviceEntry) -> bool:
        """Whether the user may delete ``device``: only one no longer in its plant."""
        current = {(DOMAIN, self.device_identifier(plant_id)) for plant_id in self.plants}
        current |= {
            (DOMAIN, self.device_identifier(plant_id, serial))
            for serial, plant_id in self.data.device_plant.items()
        }
        return not device.identifiers & current

    # -- lock -----------------------------------------------------------------------------
    @callback
    def _async_locked(self, now: datetime, err: GrowattAccountLockedError) -> None:
        """Pause until the lock ends and tell the user in a repair issue."""
        duration = err.duration or timedelta(hours=24)
        self.locked_until = now + duration
        self.update_interval = duration
        names = ", ".join(self.plants.values())
        _LOGGER.warning(
            "Growatt locked the account of %s until %s (%s); polling pauses until then",
            names,
            self._until_text(),
            err,
        )
        async_raise_issue(
            self.hass,
            self.lock_issue_id,
            "growatt_cloud_account_locked",
            {"plant": names, "until": self._until_text()},
            fixable=True,
            data={"entry_id": self.config_entry.entry_id},
            severity=ir.IssueSeverity.ERROR,
        )

    def _until_text(self) -> str:
        assert self.locked_until is not None
        return dt_util.as_local(self.locked_until).strftime("%Y-%m-%d %H:%M")

    # -- diagnostics ----------------------------------------------------------------------
    def _counter_diagnostics(self) -> dict[str, dict[str, Any]]:
        """Each counter's guard (held candidates, drops, resets), by plant or serial."""
        counters: dict[str, dict[str, Any]] = {}
        for (owner, key), guard in self.guards.items():
            counters.setdefault(owner, {})[key] = guard.diagnostics()
        return counters

    def diagnostics(self) -> dict[str, Any]:
        """Entry data and state for the diagnostics download.

        Credentials, the session and the location are redacted (serials by the caller).
        """
        data = self.data
        account = self._account
        return async_redact_data(
            {
                "entry_data": dict(self.config_entry.data),
                "auth_type": account.client.auth_type if account else None,
                "update_interval_s": self.update_interval.total_seconds()
                if self.update_interval
                else None,
                "requests_24h": self.requests_24h if account else None,
                "daily_budget": self.daily_budget,
                "history_requests_24h": account.history_calls.count(dt_util.utcnow())
                if account
                else None,
                "failures": self.failures,
                "locked_until": self.locked_until.isoformat() if self.locked_until else None,
                "plants": data.plants,
                "devices": {
                    serial: {
                        "plant": data.device_plant.get(serial),
                        "type": device.device_type,
                        "model": device.model,
                        "datalogger": device.datalogger_serial,
                        "values": data.values.get(serial, {}),
                    }
                    for serial, device in data.devices.items()
                },
                "counters": self._counter_diagnostics(),
                "history": {
                    plant_id: importer.diagnostics() for plant_id, importer in self.history.items()
                },
            },
            TO_REDACT,
        )
