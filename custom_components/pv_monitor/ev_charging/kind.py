"""EV charging as the integration runs it (imported at set-up): controller and its entities."""

from __future__ import annotations

from typing import Final

from homeassistant.const import Platform

from ..common.runtime import KindSpec
from .coordinator import EvChargingCoordinator
from .number import async_setup_ev_number
from .select import async_setup_ev_select
from .sensor import async_setup_ev_sensor
from .switch import async_setup_ev_switch

KIND: Final = KindSpec[EvChargingCoordinator](
    factory=EvChargingCoordinator,
    platforms={
        Platform.NUMBER: async_setup_ev_number,
        Platform.SELECT: async_setup_ev_select,
        Platform.SENSOR: async_setup_ev_sensor,
        Platform.SWITCH: async_setup_ev_switch,
    },
)
"""The EV charging kind, as :mod:`..common.runtime` runs it."""
