"""Number entities of an inverter's holding registers (see :mod:`.protocol.holding`).

Active power rate, export limit rate and, on SPH/SPA hybrids, the battery charge and
discharge rates and stop SOCs.
"""

from __future__ import annotations

from typing import Final

from homeassistant.components.number import NumberEntity, NumberEntityDescription, NumberMode
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import DOMAIN
from .control_entity import ControlEntity, async_setup_controls, description_args
from .coordinator import GrowattLocalConfigEntry
from .protocol.holding import Control, controls_of_kind

NUMBERS: Final = {
    key: NumberEntityDescription(
        **description_args(holding),
        native_min_value=holding.native_min,
        native_max_value=holding.native_max,
        native_step=holding.scale,
        native_unit_of_measurement=holding.unit,
        mode=NumberMode.BOX,
    )
    for key, holding in controls_of_kind(Control.NUMBER).items()
}
"""Descriptions of the numeric control registers, by key: range, step and unit from the
register document."""


class HoldingNumber(ControlEntity, NumberEntity):
    """A percentage register; the value is the read-back times the register's scale."""

    entity_description: NumberEntityDescription
    descriptions = NUMBERS

    @property
    def native_value(self) -> float | None:
        """The read-back value (255 on the active power rate: not limited, 100 %)."""
        raw = self.raw
        return None if raw is None else self.holding.to_native(raw)

    async def async_set_native_value(self, value: float) -> None:
        """Write ``value`` (in the register's unit) as its raw value.

        Raises:
            ServiceValidationError: not a step of the register's range; nothing is sent.
            HomeAssistantError: the command failed; the old value stays.
        """
        try:
            raw = self.holding.to_raw(value)
        except ValueError:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="value_out_of_range",
                translation_placeholders={
                    "register": str(self.holding.register),
                    "value": str(value),
                    "minimum": str(self.holding.native_min),
                    "maximum": str(self.holding.native_max),
                },
            ) from None
        await self.async_write_raw(raw)


async def async_setup_growatt_local(
    hass: HomeAssistant,
    entry: GrowattLocalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a number per numeric control register that answered a read."""
    await async_setup_controls(entry, async_add_entities, Control.NUMBER, HoldingNumber)
