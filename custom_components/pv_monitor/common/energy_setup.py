"""The "Set up the Energy dashboard" action (a repair issue with a fix flow).

The fix flow writes the energy preferences from the entities of our entries, adding only
what the user has not configured.

Offered (issue ``energy_setup``) once per kind, after the first entry of a kind with energy
sensors (Growatt local and cloud, DSMR) is set up; which kinds were offered is kept in the
store ``pv_monitor.energy_setup``. The fix flow shows what it will add and on confirmation
extends ``homeassistant.components.energy``'s preferences (the same data manager the Energy
configuration page saves through), validated by Energy's own ``ENERGY_SOURCE_SCHEMA``:

- solar: each inverter's lifetime AC energy (Growatt key ``energy_total``) with its AC power
  and, on the first new solar source, the forecast of every PV system entry;
- grid: the meter's import and export counters per tariff (the totals where the meter has no
  tariff registers) with its net power (W, import positive, as Energy expects) -- only when
  no grid source exists (Energy allows one, and we never edit the user's);
- battery: charge/discharge lifetime energy of hybrid inverters;
- gas and water: M-Bus meter readings.

A statistic that any configured source already uses is never added again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from homeassistant import data_entry_flow
from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.storage import Store

from ..const import CONF_KIND, DOMAIN, EntryKind
from .issues import async_raise_issue

ISSUE_ID: Final = "energy_setup"
"""Repair issue id; the prefix registered in ``repairs.FIX_FLOWS``."""
ENERGY_KINDS: Final = frozenset({EntryKind.GROWATT_LOCAL, EntryKind.GROWATT_CLOUD, EntryKind.DSMR})
"""Kinds whose entries create energy sensors (PV systems only add the forecast)."""
STORE_KEY: Final = f"{DOMAIN}.energy_setup"
STORE_VERSION: Final = 1

_SOLAR_ENERGY: Final = "energy_total"  # Growatt local and cloud: lifetime AC energy (kWh)
_SOLAR_POWER: Final = frozenset({"ac_power", "growatt_cloud_current_power"})
_BATTERY_FROM: Final = "battery_discharge_energy_total"
_BATTERY_TO: Final = "battery_charge_energy_total"
_GRID_POWER: Final = "net_power"  # DSMR: W, import positive


async def async_offer(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Raise the ``energy_setup`` issue the first time an entry of ``entry``'s kind loads.

    Kinds without energy sensors are ignored. The issue is persistent (it survives restarts
    until fixed or ignored).
    """
    kind = entry.data.get(CONF_KIND)
    if kind not in ENERGY_KINDS:
        return
    store: Store[dict[str, list[str]]] = Store(hass, STORE_VERSION, STORE_KEY)
    data = await store.async_load() or {"offered_kinds": []}
    if kind in data["offered_kinds"]:
        return
    data["offered_kinds"] = [*data["offered_kinds"], str(kind)]
    await store.async_save(data)
    async_raise_issue(hass, ISSUE_ID, ISSUE_ID, fixable=True, persistent=True)


@dataclass(slots=True)
class _Found:
    """The entities of our entries that the Energy dashboard can use (entity ids)."""

    solar: list[tuple[str, str | None]] = field(default_factory=list)  # (energy, power)
    batteries: list[tuple[str, str]] = field(default_factory=list)  # (discharge, charge)
    grid_from: list[str] = field(default_factory=list)
    grid_to: list[str] = field(default_factory=list)
    grid_power: str | None = None
    gas: list[str] = field(default_factory=list)
    water: list[str] = field(default_factory=list)
    forecasts: list[str] = field(default_factory=list)  # PV system entry ids


