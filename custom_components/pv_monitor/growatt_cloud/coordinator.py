"""Polling coordinator of a Growatt cloud entry (one plant).

Each poll reads the plant's totals and every device's latest values through one client
(one login per session, see :mod:`.growatt_cloud.client`). Around it:

* the request budget (:class:`~.growatt_cloud.budget.RequestBudget`) counts every request
  of the last 24 hours and stretches the poll interval before the daily budget runs out;
* a locked account (ShinePhone 507) raises a repair issue saying until when, and polling
  pauses until then;
* refused credentials raise ``ConfigEntryAuthFailed`` (reauthentication);
* outages and rate limits (V1 10012) back off exponentially (5 min, 10, 20, ... at most
  2 h) and are logged once (the coordinator logs the first failure and the recovery);
* lifetime counters never decrease (the cloud reports 0 at night on some devices) and daily
  counters only go back once per local day.
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
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from .api.budget import RequestBudget
from .api.client import (
    REGION_URLS,
    GrowattCloudClient,
    GrowattOpenApiClient,
    GrowattShinePhoneClient,
)
from .api.errors import (
    GrowattAccountLockedError,
    GrowattAuthError,
    GrowattCloudError,
    GrowattRateLimitedError,
)
from .api.models import AuthType, Device, DeviceData
from .const import (
    CONF_AUTH_TYPE,
    CONF_DAILY_BUDGET,
    CONF_PASSWORD_HASH,
    CONF_PLANT_ID,
    CONF_PLANT_NAME,
    CONF_POLL_INTERVAL,
    CONF_REGION,
    DEFAULT_DAILY_BUDGET,
    DEFAULT_POLL_INTERVAL,
    DEVICE_LIST_REFRESH_HOURS,
    MAX_BACKOFF_MINUTES,
    MIN_POLL_INTERVAL,
)

_LOGGER = logging.getLogger(__name__)

PLANT_KEYS = ("current_power", "energy_today", "energy_total")
"""Value keys of the plant itself (W, kWh, kWh)."""

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
}
"""Keys redacted from the diagnostics (credentials and the plant's location)."""

type GrowattCloudConfigEntry = ConfigEntry[GrowattCloudCoordinator]


@dataclass(slots=True)
class GrowattCloudData:
    """What the coordinator knows about its plant.

    ``plant`` holds :data:`PLANT_KEYS` values; ``values`` the values of each device by
    serial (local-listener value keys).
    """

    plant: dict[str, float] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    devices_read_at: datetime | None = None
    day: date | None = None
    """Local day of the last successful poll."""
    ignored_decreases: int = 0


def merge_counters(
    old: dict[str, float], new: dict[str, float], new_day: bool
) -> tuple[dict[str, float], int]:
    """Merge ``new`` into a copy of ``old``; return it and the number of ignored values.

    Keys ending ``_total`` never decrease; keys ending ``_today`` decrease only on the
    first poll of a new local day (``new_day``); keys missing from ``new`` keep their old
    value.
    """
    merged = dict(old)
    ignored = 0
    for key, value in new.items():
        previous = old.get(key)
        if (
            previous is not None
            and value < previous
            and (key.endswith("_total") or (key.endswith("_today") and not new_day))
        ):
            ignored += 1
            continue
        merged[key] = value
    return merged, ignored


def build_client(
    hass: HomeAssistant, data: dict[str, Any], on_request: Any = None
) -> GrowattCloudClient:
    """The client of an entry's (or a flow's) data, on Home Assistant's shared session."""
    session = async_get_clientsession(hass)
    base_url = REGION_URLS[data[CONF_REGION]]
    if data[CONF_AUTH_TYPE] == AuthType.TOKEN:
        return GrowattOpenApiClient(session, base_url, data[CONF_TOKEN], on_request=on_request)
    return GrowattShinePhoneClient(
        session, base_url, data[CONF_USERNAME], data[CONF_PASSWORD_HASH], on_request=on_request
    )


class GrowattCloudCoordinator(DataUpdateCoordinator[GrowattCloudData]):
    """Polls one plant of a Growatt cloud account within a daily request budget."""

    config_entry: GrowattCloudConfigEntry

    def __init__(self, hass: HomeAssistant, entry: GrowattCloudConfigEntry) -> None:
        """Build the coordinator and its client from the entry's data and options."""
        minutes = max(
            MIN_POLL_INTERVAL, int(entry.options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL))
        )
        self.base_interval = timedelta(minutes=minutes)
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} growatt cloud {entry.data[CONF_PLANT_ID]}",
            update_interval=self.base_interval,
        )
        self.data = GrowattCloudData()
        self.plant_id: str = entry.data[CONF_PLANT_ID]
        self.plant_name: str = entry.data.get(CONF_PLANT_NAME) or entry.title
        self.budget = RequestBudget(int(entry.options.get(CONF_DAILY_BUDGET, DEFAULT_DAILY_BUDGET)))
        self.client = build_client(hass, dict(entry.data), self._count_request)
        self.locked_until: datetime | None = None
        self.failures = 0
        self.history_task_started = False
        self._started = False
        self._skipped_devices: set[str] = set()

    # -- budget ---------------------------------------------------------------------------
    def _count_request(self, endpoint: str) -> None:
        self.budget.record(dt_util.utcnow())

    @property
    def requests_24h(self) -> int:
        """Requests sent to the cloud in the last 24 hours."""
        return self.budget.count(dt_util.utcnow())

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def lock_issue_id(self) -> str:
        """Repair issue raised while the account is locked."""
        return f"growatt_cloud_account_locked_{self.config_entry.entry_id}"

    async def async_setup(self) -> None:
        """First poll; a locked account keeps the entry loaded but paused.

        Raises:
            ConfigEntryAuthFailed: credentials refused (reauthentication starts).
            ConfigEntryNotReady: the cloud is unreachable; set-up is retried.
        """
        try:
            await self.async_config_entry_first_refresh()
        except ConfigEntryNotReady:
            if self.locked_until is None:
                raise
            # Retrying set-up would log in again and extend the lock: stay loaded, paused.

    async def async_start(self) -> None:
        """Start the history import once data is there (now, or after the first poll)."""
        self._started = True
        self._async_maybe_import_history()

    async def async_stop(self) -> None:
        """Stop polling (the shared HTTP session stays open)."""
        await self.async_shutdown()

    @callback
    def _async_maybe_import_history(self) -> None:
        if not self._started or self.history_task_started or not self.last_update_success:
            return
        if "recorder" not in self.hass.config.components:
            return
        # Imported here: the module needs the recorder, which is optional.
        from .statistics import async_import_history  # noqa: PLC0415

        self.history_task_started = True
        self.config_entry.async_create_background_task(
            self.hass,
            async_import_history(self.hass, self),
            f"{DOMAIN} growatt cloud history {self.plant_id}",
        )

    # -- polling --------------------------------------------------------------------------
    def _backoff(self) -> timedelta:
        delay: timedelta = self.base_interval * (2 ** min(self.failures, 10))
        return min(max(delay, self.base_interval), timedelta(minutes=MAX_BACKOFF_MINUTES))

    async def _async_update_data(self) -> GrowattCloudData:
        """Poll the plant and its devices.

        Raises:
            ConfigEntryAuthFailed: credentials refused.
            UpdateFailed: locked, rate-limited or unavailable (the next poll is delayed).
        """
        now = dt_util.utcnow()
        if self.locked_until is not None and now < self.locked_until:
            self.update_interval = self.locked_until - now
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="growatt_cloud_account_locked",
                translation_placeholders={"until": self._until_text()},
            )
        before = self.client_requests
        logins_before = self.client_logins
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
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="growatt_cloud_account_locked",
                translation_placeholders={"until": self._until_text()},
            ) from err
        except GrowattCloudError as err:
            self.failures += 1
            self.update_interval = max(
                self._backoff(), self.budget.interval(self.base_interval, 1, now)
            )
            key = (
                "growatt_cloud_rate_limited"
                if isinstance(err, GrowattRateLimitedError)
                else "growatt_cloud_unavailable"
            )
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=key,
                translation_placeholders={
                    "error": str(err),
                    "minutes": str(int(self.update_interval.total_seconds() // 60)),
                },
            ) from err
        self.failures = 0
        if self.locked_until is not None:
            self.locked_until = None
            ir.async_delete_issue(self.hass, DOMAIN, self.lock_issue_id)
        # Steady cost of a poll: without the login and the (daily) device list.
        cost = self.client_requests - before - (self.client_logins - logins_before)
        if data.devices_read_at == now:
            cost -= 1
        self.update_interval = self.budget.interval(self.base_interval, cost, dt_util.utcnow())
        self.hass.loop.call_soon(self._async_maybe_import_history)
        return data

    @property
    def client_requests(self) -> int:
        """Requests sent by this entry's client since set-up."""
        requests: int = getattr(self.client, "requests", 0)
        return requests

    @property
    def client_logins(self) -> int:
        """Logins sent by this entry's client since set-up (0 with a token)."""
        logins: int = getattr(self.client, "logins", 0)
        return logins

    async def _async_poll(self, now: datetime) -> GrowattCloudData:
        old = self.data
        devices = old.devices
        read_at = old.devices_read_at
        if read_at is None or now - read_at >= timedelta(hours=DEVICE_LIST_REFRESH_HOURS):
            devices = {device.serial: device for device in await self.client.devices(self.plant_id)}
            read_at = now
        plant = await self.client.plant(self.plant_id)
        readings: list[DeviceData] = []
        for device in devices.values():
            reading = await self.client.device_data(self.plant_id, device)
            if reading is None:
                if device.serial not in self._skipped_devices:
                    self._skipped_devices.add(device.serial)
                    _LOGGER.info(
                        "Growatt %s device %s: this API gives no values for it",
                        device.device_type,
                        device.serial,
                    )
                continue
            readings.append(reading)

        today = dt_util.now().date()
        new_day = old.day is not None and today != old.day
        ignored = old.ignored_decreases
        plant_new = {
            key: value
            for key, value in (
                ("current_power", plant.current_power),
                ("energy_today", plant.energy_today),
                ("energy_total", plant.energy_total),
            )
            if value is not None
        }
        plant_values, count = merge_counters(old.plant, plant_new, new_day)
        ignored += count
        values = dict(old.values)
        for reading in readings:
            values[reading.serial], count = merge_counters(
                old.values.get(reading.serial, {}), reading.values, new_day
            )
            ignored += count
        return GrowattCloudData(
            plant=plant_values,
            devices=devices,
            values=values,
            devices_read_at=read_at,
            day=today,
            ignored_decreases=ignored,
        )

    @callback
    def _async_locked(self, now: datetime, err: GrowattAccountLockedError) -> None:
        """Pause until the lock ends and tell the user in a repair issue."""
        duration = err.duration or timedelta(hours=24)
        self.locked_until = now + duration
        self.update_interval = duration
        _LOGGER.warning(
            "Growatt locked the account of %s until %s (%s); polling pauses until then",
            self.plant_name,
            self._until_text(),
            err,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.lock_issue_id,
            is_fixable=True,
            data={"entry_id": self.config_entry.entry_id},
            severity=ir.IssueSeverity.ERROR,
            translation_key="growatt_cloud_account_locked",
            translation_placeholders={"plant": self.plant_name, "until": self._until_text()},
        )

    def _until_text(self) -> str:
        assert self.locked_until is not None
        return dt_util.as_local(self.locked_until).strftime("%Y-%m-%d %H:%M")

    # -- entities -------------------------------------------------------------------------
    @callback
    def restore_value(self, serial: str | None, key: str, value: float) -> None:
        """Seed a counter restored from before a restart (``serial`` None: the plant).

        Seed a counter restored from before a restart (``serial`` None: the plant), so
        that a lower first reading (a night-time 0) does not replace it.
        """
        target = self.data.plant if serial is None else self.data.values.setdefault(serial, {})
        if key.endswith("_total") and value > target.get(key, float("-inf")):
            target[key] = value

    def diagnostics(self) -> dict[str, Any]:
        """Entry data and state for the diagnostics download.

        Entry data and state for the diagnostics download, credentials and location
        redacted (serials are redacted by the caller).
        """
        data = self.data
        return async_redact_data(
            {
                "entry_data": dict(self.config_entry.data),
                "auth_type": self.client.auth_type,
                "update_interval_s": self.update_interval.total_seconds()
                if self.update_interval
                else None,
                "requests_24h": self.requests_24h,
                "daily_budget": self.budget.daily_budget,
                "logins": self.client_logins,
                "failures": self.failures,
                "locked_until": self.locked_until.isoformat() if self.locked_until else None,
                "plant": data.plant,
                "devices": {
                    serial: {
                        "type": device.device_type,
                        "model": device.model,
                        "datalogger": device.datalogger_serial,
                        "values": data.values.get(serial, {}),
                    }
                    for serial, device in data.devices.items()
                },
                "ignored_decreases": data.ignored_decreases,
                "history_imported": self.history_task_started,
            },
            TO_REDACT,
        )
