"""Energy platform: the solar forecast of ``pv_system`` entries for the Energy dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .const import CONF_KIND, EntryKind

if TYPE_CHECKING:
    from .pv_system.coordinator import PvSystemConfigEntry


async def async_get_solar_forecast(
    hass: HomeAssistant, config_entry_id: str
) -> dict[str, dict[str, float | int]] | None:
    """Hourly forecast energy (Wh) by hour start (ISO 8601, UTC) of a PV system entry.

    Returns None for unknown entries, other kinds, entries not loaded and before the first
    forecast.
    """
    entry: PvSystemConfigEntry | None = hass.config_entries.async_get_entry(config_entry_id)
    if (
        entry is None
        or entry.data.get(CONF_KIND) != EntryKind.PV_SYSTEM
        or entry.state is not ConfigEntryState.LOADED
        or not entry.runtime_data.has_forecast
    ):
        return None
    forecast = entry.runtime_data.data.forecast
    return {
        "wh_hours": {hour.isoformat(): round(wh, 1) for hour, wh in forecast.hourly_wh().items()}
    }
