"""Constants of the Growatt cloud kind: entry data and option keys, defaults, limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

CONF_AUTH_TYPE: Final = "auth_type"
"""Entry data: :class:`~.models.AuthType` value."""
CONF_REGION: Final = "region"
"""Entry data: key of :data:`~.client.REGION_URLS`."""
CONF_PASSWORD_HASH: Final = "password_hash"
"""Entry data (password auth): Growatt's hash of the password; the password is not stored."""
CONF_PLANT_ID: Final = "plant_id"
CONF_PLANT_NAME: Final = "plant_name"

CONF_POLL_INTERVAL: Final = "poll_interval"
"""Option: minutes between polls (the budget guard may stretch it)."""
CONF_DAILY_BUDGET: Final = "daily_budget"
"""Option: requests allowed per rolling 24 hours."""

DEFAULT_POLL_INTERVAL: Final = 5
MIN_POLL_INTERVAL: Final = 5
"""Minutes; the cloud refreshes its data every 5 minutes (datalogger upload interval)."""
MAX_POLL_INTERVAL: Final = 60
DEFAULT_DAILY_BUDGET: Final = 200
"""Growatt locks accounts after roughly 200 requests a day."""
MIN_DAILY_BUDGET: Final = 20
MAX_DAILY_BUDGET: Final = 5000

HISTORY_DAYS: Final = 365
"""Days of daily energy imported into long-term statistics on first set-up."""
HISTORY_BUDGET_SHARE: Final = 4
"""The history import may use at most 1/4 of the daily budget."""

DEVICE_LIST_REFRESH_HOURS: Final = 24
"""The device list is read at set-up and then once a day."""
MAX_BACKOFF_MINUTES: Final = 120
"""Longest delay between polls while the cloud is down or rate-limiting."""

CONF_PLANT_IDS: Final = "plant_ids"
"""Entry data of an account entry: the chosen plants' ids (older entries: one ``plant_id``)."""
CONF_PLANTS: Final = "plants"
"""Entry data of an account entry: ``{plant id: plant name}`` of the chosen plants."""

CLOUD_MAX_POWER_KW: Final = 50.0
"""Largest power (kW) behind one cloud energy counter of a device: the largest inverters the
cloud kind reads (MID/MOD TL3-X up to 50 kW); grid and load counters use the household
connection's :data:`~..common.counter.METER_MAX_POWER_KW`."""


def entry_plants(data: Mapping[str, Any]) -> dict[str, str]:
    """``{plant id: name}`` of an entry's data, in either shape (account or one plant)."""
    if isinstance(plants := data.get(CONF_PLANTS), dict) and plants:
        return {str(k): str(v) for k, v in plants.items()}
    if isinstance(ids := data.get(CONF_PLANT_IDS), list) and ids:
        return {str(plant_id): str(plant_id) for plant_id in ids}
    plant_id = str(data[CONF_PLANT_ID])
    return {plant_id: str(data.get(CONF_PLANT_NAME) or plant_id)}
