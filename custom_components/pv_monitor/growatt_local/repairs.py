"""Fix flow of the "port unavailable" repair issue: listen on another port.

The issue (``port_unavailable_<entry id>``, raised by the coordinator when the listen
address cannot be bound) carries ``{"entry_id": ...}``. The flow asks for a port, test-binds
it on the entry's listen address, stores it (with the unique id and title that follow from
it) and reloads the entry. The datalogger must then be pointed at the new port (the form's
description says so).
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.data_entry_flow import FlowResult
import voluptuous as vol

from ..const import DOMAIN
from ..repairs import EntryRepairFlow, entry_fix_flow
from .flow import (
    _PORT_SELECTOR,
    ERROR_PORT_IN_USE,
    async_check_bindable,
    growatt_local_title,
    growatt_local_unique_id,
)

PORT_SCHEMA: Final = vol.Schema({vol.Required(CONF_PORT): _PORT_SELECTOR})
"""The one field of the fix form."""


class PortRepairFlow(EntryRepairFlow):
    """Choose another listen port for a Growatt listener entry."""

    first_step = "choose_port"

    async def async_step_choose_port(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Ask for the new port; test-bind it; save and reload."""
        errors: dict[str, str] = {}
        placeholders = {
            "error": "",
            **self.issue_placeholders(),
            "host": str(self.entry.data[CONF_HOST]),
            "port": str(self.entry.data[CONF_PORT]),
        }
        if user_input is not None:
            port = int(user_input[CONF_PORT])
            unique_id = growatt_local_unique_id(port)
            other = self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, unique_id)
            if other is not None and other.entry_id != self.entry.entry_id:
                errors[CONF_PORT] = "already_configured"
            elif failure := await async_check_bindable(self.hass, self.entry.data[CONF_HOST], port):
                errors[CONF_PORT if failure[0] == ERROR_PORT_IN_USE else "base"] = failure[0]
                placeholders["error"] = failure[1]
            else:
                self.hass.config_entries.async_update_entry(
                    self.entry,
                    data={**self.entry.data, CONF_PORT: port},
                    unique_id=unique_id,
                    title=growatt_local_title(port),
                )
                self.hass.config_entries.async_schedule_reload(self.entry.entry_id)
                return self.async_create_entry(data={})
        suggested = user_input or {CONF_PORT: int(self.entry.data[CONF_PORT]) + 1}
        return self.async_show_form(
            step_id="choose_port",
            data_schema=self.add_suggested_values_to_schema(PORT_SCHEMA, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )


async_create_fix_flow = entry_fix_flow(PortRepairFlow)
"""The fix flow of the issue (its ``data``: ``{"entry_id": ...}``)."""
