"""KPIs on a worked example computed by hand from the IEC 61724-1 definitions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
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


# --- Temperature-corrected PR from interval statistics, on measured data -----------------
#
# NREL RSF II (Golden, CO), 15-minute POA irradiance, module temperature and inverter 2 AC
# power, 2022-01-02..06, from pvanalytics' data folder (tests/fixtures/pv_system/README.md);
# P0 = 204.12 kW as pvanalytics' own performance-ratio example uses it. The oracle is the
# per-interval IEC 61724-1:2021 10.4.2 formula on the 15-minute rows, written out here:
#     PR' = sum_k E_k / sum_k (1 + gamma (T_mod,k - 25)) P0 G_k tau_k / G_ref.
# The integration sees what the recorder keeps: hourly (or 5-minute) statistics, i.e. the
# energy change and the time-weighted means of irradiance and temperature per period.

RSF_II = Path(__file__).parents[1] / "fixtures" / "pv_system" / "nrel_RSF_II.csv"
RSF_P0 = 204.12
GAMMA = -0.0037


def _rsf() -> pd.DataFrame:
    data = pd.read_csv(RSF_II, index_col=0, parse_dates=True)
    return pd.DataFrame(
        {
            "energy_kwh": data["inv2_ac_power_w__1047"].clip(lower=0) / 1000 * 0.25,
            "g_kw_m2": data["poa_irradiance__1055"].clip(lower=0) / 1000,
            "t_mod": data["module_temp__1056"],
        }
    )


def _per_interval(frame: pd.DataFrame) -> float:
    correction = 1 + GAMMA * (frame["t_mod"] - 25.0)
    reference = (correction * RSF_P0 * frame["g_kw_m2"] * 0.25 / 1.0).sum()
    return float(frame["energy_kwh"].sum() / reference)


def test_temperature_corrected_pr_from_hourly_statistics_within_1_percent() -> None:
    frame = _rsf()
    judged = 0
    for _day, day in frame.groupby(frame.index.date):
        if day["energy_kwh"].sum() <= 0:
            continue  # inverter 2 produced nothing (snow): no PR to compare
        judged += 1
        hourly = day.resample("1h").agg({"energy_kwh": "sum", "g_kw_m2": "mean", "t_mod": "mean"})
        ours = kpi.temperature_corrected_pr(
            list(hourly["energy_kwh"]),
            list(hourly["g_kw_m2"]),
            list(hourly["t_mod"]),
            [1.0] * len(hourly),
            RSF_P0,
            GAMMA,
        )
        oracle = _per_interval(day)
        assert ours is not None
        assert ours == pytest.approx(oracle, rel=0.01)
        # What the integration did before: one interval with the 24 h mean temperature.
        day_mean = kpi.temperature_corrected_pr(
            [day["energy_kwh"].sum()],
            [day["g_kw_m2"].mean()],
            [day["t_mod"].mean()],
            [24.0],
            RSF_P0,
            GAMMA,
        )
        assert day_mean is not None
        if day["g_kw_m2"].max() > 0.3:  # a sunny winter day: the panels are far above the mean
            assert abs(day_mean / oracle - 1) > 0.03
    assert judged >= 3


def test_plausibility_limits() -> None:
    assert kpi.plausible(12.437, kpi.PERFORMANCE_RATIO_RANGE) is None  # PR 1,244 %
    assert kpi.plausible(2.537, kpi.CAPACITY_FACTOR_RANGE) is None
    assert kpi.plausible(-0.1, kpi.PERFORMANCE_RATIO_RANGE) is None
    assert kpi.plausible(0.82, kpi.PERFORMANCE_RATIO_RANGE) == 0.82
    assert kpi.plausible(None, kpi.CAPACITY_FACTOR_RANGE) is None
    assert kpi.consumption(10.0, 4.0, 3.0) == pytest.approx(9.0)
    assert kpi.consumption(1.0, 4.0, 0.0) is None  # more export than production: a bad input
    assert kpi.consumption(None, 4.0, 0.0) is None
