"""Config flow of the PV Monitor integration: a menu of kinds, each kind's own steps.

Home Assistant looks up a step as a method ``async_step_<step_id>`` of one flow class, so
each kind contributes its steps as a mixin from its package's ``flow`` module; this module
only composes them and dispatches what Home Assistant starts for an existing entry
(options, reconfigure, reauthentication) to the entry's kind through typed tables.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.core import callback

from .const import CONF_KIND, DOMAIN, EntryKind
from .dsmr.discovery import DsmrDiscoveryMixin
from .dsmr.flow import DsmrFlowMixin, DsmrOptionsFlow
from .ev_charging.flow import EvChargingFlowMixin, EvChargingOptionsFlow
from .growatt_cloud.flow import GrowattCloudFlowMixin, GrowattCloudOptionsFlow
from .growatt_local.flow import GrowattLocalFlowMixin, GrowattLocalOptionsFlow
from .pv_system.flow import PvSystemFlowMixin, PvSystemOptionsFlow

SOURCE_KINDS: Final[tuple[EntryKind, ...]] = (
    EntryKind.GROWATT_LOCAL,
    EntryKind.GROWATT_CLOUD,
    EntryKind.DSMR,
    EntryKind.EV_CHARGING,
    EntryKind.PV_SYSTEM,
)
"""Menu options of the user step; each is the first step of that kind's mixin."""


class PvMonitorConfigFlow(
    DsmrDiscoveryMixin,
    PvSystemFlowMixin,
    EvChargingFlowMixin,
    DsmrFlowMixin,
    GrowattCloudFlowMixin,
    GrowattLocalFlowMixin,
    ConfigFlow,
    domain=DOMAIN,
):
    """Config flow of PV Monitor: a menu of source kinds, then that kind's steps."""

    VERSION = 1
    MINOR_VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Return the options flow of ``config_entry``'s kind."""
        return OPTIONS_FLOWS[config_entry.data[CONF_KIND]]()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user choose which kind of source to add."""
        return self.async_show_menu(step_id="user", menu_options=list(SOURCE_KINDS))

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Reconfigure an entry with its kind's reconfigure step."""
        step = RECONFIGURE_STEPS[self._get_reconfigure_entry().data[CONF_KIND]]
        return await step(self, user_input)

    async def async_step_reauth(self, entry_data: dict[str, Any]) -> ConfigFlowResult:
        """Reauthenticate an entry with its kind's reauth step (kinds with credentials)."""
        return await REAUTH_STEPS[entry_data[CONF_KIND]](self, None)


type _Step = Callable[
    [PvMonitorConfigFlow, dict[str, Any] | None], Coroutine[Any, Any, ConfigFlowResult]
]

RECONFIGURE_STEPS: Final[dict[str, _Step]] = {
    EntryKind.GROWATT_LOCAL: PvMonitorConfigFlow.async_step_reconfigure_growatt_local,
    EntryKind.GROWATT_CLOUD: PvMonitorConfigFlow.async_step_reconfigure_growatt_cloud,
    EntryKind.DSMR: PvMonitorConfigFlow.async_step_reconfigure_dsmr,
    EntryKind.EV_CHARGING: PvMonitorConfigFlow.async_step_reconfigure_ev_charging,
    EntryKind.PV_SYSTEM: PvMonitorConfigFlow.async_step_reconfigure_pv_system,
}
"""Reconfigure step of each kind."""

REAUTH_STEPS: Final[dict[str, _Step]] = {
    EntryKind.GROWATT_CLOUD: PvMonitorConfigFlow.async_step_growatt_cloud_reauth,
}
"""Reauthentication step of each kind that has credentials."""

OPTIONS_FLOWS: Final[dict[str, type[OptionsFlow]]] = {
    EntryKind.GROWATT_LOCAL: GrowattLocalOptionsFlow,
    EntryKind.GROWATT_CLOUD: GrowattCloudOptionsFlow,
    EntryKind.DSMR: DsmrOptionsFlow,
    EntryKind.EV_CHARGING: EvChargingOptionsFlow,
    EntryKind.PV_SYSTEM: PvSystemOptionsFlow,
}
"""Options flow class of each kind."""