def _inverter_entities(
    found: _Found, entities: list[er.RegistryEntry], plants: set[str | None]
) -> None:
    """Solar and battery sources of one Growatt entry, grouped per inverter device.

    ``plants``: devices that others are connected through (a cloud entry's plant); their
    totals repeat the inverters' and are used only where no inverter has its own.
    """
    by_device: dict[str | None, dict[str, str]] = {}
    for ent in entities:
        if ent.translation_key:
            by_device.setdefault(ent.device_id, {})[ent.translation_key] = ent.entity_id
    inverters = {d: k for d, k in by_device.items() if d not in plants and _SOLAR_ENERGY in k}
    for device, keys in by_device.items():
        if _SOLAR_ENERGY in keys and (device not in plants or not inverters):
            power = next((keys[k] for k in sorted(_SOLAR_POWER) if k in keys), None)
            found.solar.append((keys[_SOLAR_ENERGY], power))
        if _BATTERY_FROM in keys and _BATTERY_TO in keys:
            found.batteries.append((keys[_BATTERY_FROM], keys[_BATTERY_TO]))


def _meter_entities(
    found: _Found, entry: ConfigEntry[Any], entities: list[er.RegistryEntry]
) -> None:
    """Grid flows (per tariff, else totals), net power, gas and water of one DSMR entry."""
    prefix = f"{entry.unique_id or entry.entry_id}_"
    keys = {ent.unique_id.removeprefix(prefix): ent for ent in entities}
    for way, flows in (("import", found.grid_from), ("export", found.grid_to)):
        tariffs = sorted(k for k in keys if k.startswith(f"energy_{way}_tariff_"))
        flows.extend(keys[k].entity_id for k in tariffs or [f"energy_{way}_total"] if k in keys)
    if _GRID_POWER in keys and found.grid_power is None:
        found.grid_power = keys[_GRID_POWER].entity_id
    for ent in entities:
        if ent.original_device_class == "gas":
            found.gas.append(ent.entity_id)
        elif ent.original_device_class == "water":
            found.water.append(ent.entity_id)


def find_entities(hass: HomeAssistant) -> _Found:
    """Every enabled energy entity of our entries, and the PV system entries (forecasts)."""
    registry = er.async_get(hass)
    devices = dr.async_get(hass)
    found = _Found()
    for entry in hass.config_entries.async_entries(DOMAIN):
        kind = entry.data.get(CONF_KIND)
        if kind == EntryKind.PV_SYSTEM:
            found.forecasts.append(entry.entry_id)
            continue
        entities = [
            ent
            for ent in er.async_entries_for_config_entry(registry, entry.entry_id)
            if ent.domain == "sensor" and not ent.disabled
        ]
        if kind in (EntryKind.GROWATT_LOCAL, EntryKind.GROWATT_CLOUD):
            plants = {
                device.via_device_id
                for device in dr.async_entries_for_config_entry(devices, entry.entry_id)
            }
            _inverter_entities(found, entities, plants - {None})
        elif kind == EntryKind.DSMR:
            _meter_entities(found, entry, entities)
    return found


def _used_statistics(sources: list[dict[str, Any]]) -> set[str]:
    """Every statistic / entity id a configured source refers to."""
    used: set[str] = set()
    for source in sources:
        for key in ("stat_energy_from", "stat_energy_to", "stat_rate"):
            if isinstance(source.get(key), str):
                used.add(source[key])
        for flow in (
            *source.get("flow_from", ()),
            *source.get("flow_to", ()),
            *source.get("power", ()),
        ):
            used.update(v for k, v in flow.items() if k.startswith("stat_") and isinstance(v, str))
    return used


def _price() -> dict[str, None]:
    return {"entity_energy_price": None, "number_energy_price": None}


def _grid_source(found: _Found) -> dict[str, Any]:
    return {
        "type": "grid",
        "flow_from": [
            {"stat_energy_from": e, "stat_cost": None, **_price()} for e in found.grid_from
        ],
        "flow_to": [
            {"stat_energy_to": e, "stat_compensation": None, **_price()} for e in found.grid_to
        ],
        "power": [{"stat_rate": found.grid_power}] if found.grid_power else [],
        "cost_adjustment_day": 0.0,
    }


