"""The EV charging kind's switch: solar surplus charging on or off."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import STATE_OFF

from ..common.entity import setup_per_description
from .entity import EvRestoredEntity

CONTROLLER_SWITCH: Final = SwitchEntityDescription(
    key="ev_surplus_charging", translation_key="ev_surplus_charging"
)
"""On: the controller steers the charger. Off: the charger is left alone."""


class EvControllerSwitch(EvRestoredEntity, SwitchEntity):
    """Turns the surplus controller on or off (restored; on after the first set-up)."""

    def restore(self, state: str) -> None:
        """Restore the last on/off state into the controller."""
        if state == STATE_OFF:
            self.coordinator.async_set_enabled(False)

    @property
    def is_on(self) -> bool:
        """Whether the controller steers the charger."""
        return self.coordinator.controller.enabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Let the controller steer the charger."""
        self.coordinator.async_set_enabled(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop steering; the charger keeps its present state."""
        self.coordinator.async_set_enabled(False)


async_setup_ev_switch: Final = setup_per_description(EvControllerSwitch, (CONTROLLER_SWITCH,))
"""Add the "Solar surplus charging" switch."""
