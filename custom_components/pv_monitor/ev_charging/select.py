"""The EV charging kind's select: the charging mode."""

from __future__ import annotations

from typing import Final

from homeassistant.components.select import SelectEntity, SelectEntityDescription

from ..common.entity import setup_per_description
from .controller import Mode
from .entity import EvRestoredEntity

MODE_SELECT: Final = SelectEntityDescription(
    key="ev_mode", translation_key="ev_mode", options=[mode.value for mode in Mode]
)
"""Charging mode: off, solar, min_solar, fast."""


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


async_setup_ev_select: Final = setup_per_description(EvModeSelect, (MODE_SELECT,))
"""Add the mode select."""
