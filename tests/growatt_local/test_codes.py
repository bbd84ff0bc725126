"""Device type codes, fault and warning codes as text (``protocol/codes.py``).

Oracles: the real announces and data records of ``tests/fixtures/growatt`` (sources named
in each file, with the model their publisher describes), and Growatt's tables as published
in github.com/0xAHA/Growatt_ModbusTCP (commit 64434f9, ``Protocols/``): VPP protocol V2.03
table 3-1 (DTC), V3.14 / V1.20 notes "&*6" (DTC), "&*1" (fault codes) and "&*8" (warning
bits), OffGrid V0.26 notes "&*1" and "&*8". The expected values below are read from those
documents, not from our tables.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.pv_monitor.growatt_local.counters import nominal_power_w
from custom_components.pv_monitor.growatt_local.protocol.codes import (
    CodeTable,
    code_text,
    dtc_series,
    model_name,
)
from custom_components.pv_monitor.growatt_local.protocol.reading import decode_family_values
from custom_components.pv_monitor.growatt_local.protocol.records import parse_record
from custom_components.pv_monitor.growatt_local.protocol.registers import (
    FAMILY_KEYS,
    FAULT_STATES,
    WARNING_STATES,
    InverterFamily,
    decode_device_info,
    decode_values,
)
from custom_components.pv_monitor.growatt_local.sensor import INVERTER_SENSORS

from .fixtures import capture
from .test_records import _data_frame, _payload, _record

TRANSLATIONS = Path(__file__).parents[2] / "custom_components" / "pv_monitor" / "translations"


@pytest.mark.parametrize(
    ("name", "dtc", "model", "published"),
    [
        # Source: "single-phase, 2 MPPT, 'Protocol II'"; V3.14 &*6: 002xx = "2 tracker and
        # 1phase Grid connect PV inverter TL".
        (
            "gm_data1_v5_0103_announce_from_logger_04",
            "210",
            "TL single-phase, 2 MPPT, 3,000 VA",
            "single-phase, 2 MPPT",
        ),
        # Source: "Growatt MIC 3000TL-X"; VPP V2.03: 5200 = MIC 600-3300TL-X / MIN 2500-6000TL-X.
        (
            "shine2mqtt_v6_0103_announce_1",
            "5200",
            "MIC 600-3300TL-X / MIN 2500-6000TL-X, 3,000 VA",
            "MIC 3000TL-X",
        ),
        # Source: "MIC/MIN TL-X"; 5,000 VA (PyGrowatt's own p_max 50000 x 0.1 VA).
        (
            "pygrowatt_v6_xx03_announce_payload_XGD3A1968B",
            "5200",
            "MIC 600-3300TL-X / MIN 2500-6000TL-X, 5,000 VA",
            "MIC/MIN TL-X",
        ),
        # VPP V2.03: 5201 = MIN 7-10KTL-X/X2/X2(E); the announce's Pmax is 8,000 VA.
        ("gogrott_v6_0103_announce_e2e1", "5201", "MIN 7000-10000TL-X, 8,000 VA", None),
    ],
)
def test_real_announce_model(name: str, dtc: str, model: str, published: str | None) -> None:
    """The real announces decode to the model series of their device type code."""
    registers = _record(name).registers
    info = decode_device_info(registers)
    assert info["dtc"] == dtc
    series = dtc_series(info["dtc"])
    assert series is not None
    assert model_name(series, nominal_power_w(registers)) == model
    if published is not None:
        assert published in capture(name).meta["model"]


def test_undocumented_dtc_falls_back() -> None:
    """The 2015 capture's DTC 2131 ("021xx") is in no table: no series, the glue falls back
    to the family (``test_local.test_server_session_states``)."""
    info = decode_device_info(_record("vromans_v2_0103_announce_02").registers)
    assert info["dtc"] == "2131"
    assert dtc_series(info["dtc"]) is None


@pytest.mark.parametrize(
    ("dtc", "series"),
    [
        (100, "TL single-phase, 1 MPPT"),  # 001xx
        (899, "TL three-phase, 2 MPPT"),  # 008xx
        (1099, "LF three-phase, 2 MPPT"),  # 010xx
        ("3502", "SPH 3000-6000TL BL-UP"),
        (3725, "SPA 4-10KTL3 BH-UP"),
        (5100, "MIN 2500-6000TL-XH"),
        (5400, "MOD TL3-XH / MID TL3-XH"),
        (5500, "MAX 175-253KTL3-X HV"),
        (None, None),
        ("", None),
        ("PV Inverter", None),
        (0, None),
        (99, None),
        (1100, None),
        (3000, None),
        (65535, None),
    ],
)
def test_dtc_series(dtc: str | int | None, series: str | None) -> None:
    assert dtc_series(dtc) == series


def test_model_name_without_nominal_power() -> None:
    assert model_name("MIN 2500-6000TL-XH", None) == "MIN 2500-6000TL-XH"
    assert model_name("MIN 2500-6000TL-XH", 0.0) == "MIN 2500-6000TL-XH"


@pytest.mark.parametrize(
    ("code", "state"),
    [
        (0, "none"),
        (0x0001, "fan"),  # V3.14 &*8: "Fan warning"
        (0x0008, "eeprom_read_failed"),  # "Fail to read EEPROM"
        (0x0080, "ground_neutral_abnormal"),  # "GND and N connect abnormal"
        (0x0200, "boost_driver_broken"),  # "PV1 or PV2 boost driver broken"
        (0x0400, "other"),  # "\": undocumented
        (0x8000, "other"),
        (0x0003, "multiple"),
        (0xFFFF, "multiple"),
    ],
)
def test_tl_warning_bits(code: int, state: str) -> None:
    """TL input 64 "WarningCode" on both decoding paths of a real TL record."""
    registers = dict(_record("gm_data1_v5_0104_data_from_logger_23").registers)
    registers[64] = code
    record = parse_record(
        _data_frame(
            _payload(
                [(start, [registers[r] for r in range(start, start + 45)]) for start in (0, 45)]
            )
        )
    )
    assert decode_values(registers, InverterFamily.TL)["warning"] == state
    assert decode_family_values(record.registers, InverterFamily.TL)["warning"] == state


@pytest.mark.parametrize(
    ("fault", "warning", "fault_state", "warning_state"),
    [
        (0, 0, "none", "none"),
        (1, 0x0001, "fan_locked", "fan_locked"),  # V0.26: 1 "Fan lock"; 0x0001 "Fan lock warning"
        (7, 0x0008, "overload", "overload"),  # 7 "Over Load"; 0x0008 "Over load"
        (81, 0x2000, "parallel_host_lost", "battery_disconnected"),  # 81 "host loss"
        (10, 0x8000, "other", "pv_power_insufficient"),  # code 10 is not listed
        (62, 0x0011, "internal_communication_error", "multiple"),
    ],
)
def test_spf_fault_and_warning(
    fault: int, warning: int, fault_state: str, warning_state: str
) -> None:
    """SPF input 40 (fault code) and 41 (warning bits) of the real grott SPF record."""
    registers = dict(_record("grott_test_v6_0104_spf_valid").registers)
    registers[40], registers[41] = fault, warning
    values = decode_values(registers, InverterFamily.SPF)
    assert (values["fault"], values["warning"]) == (fault_state, warning_state)


@pytest.mark.parametrize(("code", "state"), [(0, "none"), (3, "other"), (202, "other")])
def test_tl_x_main_codes_are_undocumented(code: int, state: str) -> None:
    """TL-X fault/warning main codes (input 3105/3106) have no published table."""
    record = _record("shine2mqtt_v6_0104_data_1")
    registers = dict(record.registers)
    assert (registers[3105], registers[3106]) == (0, 0)
    registers[3105] = registers[3106] = code
    values = decode_values(registers, InverterFamily.TL_X)
    assert (values["fault"], values["warning"]) == (state, state)
    real = decode_family_values(record.registers, InverterFamily.TL_X)
    assert (real["fault"], real["warning"]) == ("none", "none")


@pytest.mark.parametrize(
    ("family", "fault", "state"),
    [
        (InverterFamily.TL3_X, 24, "auto_test_failed"),  # V1.20 input 105 -> &*1
        (InverterFamily.TL3_X, 7, "generic_error"),
        (InverterFamily.TL3_X, 33, "other"),
        (InverterFamily.SPH, 24, "other"),  # V1.24 storage "Fault Maincode": no table
    ],
)
def test_v124_common_map_fault(family: InverterFamily, fault: int, state: str) -> None:
    registers = dict.fromkeys(range(125), 0)
    registers[105], registers[112] = fault, 1
    values = decode_values(registers, family)
    assert (values["fault"], values["warning"]) == (state, "other")


@settings(max_examples=300)
@given(st.integers(0, 0xFFFF), st.booleans())
def test_code_text_is_always_an_option(code: int, bits: bool) -> None:
    """Whatever a register holds, the state is one of the enum's options."""
    for family in InverterFamily:
        values = decode_values({40: code, 41: code, 64: code, 105: code, 112: code}, family)
        assert values.get("fault", "none") in FAULT_STATES
        assert values.get("warning", "none") in WARNING_STATES
    table = CodeTable({1: "a", 2: "b"}, bits=bits)
    assert code_text(code, table) in {"none", "other", "multiple", "a", "b"}


def test_enum_sensors_and_translations() -> None:
    """``fault`` and ``warning`` are enum sensors whose every state is translated."""
    for key, states in (("fault", FAULT_STATES), ("warning", WARNING_STATES)):
        description = INVERTER_SENSORS[key]
        assert description.device_class == "enum"
        assert description.options == states
        assert {"none", "other"} <= set(states)
        for lang in ("en", "nl", "de"):
            data = json.loads((TRANSLATIONS / f"{lang}.json").read_text())
            translated = data["entity"]["sensor"][key]["state"]
            assert set(translated) == set(states), (lang, key)
            assert all(isinstance(text, str) and text for text in translated.values())
    assert "multiple" in WARNING_STATES
    assert all({"fault", "warning"} <= keys for keys in FAMILY_KEYS.values())
