"""Repairs platform: fix flows for the repair issues the user can act on.

Each fixable issue is created with ``is_fixable=True`` and an issue id that starts with a
prefix in :data:`FIX_FLOWS`; the module named there (imported only when the user opens the
fix) provides ``async_create_fix_flow(hass, issue_id, data)``. A kind registers one line here.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.core import HomeAssistant
from homeassistant.helpers.importlib import async_import_module

FIX_FLOWS: Final[dict[str, str]] = {
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
