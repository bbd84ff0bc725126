"""Fix flow of the "account locked" repair issue: see when it ends, lower the daily budget.

The issue (``growatt_cloud_account_locked_<entry id>``) carries ``{"entry_id": ...}``. The
form shows until when Growatt keeps the account locked and offers a lower daily request
budget. The running poller takes the new budget at once; the entry's options are written
only when the lock has ended, because writing them reloads the entry and a reload logs in,
and every login during the lock extends it. The flow then ends with an abort
(``budget_lowered``), so the issue stays until the poller clears it when the lock is over.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import callback
from homeassistant.data_entry_flow import FlowResult
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..repairs import EntryRepairFlow, entry_fix_flow
from .const import CONF_DAILY_BUDGET, DEFAULT_DAILY_BUDGET, MIN_DAILY_BUDGET
from .coordinator import GrowattCloudCoordinator
from .flow import _BUDGET

BUDGET_SCHEMA: Final = vol.Schema({vol.Required(CONF_DAILY_BUDGET): _BUDGET})
"""The one field of the fix form."""


class LockRepairFlow(EntryRepairFlow):
    """Show the end of the lock and lower the daily request budget of a cloud entry."""

    entry: ConfigEntry[GrowattCloudCoordinator]
    first_step = "lower_budget"

    async def async_step_lower_budget(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Show the lock's end and the budget; apply a new budget."""
        budget = int(self.entry.options.get(CONF_DAILY_BUDGET, DEFAULT_DAILY_BUDGET))
        until = self._locked_until()
        placeholders = {
            **self.issue_placeholders(),
            "plant": self.entry.title,
            "until": "-" if until is None else dt_util.as_local(until).strftime("%Y-%m-%d %H:%M"),
            "budget": str(budget),
        }
        if user_input is None:
            suggested = {CONF_DAILY_BUDGET: max(MIN_DAILY_BUDGET, budget // 2)}
            return self.async_show_form(
                step_id="lower_budget",
                data_schema=self.add_suggested_values_to_schema(BUDGET_SCHEMA, suggested),
                description_placeholders=placeholders,
            )
        new_budget = int(user_input[CONF_DAILY_BUDGET])
        if self.entry.state is ConfigEntryState.LOADED:
            runtime = self.entry.runtime_data
            runtime.daily_budget = new_budget
            runtime.account.set_daily_budget(self.entry.entry_id, new_budget)
        self._save_after_lock(new_budget, until)
        placeholders["budget"] = str(new_budget)
        return self.async_abort(reason="budget_lowered", description_placeholders=placeholders)

    def _locked_until(self) -> datetime | None:
        """End of the lock, or None when the poller knows of none (or is not running)."""
        if self.entry.state is not ConfigEntryState.LOADED:
            return None
        until = self.entry.runtime_data.locked_until
        return until if until is not None and until > dt_util.utcnow() else None

    def _save_after_lock(self, budget: int, until: datetime | None) -> None:
        """Write the option now if no lock is running, else once it has ended."""
        hass, entry = self.hass, self.entry

        @callback
        def save(_now: datetime | None = None) -> None:
            hass.config_entries.async_update_entry(
                entry, options={**entry.options, CONF_DAILY_BUDGET: budget}
            )

        if until is None:
            save()
        else:
            entry.async_on_unload(async_track_point_in_utc_time(hass, save, until))


async_create_fix_flow = entry_fix_flow(LockRepairFlow)
"""The fix flow of the issue (its ``data``: ``{"entry_id": ...}``)."""
