"""Energy platform: the solar forecast of ``pv_system`` entries for the Energy dashboard."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from .pv_system_coordinator import PvSystemCoordinator


async def async_get_solar_forecast(
    hass: HomeAssistant, config_entry_id: str
) -> dict[str, dict[str, float | int]] | None:
    """Hourly forecast energy (Wh) by hour start (ISO 8601, UTC) of a PV system entry.

    Returns None for unknown entries, other kinds and entries not loaded.
    """
    entry = hass.config_entries.async_get_entry(config_entry_id)
    if entry is None or not isinstance(
        runtime := getattr(entry, "runtime_data", None), PvSystemCoordinator
    ):
        return None
    return {
        "wh_hours": {
            hour.isoformat(): round(wh, 1) for hour, wh in runtime.data.forecast.hourly_wh().items()
        }
    }
