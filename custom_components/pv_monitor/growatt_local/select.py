"""Select entities of an inverter's holding registers (see :mod:`.protocol.holding`).

Export limit mode and, on SPH/SPA hybrids, the priority mode.
"""

from __future__ import annotations

from typing import Final

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control_entity import ControlEntity, async_setup_controls, description_args
from .coordinator import GrowattLocalConfigEntry, GrowattLocalCoordinator
from .protocol.holding import Control, HoldingRegister, controls_of_kind

SELECTS: Final = {
    key: SelectEntityDescription(**description_args(holding), options=[*holding.options.values()])
    for key, holding in controls_of_kind(Control.SELECT).items()
}
"""Descriptions of the enumerated control registers, by key: the document's values."""


class HoldingSelect(ControlEntity, SelectEntity):
    """An enumerated register; options are the document's values (translated states)."""

    def __init__(
        self, coordinator: GrowattLocalCoordinator, serial: str, holding: HoldingRegister
    ) -> None:
        """Options from the register document (``holding.options``)."""
        super().__init__(coordinator, serial, holding, SELECTS[holding.key])
        self._raw_of = {option: raw for raw, option in holding.options.items()}

    @property
    def current_option(self) -> str | None:
        """The read-back value's option; None for a value the document does not define."""
        raw = self.raw
        return None if raw is None else self.holding.options.get(raw)

    async def async_select_option(self, option: str) -> None:
        """Write the raw value of ``option`` (Home Assistant checked it is one of ours)."""
        await self.async_write_raw(self._raw_of[option])


async def async_setup_growatt_local(
    hass: HomeAssistant,
    entry: GrowattLocalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a select per enumerated control register that answered a read."""
    await async_setup_controls(entry, async_add_entities, Control.SELECT, HoldingSelect)
