"""A plant's power and lifetime energy from the finest source the cloud gives (pure).

The ShinePhone plant list is coarse on both counts: its ``currentPower`` has said "0 W" for
years (PyPi_GrowattServer issues 20, 24 and 26; Sjord/growatt_api_client issue 28, all
2022), and its ``totalEnergy`` switches to MWh with two decimals once the plant passes
1 MWh ("2.56 MWh": a 10 kWh step). So:

* **power**: the plant answer's power when it is not 0, else the sum of the plant's
  inverters (their ``ac_power``, else ``pv_power``), as growattServer's maintainers advise
  (issue 24: read the devices, not the plant list);
* **lifetime energy**: the plant total when it is fine (0.1 kWh, as V1 and small plants give
  it); else the sum of the inverters' own lifetime totals when every producing device of
  the plant (readable or not) has one; else today's energy accumulated on top of the
  lifetime at the start of the day, which the coarse total only corrects when it is more
  than one of its steps ahead (issue 11).

No Home Assistant import; the per-plant ``state`` dict is persisted by the caller.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from .api.models import DeviceType, Plant

PRODUCING_TYPES: Final = frozenset(
    {DeviceType.INVERTER, DeviceType.TLX, DeviceType.MIX, DeviceType.STORAGE}
)
"""Device types whose power and energy make up the plant's production."""
FINE_STEP: Final = 0.1
"""kWh: a total at this resolution (or finer) is used as it is."""


def plant_power(plant: Plant, producing: list[dict[str, float]]) -> float | None:
    """The plant's current power (W): its own answer unless 0, else the sum of its devices.

    ``producing``: the latest values of the plant's producing devices.
    """
    if plant.current_power:
        return plant.current_power
    powers = [v["ac_power"] if "ac_power" in v else v.get("pv_power") for v in producing]
    known = [power for power in powers if power is not None]
    if known:
        return round(sum(known), 1)
    return plant.current_power


def plant_lifetime(
    plant: Plant, producing: list[dict[str, float]], state: dict[str, Any], day: date
) -> float | None:
    """The plant's lifetime energy (kWh) from the finest source (module docstring).

    ``producing``: the latest values of every producing device of the plant (``{}`` for one
    the API cannot read). ``state`` keeps the accumulation anchor (``state["lifetime"]``) between calls and
    restarts; ``day`` is today's local date.
    """
    if plant.energy_total is None:
        return None
    if plant.energy_total_step <= FINE_STEP + 1e-9:
        return plant.energy_total
    totals = [values.get("energy_total") for values in producing]
    if producing and all(total is not None for total in totals):
        return round(sum(total for total in totals if total is not None), 3)
    return _accumulated(plant, plant.energy_total, state, day)


def _accumulated(plant: Plant, coarse: float, state: dict[str, Any], day: date) -> float:
    """Lifetime at the start of ``day`` plus today's energy, resynchronised when behind."""
    today = plant.energy_today or 0.0
    anchor = state.get("lifetime")
    if not isinstance(anchor, dict) or not isinstance(anchor.get("start"), (int, float)):
        anchor = {"day": day.isoformat(), "start": max(0.0, coarse - today), "today": today}
    elif anchor.get("day") != day.isoformat():
        # A new day starts where yesterday ended; until the cloud's "today" moves off
        # yesterday's last value, that value is yesterday's, not today's.
        last = float(anchor.get("today") or 0.0)
        anchor = {"day": day.isoformat(), "start": anchor["start"] + last, "stale": last}
    stale = anchor.get("stale")
    if stale and today == stale:
        today = 0.0
    else:
        anchor.pop("stale", None)
    anchor["today"] = today
    value = float(anchor["start"]) + today
    if coarse - value > plant.energy_total_step:
        anchor["start"] = coarse - today
        value = coarse
    state["lifetime"] = anchor
    return round(value, 3)
