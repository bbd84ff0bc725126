"""KPIs on a worked example computed by hand from the IEC 61724-1 definitions."""

from __future__ import annotations

import pytest

from custom_components.pv_monitor.pv_system.solar import kpi

# Worked example: a 5 kWp system on one day.
#   E_out = 24 kWh, H_i = 6.0 kWh/m2
#   Y_f = 24 / 5 = 4.8 kWh/kWp;  Y_r = 6.0 / 1 = 6.0 h;  PR = 4.8 / 6.0 = 0.80
#   CF = 24 / (5 * 24) = 0.20
#   Export 14 kWh, import 6 kWh: E_sc = 24 - 14 = 10 kWh
#   self-consumption = 10 / 24 = 0.41667; self-sufficiency = 10 / (10 + 6) = 0.625
#   prices 0.30 import, 0.08 export: grid cost = 6*0.30 - 14*0.08 = 0.68
#   savings = 10*0.30 + 14*0.08 = 4.12
# Temperature-corrected PR over three 1 h intervals, gamma = -0.4 %/K:
#   G = 0.4, 0.8, 0.6 kW/m2; T_mod = 25, 45, 35 degC; E = 1.7, 3.0, 2.4 kWh
#   C_k = 1, 0.92, 0.96; reference = 5 * (0.4 + 0.736 + 0.576) = 8.56 kWh
#   PR' = 7.1 / 8.56 = 0.829439; uncorrected PR = 7.1 / (5 * 1.8) = 0.788889


def test_yields_and_pr() -> None:
    assert kpi.specific_yield(24, 5) == pytest.approx(4.8)
    assert kpi.reference_yield(6.0) == pytest.approx(6.0)
    assert kpi.performance_ratio(24, 5, 6.0) == pytest.approx(0.80)
    assert kpi.capacity_factor(24, 5, 24) == pytest.approx(0.20)


def test_temperature_corrected_pr() -> None:
    corrected = kpi.temperature_corrected_pr(
        [1.7, 3.0, 2.4], [0.4, 0.8, 0.6], [25, 45, 35], [1, 1, 1], 5, -0.004
    )
    assert corrected == pytest.approx(7.1 / 8.56)
    assert corrected == pytest.approx(0.829439, abs=1e-6)
    assert kpi.performance_ratio(7.1, 5, 1.8) == pytest.approx(0.788889, abs=1e-6)
    assert kpi.temperature_corrected_pr([], [], [], [], 5, -0.004) is None


def test_self_consumption_and_money() -> None:
    assert kpi.direct_consumption(24, 14) == pytest.approx(10)
    assert kpi.self_consumption_ratio(24, 14) == pytest.approx(10 / 24)
    assert kpi.self_sufficiency(24, 14, 6) == pytest.approx(0.625)
    assert kpi.grid_cost(6, 14, 0.30, 0.08) == pytest.approx(0.68)
    assert kpi.savings(24, 14, 0.30, 0.08) == pytest.approx(4.12)


def test_missing_inputs_give_none() -> None:
    assert kpi.specific_yield(None, 5) is None
    assert kpi.specific_yield(1, 0) is None
    assert kpi.reference_yield(None) is None
    assert kpi.performance_ratio(1, 5, 0) is None
    assert kpi.performance_ratio(1, 5, None) is None
    assert kpi.capacity_factor(None, 5, 1) is None
    assert kpi.capacity_factor(1, 5, 0) is None
    assert kpi.direct_consumption(None, 1) is None
    assert kpi.direct_consumption(1, 3) == 0.0  # export over PV (meter timing): clamped
    assert kpi.self_consumption_ratio(0, 0) is None
    assert kpi.self_sufficiency(1, 0, None) is None
    assert kpi.self_sufficiency(0, 0, 0) is None
    assert kpi.grid_cost(None, 1, 1, 1) is None
    assert kpi.savings(1, 0, None, 1) is None
