"""The EV charging kind's select: the charging mode."""

from __future__ import annotations

from typing import Final

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .controller import Mode
from .coordinator import EvChargingConfigEntry
from .entity import EvRestoredEntity

MODE_SELECT: Final = SelectEntityDescription(
    key="ev_mode", translation_key="ev_mode", options=[mode.value for mode in Mode]
)
"""Charging mode: off, solar, min_solar, fast."""


async def async_setup_ev_select(
    hass: HomeAssistant,
    entry: EvChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the mode select."""
    async_add_entities([EvModeSelect(entry.runtime_data, MODE_SELECT)])


class EvModeSelect(EvRestoredEntity, SelectEntity):
    """The charging mode (restored; ``solar`` after the first set-up)."""

    def restore(self, state: str) -> None:
        """Restore the last mode into the controller."""
        if state in self.options:
            self.coordinator.async_set_mode(Mode(state))

    @property
    def current_option(self) -> str:
        """The present mode."""
        return self.coordinator.controller.mode.value

    async def async_select_option(self, option: str) -> None:
        """Change the mode."""
        self.coordinator.async_set_mode(Mode(option))
