"""Base of the control entities (number, select, switch) of an inverter's holding registers.

An entity exists only for a register that answered a read (:mod:`.control`); it shows the
read-back value and nothing else, is in the config category, disabled by default when the
register is risky (:attr:`~.protocol.holding.HoldingRegister.risky`), and unavailable while
commands cannot reach the inverter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from homeassistant.const import EntityCategory
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control import InverterControl
from .coordinator import GrowattLocalConfigEntry, GrowattLocalCoordinator
from .entity import GrowattEntity, track_new_items
from .protocol.holding import Control, HoldingRegister


def description_args(holding: HoldingRegister) -> dict[str, Any]:
    """The entity description fields every control entity shares."""
    return {
        "key": holding.key,
        "translation_key": holding.key,
        "entity_category": EntityCategory.CONFIG,
        "entity_registry_enabled_default": not holding.risky,
    }


class ControlEntity(GrowattEntity):
    """An entity of one controllable holding register of one inverter.

    Unique id ``<inverter serial>_<register key>`` (e.g. ``AB12345678_active_power_rate``).
    """

    descriptions: ClassVar[Mapping[str, EntityDescription]]
    """The platform's descriptions, by register key (:func:`description_args` and the
    platform's fields: range and unit, options)."""

    def __init__(
        self, coordinator: GrowattLocalCoordinator, serial: str, holding: HoldingRegister
    ) -> None:
        """Attach to the inverter ``serial``; ``holding`` is its allow-listed register.

        Its description (key and translation key: ``holding.key``) carries the config
        category and, for a risky register, disabled by default (:func:`description_args`).
        """
        # Woken per value: by a read-back that changed this register (and, as every entity
        # of the inverter, by its device's availability), never by the inverter's records.
        super().__init__(coordinator, serial, holding.key, per_value=True)
        self.serial = serial
        self.holding = holding
        self.entity_description = self.descriptions[holding.key]

    @property
    def control(self) -> InverterControl:
        """The entry's control (read-back values, safe writes)."""
        return self.coordinator.control

    @property
    def raw(self) -> int | None:
        """The register's last read-back raw value."""
        return self.control.value(self.serial, self.holding.register)

    @property
    def available(self) -> bool:
        """Available while commands reach the inverter and the register has a read-back."""
        return self.control.available(self.serial) and self.raw is not None

    def _state_key(self) -> Any:
        return self.raw

    async def async_write_raw(self, raw: int) -> None:
        """Write ``raw`` through every safety rule; the state follows the read-back.

        Raises:
            ServiceValidationError: refused before anything was sent.
            HomeAssistantError: the command failed; the old state stays.
        """
        try:
            await self.control.async_write(self.serial, self.holding.register, raw)
        finally:
            self._written = None
            self._handle_coordinator_update()


async def async_setup_controls(
    entry: GrowattLocalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    control: Control,
    factory: Callable[[GrowattLocalCoordinator, str, HoldingRegister], Entity],
) -> None:
    """Add an entity of kind ``control`` per register that answered a read, now and later."""
    coordinator = entry.runtime_data

    def _add(items: list[tuple[str, int]]) -> None:
        entities = []
        for serial, number in items:
            holding = coordinator.control.register(serial, number)
            if holding is not None:
                entities.append(factory(coordinator, serial, holding))
        async_add_entities(entities)

    track_new_items(entry, lambda: coordinator.control.items(control), _add)
