"""Checked by mypy in scripts/lint, never run: a kind cannot register another kind's set-up.

``ConfigEntry`` is invariant in its runtime type, so the EV switch set-up (which takes a
``ConfigEntry[EvChargingCoordinator]``) does not fit a ``KindSpec[DsmrCoordinator]``. The
``type: ignore`` below must stay needed: mypy --strict reports an unused ignore, and lint
fails, the day a wrong-kind registration type-checks.
"""

from homeassistant.const import Platform

from custom_components.pv_monitor.common.runtime import KindSpec
from custom_components.pv_monitor.dsmr.coordinator import DsmrCoordinator
from custom_components.pv_monitor.dsmr.sensor import async_setup_dsmr_sensors
from custom_components.pv_monitor.ev_charging.switch import async_setup_ev_switch

RIGHT = KindSpec[DsmrCoordinator](
    factory=DsmrCoordinator, platforms={Platform.SENSOR: async_setup_dsmr_sensors}
)
WRONG = KindSpec[DsmrCoordinator](
    factory=DsmrCoordinator,
    platforms={Platform.SWITCH: async_setup_ev_switch},  # type: ignore[dict-item]
)
