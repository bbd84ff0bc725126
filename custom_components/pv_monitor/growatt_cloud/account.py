"""One Growatt cloud account, shared by every entry that uses it: client, session, budget.

Growatt locks an *account* after too many requests, so whatever polls it (one entry for the
account, or older entries of one plant each) shares one :class:`GrowattCloudAccount`: one
client and login session, one rolling 24-hour request count and one history-call log. All of
it lives in an HA :class:`~homeassistant.helpers.storage.Store` (key
``pv_monitor.growatt_cloud_<account key>``), so a restart neither forgets the requests of the
last 24 hours nor logs in again while the session is still good. The config flow hands its
fresh login session and the requests it sent to the account (:func:`async_hand_over`).

Stored data (version 1)::

    {"requests": [POSIX seconds, ...], "history_calls": [...],
     "session": {"cookies": {...}, "user_id": "..."} | None,
     "plants": {"<plant id>": {"history": {...}, "lifetime": {...}}}}
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
import hashlib
from typing import Any, Final

from homeassistant.const import CONF_TOKEN, CONF_USERNAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import instance_id
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN
from .api.budget import RequestBudget
from .api.client import (
    REGION_URLS,
    V1_HISTORY_CALLS_PER_DAY,
    GrowattCloudClient,
    GrowattOpenApiClient,
    GrowattShinePhoneClient,
    user_agent,
)
from .api.models import AuthType
from .const import CONF_AUTH_TYPE, CONF_PASSWORD_HASH, CONF_REGION, HISTORY_BUDGET_SHARE

STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10
"""Seconds a change waits before it is written (requests come in bursts)."""
HISTORY_ENDPOINTS: Final = frozenset({"PlantDetailAPI.do", "v1/plant/energy"})
"""Endpoints of the history import, logged in ``history_calls`` as well."""
V1_HISTORY_CALL_LIMIT: Final = V1_HISTORY_CALLS_PER_DAY - 1
"""History calls a rolling day on OpenAPI V1: one under the documented 10, for clock skew."""

ACCOUNTS: HassKey[dict[str, GrowattCloudAccount]] = HassKey(f"{DOMAIN}_growatt_cloud_accounts")
ACCOUNTS_LOCK: HassKey[asyncio.Lock] = HassKey(f"{DOMAIN}_growatt_cloud_accounts_lock")


def account_key(data: dict[str, Any]) -> str:
    """Stable key of the account of entry (or flow) ``data``: a hash, no credential in clear."""
    secret = data.get(CONF_TOKEN) if data[CONF_AUTH_TYPE] == AuthType.TOKEN else None
    who = secret or str(data.get(CONF_USERNAME, "")).strip().lower()
    text = f"{data[CONF_AUTH_TYPE]}:{data[CONF_REGION]}:{who}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


async def async_user_agent(hass: HomeAssistant) -> str:
    """This install's User-Agent (from Home Assistant's instance id: stable per install)."""
    return user_agent(await instance_id.async_get(hass))


def build_client(
    hass: HomeAssistant,
    data: dict[str, Any],
    agent: str,
    on_request: Callable[[str], None] | None = None,
) -> GrowattCloudClient:
    """The client of entry (or flow) ``data`` on Home Assistant's shared HTTP session."""
    session = async_get_clientsession(hass)
    base_url = REGION_URLS[data[CONF_REGION]]
    if data[CONF_AUTH_TYPE] == AuthType.TOKEN:
        return GrowattOpenApiClient(
            session, base_url, data[CONF_TOKEN], on_request=on_request, agent=agent
        )
    return GrowattShinePhoneClient(
        session,
        base_url,
        data[CONF_USERNAME],
        data[CONF_PASSWORD_HASH],
        on_request=on_request,
        agent=agent,
    )


