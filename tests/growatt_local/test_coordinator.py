"""Growatt listener entry: bind failures, allow-list, reset guards, restore, diagnostics."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
import logging
import socket
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    mock_restore_cache_with_extra_data,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.pv_monitor.common.counter import Verdict
from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.growatt_local.coordinator import InverterState, merge_values
from custom_components.pv_monitor.growatt_local.entity import GrowattEntity
from custom_components.pv_monitor.growatt_local.protocol import messages
from custom_components.pv_monitor.growatt_local.protocol.framing import decode_frame, encode_frame
from custom_components.pv_monitor.growatt_local.protocol.reading import (
    classify_tl_range,
    drop_absent_groups,
    looks_like_spf,
)
from custom_components.pv_monitor.growatt_local.protocol.records import (
    encode_record_payload,
    parse_record,
)
from custom_components.pv_monitor.growatt_local.protocol.registers import (
    InverterFamily,
    detect_family,
)
from tests.helpers import until

from .dongle import FakeDongle
from .fixtures import (
    capture,
    captures,
    freeze_datalogger_clock,
    make_entry,
    register_lifetime_energy_sensor,
    setup_entry,
)
from .test_local import play_growattmonitor


def raw(name: str) -> bytes:
    return capture(name).raw


def test_lifetime_counters_never_drop() -> None:
    """A night-time zero or a garbled lower value keeps the lifetime counter."""
    state = InverterState("INV", "LOG", InverterFamily.TL)
    day = date(2026, 6, 1)
    merge_values(state, {"energy_total": 4032.5}, 0, day)
    changed, verdicts = merge_values(state, {"energy_total": 0.0, "pv_power": 0.0}, 300, day)
    assert state.values == {"energy_total": 4032.5, "pv_power": 0.0}
    assert (changed, verdicts) == ({"pv_power"}, [("energy_total", Verdict.HELD)])
    merge_values(state, {"energy_total": 4033.0}, 600, day)
    assert state.values["energy_total"] == 4033.0
    assert state.counters.guards["energy_total"].dropped == 1


def test_daily_counters_reset_once_a_day() -> None:
    """Energy today may go back once per local day (the inverter's reset), not twice."""
    state = InverterState("INV", "LOG", InverterFamily.TL)
    merge_values(state, {"energy_today": 12.5}, 0, date(2026, 6, 1))
    _, verdicts = merge_values(state, {"energy_today": 0.1}, 36_000, date(2026, 6, 2))
    assert verdicts == [("energy_today", Verdict.DAY_STARTED)]
    assert state.values["energy_today"] == 0.1
    merge_values(state, {"energy_today": 3.0}, 46_000, date(2026, 6, 2))
    _, verdicts = merge_values(state, {"energy_today": 0.0}, 46_300, date(2026, 6, 2))
    assert state.values["energy_today"] == 3.0  # a glitch the same day: not a new day
    assert Verdict.DAY_STARTED not in {verdict for _, verdict in verdicts}
    merge_values(state, {"energy_today": 0.0}, 130_000, date(2026, 6, 3))
    assert state.values["energy_today"] == 0.0


def test_absent_strings_and_phases_are_left_out() -> None:
    """PV3/PV4 and L2/L3 appear only once they have ever shown a voltage."""
    values = {"pv1_voltage": 300.0, "pv3_voltage": 0.0, "pv3_power": 0.0, "ac_l2_voltage": 0.0}
    assert drop_absent_groups(dict(values), {}) == {"pv1_voltage": 300.0}
    assert drop_absent_groups(dict(values), {"pv3_voltage": 280.0}) == {
        "pv1_voltage": 300.0,
        "pv3_voltage": 0.0,
        "pv3_power": 0.0,
    }
    assert drop_absent_groups({"pv_power": 1.0}, {}) == {"pv_power": 1.0}


async def test_port_in_use_raises_repair_issue(
    hass: HomeAssistant, free_port: int, issue_registry: ir.IssueRegistry
) -> None:
    """A port held by another program: retry later, with a repair issue that says why."""
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", free_port))
    blocker.listen()
    entry = make_entry(free_port)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issue = issue_registry.async_get_issue(DOMAIN, f"port_unavailable_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders["port"] == str(free_port)

    blocker.close()
    await hass.config_entries.async_reload(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, f"port_unavailable_{entry.entry_id}") is None

    # Removing the entry removes any issue it left behind.
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"port_unavailable_{entry.entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="port_unavailable",
    )
    await hass.config_entries.async_remove(entry.entry_id)
    assert issue_registry.async_get_issue(DOMAIN, f"port_unavailable_{entry.entry_id}") is None


async def test_allow_list_rejects_other_dataloggers(hass: HomeAssistant, free_port: int) -> None:
    """A datalogger not on the list is disconnected unanswered; a listed one is served."""
    await setup_entry(hass, make_entry(free_port, allowed_dataloggers=["jpc492227a"]))
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    stranger = await FakeDongle.connect(free_port)
    await stranger.send(raw("shine2mqtt_v6_0104_data_1"))
    assert await stranger.closed()
    assert entry.runtime_data.listener.stats.connections_rejected == 1
    assert entry.runtime_data.data.inverters == {}
    dongle = await play_growattmonitor(hass, free_port)
    assert "1VZG8211B7" in entry.runtime_data.data.inverters
    await dongle.close()


async def test_bad_frames_are_counted_and_logged_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    free_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Garbage and a record with a broken layout: counted, one warning, session goes on."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    dongle = await FakeDongle.connect(free_port)
    bad_record = encode_frame(5, 6, 1, 0x04, b"XGDABCDEFG" + bytes(20) + b"\x01\x02")
    caplog.set_level(logging.DEBUG, "custom_components.pv_monitor")
    await dongle.send(b"\x00\x01\x00\x06\xff\xff")  # a header with an absurd length
    await dongle.send(b"garbage" * 3, bad_record, split=False)
    await dongle.expect_raw(messages.ack(decode_frame(bad_record)))
    await dongle.send(bad_record)
    await dongle.expect_raw(messages.ack(decode_frame(bad_record)))
    stats = entry.runtime_data.listener.stats
    await until(lambda: stats.frames_dropped >= 3)
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "bad frame" in r.message
    ]
    assert len(warnings) == 1
    # The counter writes its state at most once per 10 s: the trailing write is due then.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await hass.async_block_till_done()
    assert hass.states.get("sensor.growatt_datalogger_dropped_frames").state == str(
        stats.frames_dropped
    )
    await dongle.close()


