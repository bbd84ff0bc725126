"""Re-encode a captured Growatt data record with the demo day's values (scripts/replay_dongle).

The record layout, serials and every value not listed here stay as captured; the powers and
energy counters of :mod:`demo_data.profile` are written into the registers of the record's
own family (``growatt_local/protocol/registers.py``, Growatt Modbus RTU protocol V1.24), with
the documented scales (0.1 W, 0.1 kWh). Counters never go below what was sent before
(``state`` persists them between runs).
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime, time
import json
from pathlib import Path
from typing import Any

from protocol.framing import Function, decode_frame, encode_frame
from protocol.records import encode_record_payload, parse_record
from protocol.registers import FAMILY_MAPS, RegisterSpec, detect_family

from . import profile

DEMO_SERIAL = "XGD6CBJ22W"
"""The template datalogger: a ShineWiFi-X with a MIN TL-X inverter (CUK4CBQ05E) and its
grid meter, captured by grott (``tests/fixtures/growatt/frames/grott_*``)."""

STRINGS = ("pv1", "pv2", "pv3", "pv4")
"""The string inputs a record may carry; each gets its captured share of the PV power."""
DC_EFFICIENCY = 0.97
"""AC / DC power of the inverter (the capture: 1,829.7 W AC from 2,004.4 W DC = 0.913 with
its two strings' losses; a MIN's European efficiency is about 0.97)."""


def _read(registers: dict[int, int], spec: RegisterSpec) -> float:
    if spec.words == 2:
        raw = (registers.get(spec.register, 0) << 16) | registers.get(spec.register + 1, 0)
    else:
        raw = registers.get(spec.register, 0)
    return raw * spec.scale


def _write(registers: dict[int, int], spec: RegisterSpec, value: float) -> None:
    raw = max(0, round(value / spec.scale))
    if spec.words == 2:
        registers[spec.register] = (raw >> 16) & 0xFFFF
        registers[spec.register + 1] = raw & 0xFFFF
    else:
        registers[spec.register] = min(raw, 0xFFFF)


class DemoInverter:
    """Builds the datalogger's data records from the demo profile."""

    def __init__(
        self, template: bytes, protocol: int, unit: int, epoch: datetime, state: Path
    ) -> None:
        """``template``: a captured plaintext data payload; ``state``: the counters file."""
        frame = decode_frame(encode_frame(1, protocol, unit, Function.DATA, template))
        self.record = parse_record(frame)
        family = detect_family(self.record.registers)
        self.specs = {spec.key: spec for spec in FAMILY_MAPS[family]}
        self.captured = {
            key: _read(self.record.registers, spec) for key, spec in self.specs.items()
        }
        powers = {pv: self.captured.get(f"{pv}_power", 0.0) for pv in STRINGS}
        # Each string's share of the PV power as captured (the template record: PV1 736.5 W,
        # PV2 573.5 W, PV3 691.0 W).
        self.split = {pv: power / sum(powers.values()) for pv, power in powers.items() if power > 0}
        self.epoch = epoch
        self.state = state
        self.base = {
            "energy_total": 27161.5,
            "pv_energy_total": 29247.6,
            "grid_import_energy_total": 5762.0,
            "grid_export_energy_total": 16121.7,
            "load_energy_total": 18887.9,
        }
        self.last: dict[str, float] = {}
        with contextlib.suppress(OSError, ValueError):
            self.last = json.loads(state.read_text(encoding="utf-8"))

    def values(self, now: datetime) -> dict[str, float]:
        """Every value written at ``now``: powers (W), counters and today's energy (kWh)."""
        pv, load = profile.power_at(now)
        total = profile.counters_between(self.epoch, now)
        midnight = datetime.combine(
            now.astimezone(profile.TIME_ZONE).date(), time(), profile.TIME_ZONE
        )
        today = profile.counters_between(max(midnight, self.epoch), now)
        dc = pv / DC_EFFICIENCY
        values: dict[str, float] = {
            "ac_power": pv,
            "ac_l1_power": pv,  # a single-phase MIN: all of it on L1
            "ac_l1_current": pv / (self.captured.get("ac_l1_voltage") or 230.0),
            "pv_power": dc,
            "grid_import_power": max(load - pv, 0.0),
            "grid_export_power": max(pv - load, 0.0),
            "load_power": load,
            "energy_today": today["pv"],
            "pv_energy_today": today["pv"] / DC_EFFICIENCY,
            "grid_import_energy_today": today["import_t1"] + today["import_t2"],
            "grid_export_energy_today": today["export_t1"] + today["export_t2"],
            "load_energy_today": today["load"],
        }
        for string in STRINGS:  # strings the capture has not stay at 0
            share = self.split.get(string, 0.0)
            voltage = self.captured.get(f"{string}_voltage") or 1.0
            values[f"{string}_power"] = dc * share
            values[f"{string}_current"] = dc * share / voltage if share else 0.0
            values[f"{string}_energy_today"] = today["pv"] / DC_EFFICIENCY * share
        grid_in = total["import_t1"] + total["import_t2"]
        grid_out = total["export_t1"] + total["export_t2"]
        for key, delta in (
            ("energy_total", total["pv"]),
            ("pv_energy_total", total["pv"] / DC_EFFICIENCY),
            ("grid_import_energy_total", grid_in),
            ("grid_export_energy_total", grid_out),
            ("load_energy_total", total["load"]),
        ):
            values[key] = max(self.base[key] + delta, self.last.get(key, 0.0))
        return values

    def payload(self, now: datetime) -> bytes:
        """The plaintext data payload at ``now`` (local time in its timestamp)."""
        values = self.values(now)
        registers: dict[int, Any] = dict(self.record.registers)
        for key, value in values.items():
            if key in self.specs:
                _write(registers, self.specs[key], value)
        self._remember(values)
        stamp = now.astimezone(profile.TIME_ZONE).replace(tzinfo=None, microsecond=0)
        return encode_record_payload(replace(self.record, registers=registers, timestamp=stamp))

    def _remember(self, values: dict[str, float]) -> None:
        counters = {k: round(v, 1) for k, v in values.items() if k.endswith("_total")}
        if counters != self.last:
            self.last = counters
            tmp = self.state.with_suffix(".tmp")
            tmp.write_text(json.dumps(counters), encoding="utf-8")
            tmp.replace(self.state)
