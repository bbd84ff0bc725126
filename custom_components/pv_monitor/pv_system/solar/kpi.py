"""Performance and energy indicators, pure Python.

Definitions from IEC 61724-1:2021 "Photovoltaic system performance - Part 1: Monitoring",
clause 10 (yields and performance ratio):

- reference yield ``Y_r = H_i / G_i,ref`` (h), with ``H_i`` the in-plane insolation (kWh/m2)
  and ``G_i,ref = 1 kW/m2``;
- final (specific) yield ``Y_f = E_out / P_0`` (kWh/kWp = h), ``P_0`` the DC rating at STC;
- performance ratio ``PR = Y_f / Y_r``;
- temperature-corrected performance ratio (10.4.2): the reference energy of every interval
  ``k`` is weighted by ``C_k = 1 + gamma (T_mod,k - 25 degC)``:
  ``PR' = sum(E_k) / sum(C_k P_0 G_i,k tau_k / G_i,ref)``;
- capacity factor ``CF = E_out / (P_0 t)``.

Self-consumption indicators (common definitions, e.g. Luthander et al. 2015, Applied Energy
142, 80-94): self-consumed energy ``E_sc = E_pv - E_export`` (direct consumption);
self-consumption ratio ``E_sc / E_pv``; self-sufficiency ``E_sc / (E_sc + E_import)``.

Money: grid cost ``E_import p_import - E_export p_export`` (net, in the price's currency) and
savings ``E_sc p_import + E_export p_export`` (what the panels earned).

Every function returns None when its denominator is zero or an input is missing;
:func:`plausible` turns values outside a physical range into None (a sensor's unknown state)
so that nothing a bad reading says reaches the long-term statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

G_REF: Final = 1.0
"""Reference irradiance G_i,ref in kW/m2 (IEC 61724-1)."""
T_REF: Final = 25.0
"""STC module temperature in degC."""
PERFORMANCE_RATIO_RANGE: Final = (0.0, 1.5)
"""A PR above 1.5 (or below 0) is a wrong input (meter jump, missing irradiance), not a PR:
well-kept systems reach 0.75-0.9, and cold, clear, cloud-enhanced hours rarely above 1.1."""
CAPACITY_FACTOR_RANGE: Final = (0.0, 1.0)
"""A capacity factor above 1 means more energy than the DC rating can give."""


def plausible(value: float | None, limits: tuple[float, float]) -> float | None:
    """``value`` when within ``limits`` (inclusive), else None."""
    if value is None or not limits[0] <= value <= limits[1]:
        return None
    return value


def specific_yield(energy_kwh: float | None, p0_kwp: float) -> float | None:
    """Final yield ``Y_f`` in kWh/kWp."""
    if energy_kwh is None or p0_kwp <= 0:
        return None
    return energy_kwh / p0_kwp


def reference_yield(insolation_kwh_m2: float | None) -> float | None:
    """Reference yield ``Y_r`` in hours (kWh/m2 / 1 kW/m2)."""
    if insolation_kwh_m2 is None:
        return None
    return insolation_kwh_m2 / G_REF


def performance_ratio(
    energy_kwh: float | None, p0_kwp: float, insolation_kwh_m2: float | None
) -> float | None:
    """Performance ratio ``PR = Y_f / Y_r`` (dimensionless, typically 0.7-0.9)."""
    final = specific_yield(energy_kwh, p0_kwp)
    ref = reference_yield(insolation_kwh_m2)
    if final is None or ref is None or ref <= 0:
        return None
    return final / ref


def temperature_corrected_pr(
    energy_kwh: Sequence[float],
    irradiance_kw_m2: Sequence[float],
    module_temp_c: Sequence[float],
    hours: Sequence[float],
    p0_kwp: float,
    gamma_per_k: float,
) -> float | None:
    """Temperature-corrected PR (IEC 61724-1 10.4.2) over intervals ``k``.

    ``energy_kwh[k]`` AC energy, ``irradiance_kw_m2[k]`` mean in-plane irradiance,
    ``module_temp_c[k]`` mean module temperature, ``hours[k]`` interval length,
    ``gamma_per_k`` power temperature coefficient in 1/K (e.g. -0.0037).
    """
    reference = sum(
        (1 + gamma_per_k * (temp - T_REF)) * p0_kwp * irradiance * tau / G_REF
        for irradiance, temp, tau in zip(irradiance_kw_m2, module_temp_c, hours, strict=True)
    )
    if reference <= 0:
        return None
    return sum(energy_kwh) / reference


def capacity_factor(energy_kwh: float | None, p0_kwp: float, hours: float) -> float | None:
    """Capacity factor ``E / (P_0 t)`` (dimensionless)."""
    if energy_kwh is None or p0_kwp <= 0 or hours <= 0:
        return None
    return energy_kwh / (p0_kwp * hours)


def direct_consumption(pv_kwh: float | None, export_kwh: float | None) -> float | None:
    """Self-consumed PV energy ``E_pv - E_export`` in kWh (never below zero)."""
    if pv_kwh is None or export_kwh is None:
        return None
    return max(pv_kwh - export_kwh, 0.0)


def consumption(
    pv_kwh: float | None, export_kwh: float | None, import_kwh: float | None
) -> float | None:
    """House consumption ``E_pv - E_export + E_import`` in kWh (None if negative)."""
    if pv_kwh is None or export_kwh is None or import_kwh is None:
        return None
    total = pv_kwh - export_kwh + import_kwh
    return total if total >= 0 else None


def self_consumption_ratio(pv_kwh: float | None, export_kwh: float | None) -> float | None:
    """Share of the PV energy used on site."""
    used = direct_consumption(pv_kwh, export_kwh)
    if used is None or pv_kwh is None or pv_kwh <= 0:
        return None
    return used / pv_kwh


def self_sufficiency(
    pv_kwh: float | None, export_kwh: float | None, import_kwh: float | None
) -> float | None:
    """Share of the consumption covered by PV: ``E_sc / (E_sc + E_import)``."""
    used = direct_consumption(pv_kwh, export_kwh)
    if used is None or import_kwh is None or used + import_kwh <= 0:
        return None
    return used / (used + import_kwh)


def grid_cost(
    import_kwh: float | None,
    export_kwh: float | None,
    import_price: float | None,
    export_price: float | None,
) -> float | None:
    """Net grid cost: import at the import price minus export at the export price."""
    if import_kwh is None or export_kwh is None or import_price is None or export_price is None:
        return None
    return import_kwh * import_price - export_kwh * export_price


def savings(
    pv_kwh: float | None,
    export_kwh: float | None,
    import_price: float | None,
    export_price: float | None,
) -> float | None:
    """What the panels earned: self-consumed at the import price plus export at its price."""
    used = direct_consumption(pv_kwh, export_kwh)
    if used is None or export_kwh is None or import_price is None or export_price is None:
        return None
    return used * import_price + export_kwh * export_price