async def test_restored_counter_survives_lower_value(hass: HomeAssistant, free_port: int) -> None:
    """After a restart the restored lifetime energy holds against a lower first record."""
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State("sensor.inverter_1vzg8211b7_lifetime_energy", "4100.0"),
                {"native_value": 4100.0, "native_unit_of_measurement": "kWh"},
            )
        ],
    )
    entry = make_entry(free_port)
    entry.add_to_hass(hass)
    register_lifetime_energy_sensor(hass, entry, "1VZG8211B7")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    freeze_datalogger_clock(entry)
    # Restored before any record arrives.
    assert hass.states.get("sensor.inverter_1vzg8211b7_lifetime_energy").state == "4100.0"
    dongle = await play_growattmonitor(hass, free_port)  # records say 4032.5
    assert hass.states.get("sensor.inverter_1vzg8211b7_lifetime_energy").state == "4100.0"
    assert (
        entry.runtime_data.data.inverters["1VZG8211B7"].counters.guards["energy_total"].dropped >= 1
    )
    await dongle.close()


async def test_options_change_reloads_and_unload_closes_connections(
    hass: HomeAssistant, init_integration: MockConfigEntry, free_port: int
) -> None:
    """New options restart the listener; unload drops every datalogger connection."""
    entry = init_integration
    dongle = await play_growattmonitor(hass, free_port)
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "inverter_families": {"1VZG8211B7": "spf"}}
    )
    await hass.async_block_till_done()
    assert await dongle.closed()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.family_overrides == {"1VZG8211B7": InverterFamily.SPF}
    dongle = await FakeDongle.connect(free_port)
    await dongle.send(raw("gm_data1_v5_0104_data_from_logger_23"))
    await dongle.expect_raw(raw("gm_data1_v5_0104_ack_from_server_25"))
    await until(lambda: "1VZG8211B7" in entry.runtime_data.data.inverters)
    assert entry.runtime_data.data.inverters["1VZG8211B7"].family is InverterFamily.SPF
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await dongle.closed()


