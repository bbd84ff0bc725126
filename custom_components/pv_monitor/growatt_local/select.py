"""Select entities of an inverter's holding registers (see :mod:`.protocol.holding`).

Export limit mode and, on SPH/SPA hybrids, the priority mode.
"""

from __future__ import annotations

from typing import Final

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control_entity import ControlEntity, async_setup_controls, description_args
from .coordinator import GrowattLocalConfigEntry
from .protocol.holding import Control, controls_of_kind

SELECTS: Final = {
    key: SelectEntityDescription(**description_args(holding), options=[*holding.options.values()])
    for key, holding in controls_of_kind(Control.SELECT).items()
}
"""Descriptions of the enumerated control registers, by key: the document's values."""


class HoldingSelect(ControlEntity, SelectEntity):
    """An enumerated register; options are the document's values (translated states)."""

    descriptions = SELECTS

    @property
    def current_option(self) -> str | None:
        """The read-back value's option; None for a value the document does not define."""
        raw = self.raw
        return None if raw is None else self.holding.options.get(raw)

    async def async_select_option(self, option: str) -> None:
        """Write the raw value of ``option`` (Home Assistant checked it is one of ours)."""
        raw_of = {name: raw for raw, name in self.holding.options.items()}
        await self.async_write_raw(raw_of[option])


async def async_setup_growatt_local(
    hass: HomeAssistant,
    entry: GrowattLocalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a select per enumerated control register that answered a read."""
    await async_setup_controls(entry, async_add_entities, Control.SELECT, HoldingSelect)
