"""Switch entities of an inverter's holding registers (see :mod:`.protocol.holding`).

Inverter on/off (holding 0) and, on SPH/SPA hybrids, AC charge (holding 1092).
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control_entity import ControlEntity, async_setup_controls, description_args
from .coordinator import GrowattLocalConfigEntry
from .protocol.holding import Control, controls_of_kind

SWITCHES: Final = {
    key: SwitchEntityDescription(**description_args(holding))
    for key, holding in controls_of_kind(Control.SWITCH).items()
}
"""Descriptions of the on/off control registers, by key."""


class HoldingSwitch(ControlEntity, SwitchEntity):
    """A 0/1 register: on is 1."""

    descriptions = SWITCHES

    @property
    def is_on(self) -> bool | None:
        """The read-back: 1 on, 0 off, anything else unknown."""
        return {0: False, 1: True}.get(self.raw) if self.raw is not None else None

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Write 1."""
        await self.async_write_raw(1)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Write 0."""
        await self.async_write_raw(0)


async def async_setup_growatt_local(
    hass: HomeAssistant,
    entry: GrowattLocalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a switch per on/off control register that answered a read."""
    await async_setup_controls(entry, async_add_entities, Control.SWITCH, HoldingSwitch)
