"""Constants every kind shares: the domain and the entry kinds."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "pv_monitor"


class EntryKind(StrEnum):
    """Kind of a config entry, chosen from the config-flow menu (``entry.data[CONF_KIND]``)."""

    GROWATT_LOCAL = "growatt_local"
    GROWATT_CLOUD = "growatt_cloud"
    DSMR = "dsmr"
    PV_SYSTEM = "pv_system"
    EV_CHARGING = "ev_charging"


CONF_KIND: Final = "kind"
"""Entry data key naming the entry's kind (an :class:`EntryKind` value)."""
