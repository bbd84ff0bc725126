"""Fix flow of the PV anomaly repair issues: acknowledge, or mute the anomaly's issue.

The issues (``pv_system_anomaly_<type>_<entry id>``, type ``underperformance`` or
``no_production``) carry ``{"entry_id": ..., "anomaly": <type>}``. *Acknowledge* removes
the issue; it comes back when the anomaly starts again. *Mute* also adds the type to the
entry's ``muted_anomalies`` option: no repair issue is raised for it any more, while the
problem sensor and the ``pv_monitor_anomaly`` event (for automations) stay. Saving the
entry's options again unmutes (the options form does not carry the muted list).
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult

from ..repairs import EntryRepairFlow, issue_entry
from .const import CONF_MUTED_ANOMALIES


class AnomalyRepairFlow(EntryRepairFlow):
    """Acknowledge an anomaly, or mute the repair issues of its type."""

    def __init__(self, entry: ConfigEntry[Any], anomaly: str) -> None:
        """``anomaly``: the :class:`~.solar.anomaly.AnomalyType` value of the issue."""
        super().__init__(entry)
        self.anomaly = anomaly

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Offer the two choices."""
        return self.async_show_menu(
            step_id="init",
            menu_options=["acknowledge", "mute"],
            description_placeholders={**self.issue_placeholders(), "name": self.entry.title},
        )

    async def async_step_acknowledge(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Remove the issue (the repairs manager does it when the flow ends)."""
        return self.async_create_entry(data={})

    async def async_step_mute(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Add the anomaly to the muted ones (the entry reloads with the option)."""
        muted = list(self.entry.options.get(CONF_MUTED_ANOMALIES, []))
        if self.anomaly not in muted:
            muted.append(self.anomaly)
        self.hass.config_entries.async_update_entry(
            self.entry, options={**self.entry.options, CONF_MUTED_ANOMALIES: muted}
        )
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The fix flow of ``pv_system_anomaly_<type>_<entry id>``."""
    if (entry := issue_entry(hass, data)) is None:  # removed while the issue was open
        return ConfirmRepairFlow()
    return AnomalyRepairFlow(entry, str((data or {}).get("anomaly")))
