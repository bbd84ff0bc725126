"""Inverter control glue: entities of the holding registers, safety rules, actions.

The inverter's side is :class:`FakeCommands` (the listener's command methods), fed with
the holding values a record's family documents (Growatt "Inverter Modbus RTU Protocol"
V1.24: holding 3 = 100 % active power rate, 122 = export limit off, 123 = 0.0 %). The
records that make the inverters known are real captures (``tests/fixtures/growatt``,
sources in each file): ``shine2mqtt_v6_0104_data_1`` is a TL-X (MIN) record.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.growatt_local.control import READ_DELAY
from custom_components.pv_monitor.growatt_local.entity import GrowattEntity
from custom_components.pv_monitor.growatt_local.protocol import messages
from custom_components.pv_monitor.growatt_local.protocol.command_queue import (
    CommandError,
    CommandRejected,
    CommandTimeout,
    CommandUnavailable,
)
from custom_components.pv_monitor.growatt_local.protocol.framing import decode_frame
from custom_components.pv_monitor.growatt_local.protocol.records import parse_record
from tests.helpers import only_platforms

from .dongle import FakeDongle
from .fixtures import capture, make_entry, setup_entry

TLX_RECORD = "shine2mqtt_v6_0104_data_1"
TLX_SERIAL = parse_record(decode_frame(capture(TLX_RECORD).raw)).inverter_serial or ""
TLX_HOLDING = {0: 1, 1: 0, 2: 0, 3: 100, 122: 0, 123: 0}
"""Holding values of a TL-X that exports freely: on, 100 %, export limit off, 0.0 %."""
SPH_HOLDING = {**TLX_HOLDING, 1044: 0, 1070: 100, 1071: 10, 1090: 100, 1091: 100, 1092: 0}
"""An SPH in load-first mode, full rates, 10 % discharge stop, AC charge off."""

pytestmark = pytest.mark.control_reads


class FakeCommands:
    """The listener's command methods, answering from ``registers`` like an inverter."""

    def __init__(self, registers: dict[int, int], available: bool = True) -> None:
        self.registers = dict(registers)
        self.available = available
        self.reads: list[tuple[str, int, int]] = []
        self.writes: list[tuple[str, int, int]] = []
        self.fail: CommandError | None = None
        self.stuck: dict[int, int] = {}
        """Registers that read back this value whatever is written (the inverter refuses)."""

    async def async_read_registers(self, inverter: str, first: int, last: int) -> dict[int, int]:
        self.reads.append((inverter, first, last))
        if self.fail is not None:
            raise self.fail
        return {r: self.registers[r] for r in range(first, last + 1) if r in self.registers}

    async def async_write_register(self, inverter: str, register: int, value: int) -> int:
        self.writes.append((inverter, register, value))
        if self.fail is not None:
            raise self.fail
        self.registers[register] = self.stuck.get(register, value)
        return self.registers[register]

    def commands_available(self, inverter: str) -> bool:
        return self.available


async def _start(
    hass: HomeAssistant, port: int, fake: FakeCommands, *, read: bool = True, **options: Any
) -> tuple[MockConfigEntry, FakeDongle]:
    """Set up an entry with ``fake`` as its listener's commands; one TL-X record arrives.

    With ``read``, time then passes until the registers' first read is due.
    """
    entry = make_entry(port, **options)
    await setup_entry(hass, entry)
    entry.runtime_data.control.commands = fake
    dongle = await (_send_record if read else _deliver_record)(hass, port)
    return entry, dongle


async def _deliver_record(
    hass: HomeAssistant, port: int, dongle: FakeDongle | None = None
) -> FakeDongle:
    """One TL-X record from ``dongle`` (a new connection if None), acknowledged."""
    record = capture(TLX_RECORD).raw
    dongle = dongle or await FakeDongle.connect(port)
    await dongle.send(record)
    await dongle.expect_raw(messages.ack(decode_frame(record)))
    await hass.async_block_till_done()
    return dongle


async def _send_record(
    hass: HomeAssistant, port: int, dongle: FakeDongle | None = None
) -> FakeDongle:
    """One TL-X record, then :data:`READ_DELAY` passes (a due read runs)."""
    dongle = await _deliver_record(hass, port, dongle)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=READ_DELAY + 1))
    await hass.async_block_till_done(wait_background_tasks=True)
    return dongle