def plan_additions(found: _Found, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The energy sources to append to ``existing`` (Energy's ``SourceType`` dicts).

    Pure: nothing already used by ``existing`` is proposed, and no grid source when one
    exists. Order: solar, battery, grid, gas, water.
    """
    used = _used_statistics(existing)
    additions: list[dict[str, Any]] = []
    forecast: list[str] | None = found.forecasts or None
    for energy, power in found.solar:
        if energy in used:
            continue
        source: dict[str, Any] = {"type": "solar", "stat_energy_from": energy}
        if power and power not in used:
            source["stat_rate"] = power
        # The forecast once: the dashboard adds up the forecasts of every solar source.
        source["config_entry_solar_forecast"], forecast = forecast, None
        additions.append(source)
    additions.extend(
        {"type": "battery", "stat_energy_from": out, "stat_energy_to": into}
        for out, into in found.batteries
        if out not in used and into not in used
    )
    if found.grid_from and not any(s["type"] == "grid" for s in existing):
        additions.append(_grid_source(found))
    for medium, entity_ids in (("gas", found.gas), ("water", found.water)):
        additions.extend(
            {"type": medium, "stat_energy_from": e, "stat_cost": None, **_price()}
            for e in entity_ids
            if e not in used
        )
    return additions


def describe(hass: HomeAssistant, additions: list[dict[str, Any]]) -> str:
    """A Markdown list of ``additions`` with the entities' friendly names (or ids)."""

    def name(entity_id: str) -> str:
        state = hass.states.get(entity_id)
        return f"{state.name} (`{entity_id}`)" if state else f"`{entity_id}`"

    lines: list[str] = []
    for source in additions:
        kind = source["type"]
        if kind == "grid":
            lines += [f"- grid import: {name(f['stat_energy_from'])}" for f in source["flow_from"]]
            lines += [f"- grid export: {name(f['stat_energy_to'])}" for f in source["flow_to"]]
            lines += [f"- grid power: {name(p['stat_rate'])}" for p in source["power"]]
        elif kind == "battery":
            lines.append(
                f"- home battery: {name(source['stat_energy_from'])} / "
                f"{name(source['stat_energy_to'])}"
            )
        else:
            extra = " with the PV forecast" if source.get("config_entry_solar_forecast") else ""
            lines.append(f"- {kind}: {name(source['stat_energy_from'])}{extra}")
    return "\n".join(lines)


async def async_apply(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Append what :func:`plan_additions` proposes to the energy preferences; return it.

    Raises:
        voluptuous.Invalid: the result fails Energy's own schema (nothing is written).
    """
    from homeassistant.components.energy.data import ENERGY_SOURCE_SCHEMA, async_get_manager  # noqa: PLC0415 - only when fixing

    existing = await _async_existing(hass)
    additions = plan_additions(find_entities(hass), existing)
    if additions:
        sources = ENERGY_SOURCE_SCHEMA([*existing, *additions])
        manager = await async_get_manager(hass)
        update: Any = {"energy_sources": sources}  # EnergyPreferencesUpdate is total=False
        await manager.async_update(update)
    return additions


async def _async_existing(hass: HomeAssistant) -> list[dict[str, Any]]:
    """The energy sources configured now (copies)."""
    from homeassistant.components.energy.data import async_get_manager  # noqa: PLC0415

    manager = await async_get_manager(hass)
    if manager.data is None:
        return []
    return [dict(s) for s in manager.data["energy_sources"]]


class EnergySetupFlow(RepairsFlow):
    """Shows what will be added; on confirmation writes it and closes the issue."""

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        """First step: go to the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        """Confirm the additions (or abort when there is nothing to add yet)."""
        if user_input is not None:
            await async_apply(self.hass)
            return self.async_create_entry(data={})
        additions = plan_additions(find_entities(self.hass), await _async_existing(self.hass))
        if not additions:
            return self.async_abort(reason="nothing_to_add")
        return self.async_show_form(
            step_id="confirm",
            description_placeholders={"additions": describe(self.hass, additions)},
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The fix flow of the ``energy_setup`` issue (``repairs.FIX_FLOWS``)."""
    return EnergySetupFlow()