async def test_diagnostics(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    free_port: int,
    hass_client,
    snapshot: SnapshotAssertion,
) -> None:
    """Diagnostics carry counters, dataloggers and inverters with serials redacted."""
    entry = init_integration
    dongle = await play_growattmonitor(hass, free_port)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = str(diagnostics)
    assert "JPC492227A" not in text
    assert "1VZG8211B7" not in text
    assert "192.168.1.20" not in text  # the datalogger's LAN address (config item 0x0e)
    assert diagnostics == snapshot(
        exclude=props("last_seen", "updated_at", "port", "entry_id", "created_at", "modified_at")
    )
    await dongle.close()


def test_spf_told_apart_from_tl_by_values() -> None:
    """Only the grott SPF records read as SPF; every TL record of the captures reads as TL."""
    spf = {"grott_test_v6_0104_spf_valid", "grott_test_v6_0104_spf_night_invalid2"}
    checked = 0
    for cap in captures():
        if cap.kind != "frame" or cap.function not in (0x04, 0x50) or len(cap.raw) < 100:
            continue
        registers = parse_record(decode_frame(cap.raw)).registers
        if detect_family(registers) is not InverterFamily.TL:
            continue
        checked += 1
        assert looks_like_spf(registers) is (cap.name in spf), cap.name
        expected = InverterFamily.SPF if cap.name in spf else InverterFamily.TL
        if cap.name != "grott_test_v6_0104_spf_night_invalid1":  # undecidable: all garbage
            assert classify_tl_range(registers) is expected, cap.name
        else:
            assert classify_tl_range(registers) is None
    assert checked >= 9


async def test_spf_recognised_without_override(
    hass: HomeAssistant, init_integration: MockConfigEntry, free_port: int
) -> None:
    """An SPF off-grid inverter gets the SPF map with no option set, and keeps it at night."""
    entry = init_integration
    dongle = await FakeDongle.connect(free_port)
    frames = [
        raw("grott_test_v6_0104_spf_valid"),
        raw("grott_test_v6_0104_spf_night_invalid1"),
    ]
    await dongle.send(*frames)
    await dongle.expect_raw(*(messages.ack(decode_frame(f)) for f in frames))
    await until(lambda: "GYH2BLL080" in entry.runtime_data.data.inverters)
    inverter = entry.runtime_data.data.inverters["GYH2BLL080"]
    await until(lambda: entry.runtime_data.listener.stats.records_live == 2)
    assert inverter.family is InverterFamily.SPF
    assert inverter.values["battery_soc"] == 100
    assert inverter.values["pv1_energy_total"] < 10_000  # not the TL misreading (34.8 GWh)
    await dongle.close()


