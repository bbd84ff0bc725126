"""The PV system kind's binary sensors: underperformance, no production, string comparison.

The string-comparison sensor exists only when at least two arrays have their own power
sensor.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)

from ..common.entity import setup_per_description
from .coordinator import PvSystemCoordinator
from .entity import PvSystemEntity
from .solar.anomaly import AnomalyType

ANOMALIES: Final[tuple[BinarySensorEntityDescription, ...]] = tuple(
    BinarySensorEntityDescription(
        key=kind.value, translation_key=kind.value, device_class=BinarySensorDeviceClass.PROBLEM
    )
    for kind in AnomalyType
)
"""Underperformance and no-production problem sensors."""


class PvSystemAnomalySensor(PvSystemEntity, BinarySensorEntity):
    """On while an anomaly of one type is active; its figures as attributes."""

    def __init__(
        self, coordinator: PvSystemCoordinator, description: BinarySensorEntityDescription
    ) -> None:
        """Create the problem sensor of ``description.key`` (an anomaly type)."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        self._kind = AnomalyType(description.key)

    @property
    def is_on(self) -> bool:
        """Whether the anomaly is active."""
        return self.coordinator.detector.active(self._kind)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Duration and energies of the current (or building) anomaly."""
        figures = self.coordinator.detector.figures(self._kind)
        return {
            key: figures[key]
            for key in (
                "duration_minutes",
                "measured_kwh",
                "expected_kwh",
                "ratio",
                "basis",
                "string",
                "share_of_daylight",
            )
        }


def _applies(coordinator: PvSystemCoordinator, description: BinarySensorEntityDescription) -> bool:
    """Whether the anomaly applies: string comparison needs two arrays with their own sensor."""
    return description.key != AnomalyType.STRING_UNDERPERFORMANCE or len(coordinator.strings) >= 2


async_setup_pv_system_binary_sensors: Final = setup_per_description(
    PvSystemAnomalySensor, ANOMALIES, _applies
)
"""Add the PV system's anomaly sensors."""
