"""Checked by mypy in scripts/lint, never run: a misspelt settings field is a type error.

The runtimes of the PV system, Growatt local and EV charging kinds read their entry only
through the kinds' typed settings (``const.PvSystemSettings``, ``GrowattLocalSettings``,
``EvChargingSettings``); unlike ``entry.options.get("wether")``, a typo there does not
type-check, nor does writing to a field (the settings are frozen). Each ``type: ignore``
below must stay needed: mypy --strict reports an unused ignore, and lint fails, the day such
a line type-checks.
"""

from custom_components.pv_monitor.ev_charging.const import EvChargingSettings
from custom_components.pv_monitor.growatt_local.const import GrowattLocalSettings
from custom_components.pv_monitor.pv_system.const import PvSystemSettings


def misspelt(pv: PvSystemSettings, ev: EvChargingSettings, growatt: GrowattLocalSettings) -> None:
    """Each line names a field that does not exist, or writes one that is frozen."""
    print(pv.options.wether)  # type: ignore[attr-defined]
    print(pv.options.import_price.entity_id)  # type: ignore[attr-defined]
    print(ev.grid_entity)  # type: ignore[attr-defined]
    print(ev.controller.stale_timout)  # type: ignore[attr-defined]
    print(growatt.listener.max_inverter)  # type: ignore[attr-defined]
    print(growatt.inverter_family)  # type: ignore[attr-defined]
    pv.options = pv.options  # type: ignore[misc]
