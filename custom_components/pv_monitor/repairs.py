"""Repairs platform: fix flows for the repair issues the user can act on.

Each fixable issue is created with ``is_fixable=True`` and an issue id that starts with a
prefix in :data:`FIX_FLOWS`; the module named there (imported only when the user opens the
fix) provides ``async_create_fix_flow(hass, issue_id, data)``. A kind registers one line here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.importlib import async_import_module

from .const import DOMAIN

FIX_FLOWS: Final[dict[str, str]] = {
    "port_unavailable_": "growatt_local.repairs",
    "growatt_cloud_account_locked_": "growatt_cloud.repairs",
    "pv_system_anomaly_": "pv_system.repairs",
    "dashboard_offer": "common.dashboard",
    "energy_setup": "common.energy_setup",
}
"""Issue-id prefix -> module (relative to this package) with ``async_create_fix_flow``."""


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The fix flow of ``issue_id``: its kind's, or a plain confirmation."""
    for prefix, module_name in FIX_FLOWS.items():
        if issue_id.startswith(prefix):
            module: Any = await async_import_module(hass, f"{__package__}.{module_name}")
            flow: RepairsFlow = await module.async_create_fix_flow(hass, issue_id, data)
            return flow
    return ConfirmRepairFlow()


class EntryRepairFlow(RepairsFlow):
    """A fix flow about one config entry, opening on its :attr:`first_step` form."""

    first_step: str = ""
    """The step shown first (``async_step_<first_step>``)."""

    def __init__(self, entry: ConfigEntry[Any]) -> None:
        """``entry``: the entry the issue is about."""
        self.entry = entry

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Open the first form (``user_input`` here is the flow's init data, not a form)."""
        result: FlowResult = await getattr(self, f"async_step_{self.first_step}")()
        return result

    def issue_placeholders(self) -> dict[str, str]:
        """The issue's own placeholders (its description lives in the fix flow's steps)."""
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, getattr(self, "issue_id", ""))
        return dict(issue.translation_placeholders or {}) if issue is not None else {}


def issue_entry(
    hass: HomeAssistant, data: dict[str, str | int | float | None] | None
) -> ConfigEntry[Any] | None:
    """The entry named by an issue's ``data["entry_id"]``; None if it has been removed."""
    return hass.config_entries.async_get_entry(str((data or {}).get("entry_id")))


type FixFlowFactory = Callable[
    [HomeAssistant, str, dict[str, str | int | float | None] | None], Awaitable[RepairsFlow]
]
"""A kind's ``async_create_fix_flow(hass, issue_id, data)``."""


def entry_fix_flow(flow: Callable[[ConfigEntry[Any]], RepairsFlow]) -> FixFlowFactory:
    """``async_create_fix_flow`` for issues whose ``data`` names their entry.

    The fix flow is ``flow(entry)``, or a plain confirmation when the entry has been
    removed while the issue was open.
    """

    async def async_create_fix_flow(
        hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
    ) -> RepairsFlow:
        if (entry := issue_entry(hass, data)) is None:
            return ConfirmRepairFlow()
        return flow(entry)

    return async_create_fix_flow