class GrowattCloudAccount:
    """The shared state of one account (see the module docstring)."""

    def __init__(self, hass: HomeAssistant, key: str, data: dict[str, Any], agent: str) -> None:
        """Build it empty; :meth:`async_load` reads the store."""
        self.hass = hass
        self.key = key
        self.store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.growatt_cloud_{key}"
        )
        self.budget = RequestBudget(200)
        self.history_calls = RequestBudget(200)
        self.client = build_client(hass, data, agent, self.record)
        self.plants: dict[str, dict[str, Any]] = {}
        self.users: set[str] = set()
        self.costs: dict[str, int] = {}
        self.daily_budgets: dict[str, int] = {}
        self._saved_session: Any = None

    async def async_load(self) -> None:
        """Read requests, history calls, the session and per-plant state from the store."""
        stored = await self.store.async_load() or {}
        self.budget.load(stored.get("requests"))
        self.history_calls.load(stored.get("history_calls"))
        plants = stored.get("plants")
        self.plants = plants if isinstance(plants, dict) else {}
        self._saved_session = stored.get("session")
        restore = getattr(self.client, "restore_session", None)
        if restore is not None:
            restore(self._saved_session)

    @property
    def daily_budget(self) -> int:
        """The smallest daily budget of the entries using the account."""
        return min(self.daily_budgets.values(), default=200)

    @property
    def history_allowance(self) -> int:
        """History requests allowed per rolling day.

        A share of the budget (1/:data:`HISTORY_BUDGET_SHARE`); with OpenAPI V1 also below
        the documented 10 ``plant/energy`` calls a day.
        """
        share = max(1, self.daily_budget // HISTORY_BUDGET_SHARE)
        if self.client.auth_type is AuthType.TOKEN:
            return min(share, V1_HISTORY_CALL_LIMIT)
        return share

    def history_left(self, now: datetime) -> int:
        """History requests still allowed in the current 24-hour window."""
        return max(0, self.history_allowance - self.history_calls.count(now))

    @callback
    def set_daily_budget(self, entry_id: str, daily_budget: int) -> None:
        """Take entry ``entry_id``'s daily request budget (the account keeps the smallest)."""
        self.daily_budgets[entry_id] = daily_budget
        self.budget.daily_budget = self.daily_budget

    def record(self, endpoint: str) -> None:
        """Count one request (the client's hook) and schedule a save."""
        now = dt_util.utcnow()
        self.budget.record(now)
        if endpoint in HISTORY_ENDPOINTS:
            self.history_calls.record(now)
        self.store.async_delay_save(self._data, SAVE_DELAY)

    @callback
    def changed(self) -> None:
        """Per-plant state or the session changed: schedule a save."""
        self.store.async_delay_save(self._data, SAVE_DELAY)

    def interval(self, base: timedelta, reserved: int) -> timedelta:
        """Delay before the next poll, with the costs of every entry of the account."""
        self.budget.daily_budget = self.daily_budget
        cost = sum(self.costs.values())
        return self.budget.interval(base, cost, dt_util.utcnow(), reserved)

    def _data(self) -> dict[str, Any]:
        state = getattr(self.client, "session_state", None)
        now = dt_util.utcnow()
        self.budget.count(now)
        self.history_calls.count(now)
        return {
            "requests": self.budget.times(),
            "history_calls": self.history_calls.times(),
            "session": state() if state is not None else None,
            "plants": self.plants,
        }

    async def async_save(self) -> None:
        """Write now (unload)."""
        await self.store.async_save(self._data())


async def async_get_account(
    hass: HomeAssistant, entry_id: str, data: dict[str, Any], daily_budget: int
) -> GrowattCloudAccount:
    """The account of entry ``entry_id`` (loaded from its store on first use)."""
    accounts = hass.data.setdefault(ACCOUNTS, {})
    key = account_key(data)
    # Entries of one account set up at once must not each load their own copy.
    async with hass.data.setdefault(ACCOUNTS_LOCK, asyncio.Lock()):
        if (account := accounts.get(key)) is None:
            account = GrowattCloudAccount(hass, key, data, await async_user_agent(hass))
            await account.async_load()
            accounts[key] = account
    account.users.add(entry_id)
    account.set_daily_budget(entry_id, daily_budget)
    return account


async def async_release_account(account: GrowattCloudAccount, entry_id: str) -> None:
    """Entry ``entry_id`` stops using the account; the last one saves and forgets it."""
    account.users.discard(entry_id)
    account.costs.pop(entry_id, None)
    account.daily_budgets.pop(entry_id, None)
    await account.async_save()
    if not account.users:
        account.hass.data.get(ACCOUNTS, {}).pop(account.key, None)


async def async_hand_over(
    hass: HomeAssistant, data: dict[str, Any], client: GrowattCloudClient, requests: list[datetime]
) -> None:
    """Give the flow's login session and the requests it sent to the account's store.

    The entry then starts with that session (no second login) and a 24-hour count that
    includes the flow's requests.
    """
    key = account_key(data)
    account = hass.data.get(ACCOUNTS, {}).get(key)
    if account is None:
        account = GrowattCloudAccount(hass, key, data, await async_user_agent(hass))
        await account.async_load()
    account.budget.load([when.timestamp() for when in requests])
    state = getattr(client, "session_state", None)
    restore = getattr(account.client, "restore_session", None)
    if state is not None and restore is not None and (session := state()) is not None:
        restore(session)
    await account.async_save()
