"""The controllable holding registers per family (pure :mod:`.protocol.holding`).

Expected rows are Growatt's "Inverter Modbus RTU Protocol" V1.24 (2020) as extracted in
WouterTuinstra/Homeassistant-Growatt-Local-Modbus ``doc/growatt_registers_spec.md``
(holding "first group" 0-124 and "six group for storage power" 1000-1124), and the
registers the Homey Growatt apps write (0, 122, 123, 1044, 1070, 1071, 1090, 1091, 1092).
"""

from __future__ import annotations

import pytest

from custom_components.pv_monitor.growatt_local.protocol.holding import (
    ACTIVE_POWER_RATE,
    EXPORT_LIMIT_RATE,
    FAMILY_CONTROLS,
    Control,
    controls_of_kind,
    find_control,
    read_allowed,
    read_blocks,
)
from custom_components.pv_monitor.growatt_local.protocol.registers import InverterFamily

DOCUMENT_ROWS = {
    # register: (raw minimum, raw maximum) as V1.24 documents them (123: we keep >= 0)
    0: (0, 1),
    3: (0, 100),
    122: (0, 3),
    123: (0, 1000),
    1044: (0, 2),
    1070: (0, 100),
    1071: (0, 100),
    1090: (0, 100),
    1091: (0, 100),
    1092: (0, 1),
}


def test_registers_match_the_document() -> None:
    """Every allow-listed register is a V1.24 row with the document's range."""
    for family, registers in FAMILY_CONTROLS.items():
        for reg in registers:
            assert (reg.minimum, reg.maximum) == DOCUMENT_ROWS[reg.register], (family, reg)
            assert "V1.24" in reg.source
    assert {r.register for r in FAMILY_CONTROLS[InverterFamily.TL]} == {0, 3}
    assert {r.register for r in FAMILY_CONTROLS[InverterFamily.TL_X]} == {0, 3, 122, 123}
    assert {r.register for r in FAMILY_CONTROLS[InverterFamily.SPH]} == set(DOCUMENT_ROWS)
    assert FAMILY_CONTROLS[InverterFamily.SPF] == ()
    assert set(controls_of_kind(Control.SWITCH)) == {"inverter_on", "ac_charge"}


@pytest.mark.parametrize(("native", "raw"), [(0, 0), (50, 50), (100, 100)])
def test_active_power_rate_conversion(native: float, raw: int) -> None:
    """Whole percent; 255 ("not limited") reads as 100 and may be written raw."""
    assert ACTIVE_POWER_RATE.to_raw(native) == raw
    assert ACTIVE_POWER_RATE.to_native(raw) == native
    assert ACTIVE_POWER_RATE.to_native(255) == 100
    assert ACTIVE_POWER_RATE.allows(255)
    assert ACTIVE_POWER_RATE.to_native(101) is None


@pytest.mark.parametrize("native", [-0.1, 100.1, 50.55, 1e9])
def test_export_limit_refuses_off_range_and_off_step(native: float) -> None:
    """0.1 % steps within 0-100 %; anything else is refused."""
    with pytest.raises(ValueError, match=str(native)):
        EXPORT_LIMIT_RATE.to_raw(native)
    assert EXPORT_LIMIT_RATE.to_raw(50.5) == 505
    assert EXPORT_LIMIT_RATE.to_native(505) == 50.5
    assert EXPORT_LIMIT_RATE.to_native(0xFC18) is None  # -1000 as u16: not ours to show


def test_read_blocks_and_read_ranges() -> None:
    """Near registers share a read; reads stay inside the family's documented groups."""
    assert read_blocks(FAMILY_CONTROLS[InverterFamily.SPH]) == [
        (0, 3),
        (122, 123),
        (1044, 1044),
        (1070, 1071),
        (1090, 1092),
    ]
    assert read_allowed(InverterFamily.TL_X, 3000, 3124)
    assert not read_allowed(InverterFamily.TL_X, 3000, 3125)
    assert not read_allowed(InverterFamily.TL, 124, 125)
    assert not read_allowed(InverterFamily.SPF, 0, 0)
    assert not read_allowed(None, 0, 0)
    assert not read_allowed(InverterFamily.SPH, 5, 4)
    assert find_control(InverterFamily.TL, 122) is None
    assert find_control(None, 3) is None