async def test_handler_error_does_not_end_session(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    free_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A fault while handling one record is counted and logged once; the session goes on."""
    entry = init_integration
    coordinator = entry.runtime_data
    dongle = await FakeDongle.connect(free_port)
    first = raw("gm_data1_v5_0104_data_from_logger_23")
    second = raw("gm_data1_v5_0104_data_from_logger_26")
    with patch.object(coordinator, "record_received", side_effect=[RuntimeError("boom"), None]):
        await dongle.send(first)
        await dongle.expect_raw(raw("gm_data1_v5_0104_ack_from_server_25"))
        await dongle.send(second)
        await dongle.expect_raw(raw("gm_data1_v5_0104_ack_from_server_29"))
    assert coordinator.listener.stats.handler_errors == 1
    assert "the session goes on" in caplog.text
    await dongle.close()


async def test_repeated_record_wakes_no_entity(
    hass: HomeAssistant, init_integration: MockConfigEntry, free_port: int
) -> None:
    """A record whose values did not change calls no entity callback; a change wakes only
    the entities of the values that changed."""
    entry = init_integration
    calls: list[str] = []
    original = GrowattEntity._handle_coordinator_update

    def counting(self: GrowattEntity) -> None:
        calls.append(self.unique_id or "")
        original(self)

    record = raw("shine2mqtt_v6_0104_data_1")
    frame = decode_frame(record)
    with patch.object(GrowattEntity, "_handle_coordinator_update", counting):
        dongle = await FakeDongle.connect(free_port)
        await dongle.send(record)
        await dongle.expect_raw(messages.ack(frame))
        await hass.async_block_till_done()
        calls.clear()
        for _ in range(3):
            await dongle.send(record)
            await dongle.expect_raw(messages.ack(frame))
            await hass.async_block_till_done()
        assert entry.runtime_data.listener.stats.records_live == 4
        assert calls == []
        # Only the AC power changes: exactly its entity is woken.
        parsed = parse_record(frame)
        registers = {**parsed.registers, 3024: parsed.registers[3024] + 10}
        payload = encode_record_payload(dataclasses.replace(parsed, registers=registers))
        changed = encode_frame(frame.seq, 6, 1, 0x04, payload)
        await dongle.send(changed)
        await dongle.expect_raw(messages.ack(decode_frame(changed)))
        await hass.async_block_till_done()
    serial = parsed.inverter_serial
    assert calls == [f"{serial}_ac_power"]
    await dongle.close()


TL_ONLY = ("reactive_energy_total", "reactive_power", "pv_energy_total")
"""Sensors only the TL map has (on an SPF they would show its battery and AC-charge totals)."""


@pytest.mark.parametrize(
    "orders",
    [
        (
            ("grott_test_v6_0104_spf_night_invalid1", "grott_test_v6_0104_spf_valid"),
            ("grott_test_v6_0104_spf_night_invalid1", "grott_test_v6_0104_spf_night_invalid2"),
            ("grott_test_v6_0104_spf_night_invalid2", "grott_test_v6_0104_spf_valid"),
            ("grott_test_v6_0104_spf_valid",),
        ),
        (
            ("grott_test_v6_0104_spf_valid", "grott_test_v6_0104_spf_night_invalid1"),
            ("grott_test_v6_0104_spf_night_invalid2",),
            ("grott_test_v6_0104_spf_night_invalid1",),
            ("grott_test_v6_0104_spf_night_invalid2", "grott_test_v6_0104_spf_valid"),
        ),
    ],
)
async def test_spf_keeps_its_family_over_restarts(
    hass: HomeAssistant,
    free_port: int,
    hass_storage: dict[str, Any],
    orders: tuple[tuple[str, ...], ...],
) -> None:
    """Detected once, remembered per inverter serial in the entry's store: over three
    restarts, with night (undecidable) records first or last, the SPF stays SPF and never
    gets a TL-only sensor; an undecidable first record creates no entities."""
    entry = make_entry(free_port)
    entry.add_to_hass(hass)
    registry = er.async_get(hass)
    for run, names in enumerate(orders):
        if run:
            assert await hass.config_entries.async_reload(entry.entry_id)
        else:
            assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        dongle = await FakeDongle.connect(free_port)
        frames = [raw(name) for name in names]
        await dongle.send(*frames)
        await dongle.expect_raw(*(messages.ack(decode_frame(f)) for f in frames))
        await hass.async_block_till_done()
        inverters = entry.runtime_data.data.inverters
        if run == 0 and names[0].endswith("invalid1"):
            # The first record said nothing about the family: counted, no entities from it.
            loggers = entry.runtime_data.data.dataloggers.values()
            assert sum(logger.records_unclassified for logger in loggers) == 1
        assert inverters["GYH2BLL080"].family is InverterFamily.SPF, (run, names)
        unique_ids = {
            e.unique_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        }
        assert "GYH2BLL080_battery_soc" in unique_ids
        assert not {f"GYH2BLL080_{key}" for key in TL_ONLY} & unique_ids
        await dongle.close()
    assert await hass.config_entries.async_unload(entry.entry_id)
    stored = hass_storage[f"{DOMAIN}.growatt_local.{entry.entry_id}"]["data"]
    assert stored == {"families": {"GYH2BLL080": "spf"}}


async def test_family_change_removes_the_entities_the_new_family_lacks(
    hass: HomeAssistant, init_integration: MockConfigEntry, free_port: int
) -> None:
    """Choosing another family in the options removes the old family's extra sensors."""
    entry = init_integration
    dongle = await play_growattmonitor(hass, free_port)  # a TL inverter
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("sensor", DOMAIN, "1VZG8211B7_reactive_power")
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "inverter_families": {"1VZG8211B7": "spf"}}
    )
    await hass.async_block_till_done()
    assert await dongle.closed()
    assert registry.async_get_entity_id("sensor", DOMAIN, "1VZG8211B7_reactive_power") is None
    assert registry.async_get_entity_id("sensor", DOMAIN, "1VZG8211B7_pv1_voltage")