def _control_entities(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """``{unique id: entity id}`` of the entry's number, select and switch entities."""
    return {
        e.unique_id: e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.domain in ("number", "select", "switch")
    }


def _entity(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str:
    return _control_entities(hass, entry)[f"{TLX_SERIAL}_{key}"]


async def test_entities_created_after_read(hass: HomeAssistant, free_port: int) -> None:
    """A TL-X record: 30 s later one read of 0-3 and 122-123, then its four entities."""
    fake = FakeCommands(TLX_HOLDING)
    entry, dongle = await _start(hass, free_port, fake, read=False)
    assert fake.reads == []
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=READ_DELAY - 1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fake.reads == []
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=READ_DELAY + 1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fake.reads == [(TLX_SERIAL, 0, 3), (TLX_SERIAL, 122, 123)]
    assert sorted(_control_entities(hass, entry)) == sorted(
        f"{TLX_SERIAL}_{key}"
        for key in ("inverter_on", "active_power_rate", "export_limit_mode", "export_limit_rate")
    )
    # A second record reads nothing again.
    await _send_record(hass, free_port, dongle)
    assert len(fake.reads) == 2
    await dongle.close()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("platform", [Platform.NUMBER, Platform.SELECT, Platform.SWITCH])
async def test_entities_snapshot(
    hass: HomeAssistant, free_port: int, platform: Platform, snapshot: SnapshotAssertion
) -> None:
    """The control entities of an SPH (every control register), one platform each."""
    with only_platforms("growatt_local", platform):
        entry, dongle = await _start(
            hass, free_port, FakeCommands(SPH_HOLDING), inverter_families={TLX_SERIAL: "sph"}
        )
        await snapshot_platform(hass, er.async_get(hass), snapshot, entry.entry_id)
    await dongle.close()


async def test_risky_entities_disabled_and_config_category(
    hass: HomeAssistant, free_port: int
) -> None:
    """On/off and export limit mode are disabled by default; all are configuration."""
    entry, dongle = await _start(hass, free_port, FakeCommands(TLX_HOLDING))
    registry = er.async_get(hass)
    for entity_id in _control_entities(hass, entry).values():
        reg_entry = registry.async_get(entity_id)
        assert reg_entry is not None
        assert reg_entry.entity_category == "config"
        risky = reg_entry.unique_id.endswith(("inverter_on", "export_limit_mode"))
        assert (reg_entry.disabled_by is not None) is risky, entity_id
    await dongle.close()


async def test_no_entities_when_read_times_out(
    hass: HomeAssistant, free_port: int, freezer: FrozenDateTimeFactory
) -> None:
    """A read that times out creates nothing; the next record 15 min later retries."""
    fake = FakeCommands(TLX_HOLDING)
    fake.fail = CommandTimeout("no answer")
    entry, dongle = await _start(hass, free_port, fake)
    assert len(fake.reads) == 2
    assert _control_entities(hass, entry) == {}
    await _send_record(hass, free_port, dongle)
    assert len(fake.reads) == 2  # not before the retry time
    fake.fail = None
    freezer.tick(15 * 60)
    await _send_record(hass, free_port, dongle)
    assert len(fake.reads) == 4
    assert len(_control_entities(hass, entry)) == 4
    await dongle.close()


async def test_datalogger_gone_before_the_read(hass: HomeAssistant, free_port: int) -> None:
    """Commands unavailable when the read is due: nothing is sent; the next record reads."""
    fake = FakeCommands(TLX_HOLDING)
    entry, dongle = await _start(hass, free_port, fake, read=False)
    fake.available = False
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=READ_DELAY + 1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fake.reads == []
    fake.available = True
    await _send_record(hass, free_port, dongle)
    assert len(fake.reads) == 2
    assert len(_control_entities(hass, entry)) == 4
    await dongle.close()


async def test_commands_unavailable_no_read_no_entities(
    hass: HomeAssistant, free_port: int
) -> None:
    """Proxy mode without local commands (the listener says unavailable): nothing is read."""
    fake = FakeCommands(TLX_HOLDING, available=False)
    entry, dongle = await _start(hass, free_port, fake)
    assert fake.reads == []
    assert _control_entities(hass, entry) == {}
    await dongle.close()


async def test_set_number_writes_exact_raw_and_shows_read_back(
    hass: HomeAssistant, free_port: int
) -> None:
    """50.5 % export limit is raw 505 on holding 123; the state is the read-back."""
    fake = FakeCommands(TLX_HOLDING)
    entry, dongle = await _start(hass, free_port, fake)
    entity_id = _entity(hass, entry, "export_limit_rate")
    assert hass.states.get(entity_id).state == "0.0"
    await hass.services.async_call(
        "number", "set_value", {"entity_id": entity_id, "value": 50.5}, blocking=True
    )
    assert fake.writes == [(TLX_SERIAL, 123, 505)]
    assert hass.states.get(entity_id).state == "50.5"
    # After the write the family's registers are read again.
    assert fake.reads[-2:] == [(TLX_SERIAL, 0, 3), (TLX_SERIAL, 122, 123)]
    # Another device changed it: the next read shows that, never the value we wrote.
    fake.registers[123] = 300
    assert await entry.runtime_data.control.async_refresh(TLX_SERIAL)
    assert hass.states.get(entity_id).state == "30.0"
    await dongle.close()


async def test_read_wakes_only_changed_control_entities(
    hass: HomeAssistant, free_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that changes nothing wakes no entity; a changed register wakes its own
    entity only, never the inverter's measurement entities (issue 10's listener_load
    found 31 callbacks per inverter for every read, one per entity of the device)."""
    woken: list[str] = []
    original = GrowattEntity._handle_coordinator_update

    def counting(self: GrowattEntity) -> None:
        woken.append(self.entity_id)
        original(self)

    monkeypatch.setattr(GrowattEntity, "_handle_coordinator_update", counting)
    fake = FakeCommands(TLX_HOLDING)
    entry, dongle = await _start(hass, free_port, fake)
    control = entry.runtime_data.control
    rate = _entity(hass, entry, "active_power_rate")
    assert hass.states.get(rate).state == "100"
    woken.clear()
    assert await control.async_refresh(TLX_SERIAL)
    assert woken == []
    fake.registers[3] = 80
    assert await control.async_refresh(TLX_SERIAL)
    assert woken == [rate]
    assert hass.states.get(rate).state == "80"
    woken.clear()
    fake.fail = CommandTimeout("no answer")
    assert not await control.async_refresh(TLX_SERIAL)
    assert woken == []
    await dongle.close()


async def test_active_power_rate_255_is_unlimited(hass: HomeAssistant, free_port: int) -> None:
    """Holding 3 = 255 ("power is not limited", V1.24) shows as 100 %."""
    entry, dongle = await _start(hass, free_port, FakeCommands({**TLX_HOLDING, 3: 255}))
    assert hass.states.get(_entity(hass, entry, "active_power_rate")).state == "100"
    await dongle.close()


async def test_out_of_range_refused_before_sending(hass: HomeAssistant, free_port: int) -> None:
    """Out of range or between steps: refused with a translated error, nothing sent."""
    fake = FakeCommands(TLX_HOLDING)
    entry, dongle = await _start(hass, free_port, fake)
    entity_id = _entity(hass, entry, "export_limit_rate")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            "number", "set_value", {"entity_id": entity_id, "value": 50.55}, blocking=True
        )
    assert err.value.translation_key == "value_out_of_range"
    device = dr.async_get(hass).async_get_device({(DOMAIN, TLX_SERIAL)})
    assert device is not None
    for register, value in ((3, 101), (122, 4), (123, 1001)):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN,
                "write_register",
                {"device_id": device.id, "register": register, "value": value},
                blocking=True,
            )
        assert err.value.translation_key == "value_out_of_range"
    assert fake.writes == []
    await dongle.close()


async def test_rate_limit_one_write_per_register_per_10_s(
    hass: HomeAssistant, free_port: int, freezer: FrozenDateTimeFactory
) -> None:
    """A second write of one register within 10 s is refused; another register is not."""
    fake = FakeCommands(TLX_HOLDING)
    entry, dongle = await _start(hass, free_port, fake)
    rate = _entity(hass, entry, "active_power_rate")
    limit = _entity(hass, entry, "export_limit_rate")

    async def set_value(entity_id: str, value: float) -> None:
        await hass.services.async_call(
            "number", "set_value", {"entity_id": entity_id, "value": value}, blocking=True
        )

    await set_value(rate, 60)
    freezer.tick(9)
    with pytest.raises(ServiceValidationError) as err:
        await set_value(rate, 70)
    assert err.value.translation_key == "write_rate_limited"
    await set_value(limit, 10)
    freezer.tick(1)
    await set_value(rate, 70)
    assert fake.writes == [(TLX_SERIAL, 3, 60), (TLX_SERIAL, 123, 100), (TLX_SERIAL, 3, 70)]
    assert hass.states.get(rate).state == "70"
    await dongle.close()


async def test_read_back_mismatch_raises_repair_issue(
    hass: HomeAssistant, free_port: int, freezer: FrozenDateTimeFactory, caplog: Any
) -> None:
    """The inverter keeps 100 %: the state says 100, a repair issue says what happened."""
    fake = FakeCommands(TLX_HOLDING)
    fake.stuck[3] = 100
    entry, dongle = await _start(hass, free_port, fake)
    rate = _entity(hass, entry, "active_power_rate")
    caplog.set_level("INFO")
    await hass.services.async_call(
        "number", "set_value", {"entity_id": rate, "value": 40}, blocking=True
    )
    assert hass.states.get(rate).state == "100"
    issue_id = f"readback_mismatch_{TLX_SERIAL}_3_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {
        "inverter": TLX_SERIAL,
        "register": "3",
        "written": "40",
        "readback": "100",
    }
    assert "changed from 100 to 40 (read back 100)" in caplog.text
    # A later write that reads back what was written clears the issue.
    fake.stuck.clear()
    freezer.tick(10)
    await hass.services.async_call(
        "number", "set_value", {"entity_id": rate, "value": 40}, blocking=True
    )
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    await dongle.close()


@pytest.mark.parametrize(
    ("failure", "key"),
    [
        (CommandTimeout("no answer in 10 s"), "command_timeout"),
        (CommandRejected("result 1"), "command_rejected"),
        (CommandUnavailable("disconnected"), "commands_unavailable"),
        (CommandError("closed"), "command_failed"),
    ],
)
async def test_failed_write_keeps_old_state(
    hass: HomeAssistant, free_port: int, failure: CommandError, key: str
) -> None:
    """A command failure: translated HomeAssistantError, the old state stays."""
    fake = FakeCommands(TLX_HOLDING)
    entry, dongle = await _start(hass, free_port, fake)
    rate = _entity(hass, entry, "active_power_rate")
    fake.fail = failure
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "number", "set_value", {"entity_id": rate, "value": 10}, blocking=True
        )
    assert err.value.translation_key == key
    assert err.value.translation_domain == DOMAIN
    assert hass.states.get(rate).state == "100"
    assert fake.writes == [(TLX_SERIAL, 3, 10)]
    await dongle.close()


async def test_unavailable_when_commands_are_not(hass: HomeAssistant, free_port: int) -> None:
    """The entities follow the listener's availability; writing is refused meanwhile."""
    fake = FakeCommands(TLX_HOLDING)
    entry, dongle = await _start(hass, free_port, fake)
    rate = _entity(hass, entry, "active_power_rate")
    fake.available = False
    entry.runtime_data.async_update_device(TLX_SERIAL)
    assert hass.states.get(rate).state == STATE_UNAVAILABLE
    with pytest.raises(HomeAssistantError):
        await entry.runtime_data.control.async_write(TLX_SERIAL, 3, 50)
    assert fake.writes == []
    await dongle.close()


async def test_switch_and_select(
    hass: HomeAssistant, free_port: int, freezer: FrozenDateTimeFactory
) -> None:
    """Enabled risky entities: off writes 0 to holding 0, "ct" writes 3 to holding 122."""
    fake = FakeCommands(TLX_HOLDING)
    entry, dongle = await _start(hass, free_port, fake)
    registry = er.async_get(hass)
    switch = _entity(hass, entry, "inverter_on")
    select = _entity(hass, entry, "export_limit_mode")
    for entity_id in (switch, select):
        registry.async_update_entity(entity_id, disabled_by=None)
    # Home Assistant reloads the entry 30 s after entities were enabled.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await hass.async_block_till_done()
    entry.runtime_data.control.commands = fake
    await _send_record(hass, free_port)
    assert hass.states.get(switch).state == "on"
    assert hass.states.get(select).state == "disabled"
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    await hass.services.async_call(
        "select", "select_option", {"entity_id": select, "option": "ct"}, blocking=True
    )
    assert fake.writes == [(TLX_SERIAL, 0, 0), (TLX_SERIAL, 122, 3)]
    assert hass.states.get(switch).state == "off"
    assert hass.states.get(select).state == "ct"
    freezer.tick(10)
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert fake.writes[-1] == (TLX_SERIAL, 0, 1)
    assert hass.states.get(switch).state == "on"
    await dongle.close()


async def test_sph_controls(hass: HomeAssistant, free_port: int) -> None:
    """An inverter set to SPH in the options gets the hybrid's battery controls."""
    fake = FakeCommands(SPH_HOLDING)
    entry, dongle = await _start(hass, free_port, fake, inverter_families={TLX_SERIAL: "sph"})
    assert fake.reads == [
        (TLX_SERIAL, 0, 3),
        (TLX_SERIAL, 122, 123),
        (TLX_SERIAL, 1044, 1044),
        (TLX_SERIAL, 1070, 1071),
        (TLX_SERIAL, 1090, 1092),
    ]
    assert len(_control_entities(hass, entry)) == 10
    priority = _entity(hass, entry, "priority_mode")
    assert hass.states.get(priority).state == "load_first"
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": priority, "option": "battery_first"},
        blocking=True,
    )
    assert fake.writes == [(TLX_SERIAL, 1044, 1)]
    assert hass.states.get(_entity(hass, entry, "ac_charge")).state == "off"
    await dongle.close()


async def test_actions_allow_list(hass: HomeAssistant, free_port: int) -> None:
    """Actions: reads within the family's groups, writes of its control registers only."""
    fake = FakeCommands({**TLX_HOLDING, 3000: 1000})
    entry, dongle = await _start(hass, free_port, fake)
    device = dr.async_get(hass).async_get_device({(DOMAIN, TLX_SERIAL)})
    assert device is not None
    result = await hass.services.async_call(
        DOMAIN,
        "read_registers",
        {"device_id": device.id, "register": 0, "count": 4},
        blocking=True,
        return_response=True,
    )
    assert result == {"registers": {"0": 1, "1": 0, "2": 0, "3": 100}}
    refusals = [
        ("read_registers", {"register": 124, "count": 2}, "read_not_allowed"),
        ("read_registers", {"register": 1000, "count": 1}, "read_not_allowed"),
        ("write_register", {"register": 30, "value": 1}, "register_not_allowed"),
        ("write_register", {"register": 1044, "value": 1}, "register_not_allowed"),
    ]
    reads = len(fake.reads)
    for service, data, key in refusals:
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN,
                service,
                {"device_id": device.id, **data},
                blocking=True,
                return_response=service == "read_registers",
            )
        assert err.value.translation_key == key, (service, data)
    assert fake.writes == []
    assert len(fake.reads) == reads
    result = await hass.services.async_call(
        DOMAIN,
        "write_register",
        {"device_id": device.id, "register": 3, "value": 50},
        blocking=True,
        return_response=True,
    )
    assert result == {"register": 3, "value": 50}
    logger = dr.async_get(hass).async_get_device({(DOMAIN, entry.entry_id)})
    assert logger is not None
    for device_id in (logger.id, "no-such-device"):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN,
                "write_register",
                {"device_id": device_id, "register": 3, "value": 50},
                blocking=True,
            )
        assert err.value.translation_key == "not_an_inverter"
    await dongle.close()


async def test_read_action_failure_translated(hass: HomeAssistant, free_port: int) -> None:
    """A read that times out through the action: translated error, nothing unhandled."""
    fake = FakeCommands(TLX_HOLDING)
    entry, dongle = await _start(hass, free_port, fake)
    device = dr.async_get(hass).async_get_device({(DOMAIN, TLX_SERIAL)})
    assert device is not None
    fake.fail = CommandTimeout("no answer")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN,
            "read_registers",
            {"device_id": device.id, "register": 3},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "command_timeout"
    fake.available = False
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN,
            "read_registers",
            {"device_id": device.id, "register": 3},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "commands_unavailable"
    assert entry.runtime_data.control.value(TLX_SERIAL, 3) == 100
    await dongle.close()
