"""Fix flows of the actionable repair issues (repairs.py and each kind's repairs module).

The issues are raised the way users meet them: a port held by another socket, Growatt's
lock answer (the ShinePhone 507 login answer of the cloud fake's fixtures), a PV system that
produces nothing at noon.
"""

from __future__ import annotations

from datetime import timedelta
import socket
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.repairs import ConfirmRepairFlow, repairs_flow_manager
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.repairs import async_create_fix_flow

from .growatt_cloud.fake import FakeGrowatt, fake_cloud  # noqa: F401
from .growatt_cloud.fixtures import make_entry as cloud_entry, setup as cloud_setup
from .growatt_cloud.test_coordinator import advance
from .growatt_local.fixtures import make_entry as local_entry
from .pv_system.fixtures import setup_roof as pv_setup
from .pv_system.test_runtime import NOON


@pytest.fixture(autouse=True)
async def _repairs(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "repairs", {})


async def _start(hass: HomeAssistant, issue_id: str) -> Any:
    manager = repairs_flow_manager(hass)
    assert manager is not None
    return manager, await manager.async_init(DOMAIN, data={"issue_id": issue_id})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_port_in_use_offers_another_port(hass: HomeAssistant, free_port: int) -> None:
    """Busy port: the flow refuses a busy or taken port, then moves the entry and reloads."""
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", free_port))
    blocker.listen()
    entry = local_entry(free_port)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issue_id = f"port_unavailable_{entry.entry_id}"
    manager, result = await _start(hass, issue_id)
    assert result["type"] is FlowResultType.FORM
    assert result["description_placeholders"]["port"] == str(free_port)

    result = await manager.async_configure(result["flow_id"], {"port": free_port})
    assert result["errors"] == {"port": "port_in_use"}
    # Another entry (not set up) that claims the next port.
    MockConfigEntry(domain=DOMAIN, unique_id=f"growatt_local_{free_port + 1}").add_to_hass(hass)
    result = await manager.async_configure(result["flow_id"], {"port": free_port + 1})
    assert result["errors"] == {"port": "already_configured"}

    new_port = _free_port()
    result = await manager.async_configure(result["flow_id"], {"port": new_port})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.data["port"] == new_port
    assert entry.unique_id == f"growatt_local_{new_port}"
    assert entry.state is ConfigEntryState.LOADED
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    blocker.close()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_cloud_lock_shows_end_and_lowers_budget(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """Locked account: the form says until when; the new budget applies now, is saved at
    the lock's end, and no reload (hence no login) happens during the lock."""
    freezer.move_to("2026-06-21 06:00:00+00:00")
    fake_cloud.login_answer = "shinephone_login_locked"
    entry = cloud_entry(hass)
    await cloud_setup(hass, entry)
    coordinator = entry.runtime_data
    issue_id = f"growatt_cloud_account_locked_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    manager, result = await _start(hass, issue_id)
    placeholders = result["description_placeholders"]
    assert placeholders["until"] == issue.translation_placeholders["until"]
    assert placeholders["budget"] == "200"

    result = await manager.async_configure(result["flow_id"], {"daily_budget": 100})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "budget_lowered"
    assert coordinator.account.budget.daily_budget == 100
    assert entry.options["daily_budget"] == 200  # saving now would reload and log in
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    logins = fake_cloud.logins

    fake_cloud.login_answer = None
    await advance(hass, freezer, timedelta(hours=24, minutes=10))
    assert entry.options["daily_budget"] == 100
    assert fake_cloud.logins > logins  # polling resumed after the lock (and the reload)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.account.budget.daily_budget == 100


async def test_cloud_budget_saved_at_once_without_lock(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    """Once the lock is over (or the poller stopped), the budget is saved at once."""
    entry = cloud_entry(hass)
    await cloud_setup(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    flow = await async_create_fix_flow(
        hass, f"growatt_cloud_account_locked_{entry.entry_id}", {"entry_id": entry.entry_id}
    )
    flow.hass = hass
    result = await flow.async_step_lower_budget({"daily_budget": 50})
    assert result["description_placeholders"]["until"] == "-"
    assert entry.options["daily_budget"] == 50


async def _anomaly_issue(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> Any:
    """A PV system at noon producing nothing under 800 W/m2: (entry, issue id) once raised."""
    freezer.move_to(NOON)
    hass.states.async_set("sensor.pv_power", "0.0", {"unit_of_measurement": "kW"})
    # A plane-of-array sensor makes the model's judgement sound (see the PV anomaly rules).
    hass.states.async_set("sensor.poa", "800", {"unit_of_measurement": "W/m²"})
    entry = await pv_setup(hass, {"poa_irradiance": "sensor.poa", "repair_share": 0.05})
    issue_id = f"pv_system_anomaly_no_production_{entry.entry_id}"
    for _ in range(48):  # at most 4 hours of daylight
        if ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None:
            return entry, issue_id
        await _five_minutes(hass, freezer)
    raise AssertionError("no repair issue in 4 hours")


async def _five_minutes(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(timedelta(minutes=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_anomaly_acknowledge(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Acknowledge removes the issue."""
    _entry, issue_id = await _anomaly_issue(hass, freezer)
    manager, result = await _start(hass, issue_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["acknowledge", "mute"]
    result = await manager.async_configure(result["flow_id"], {"next_step_id": "acknowledge"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_anomaly_mute(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Mute stores the type in the options (reload); the problem sensor stays, no issue."""
    entry, issue_id = await _anomaly_issue(hass, freezer)
    manager, result = await _start(hass, issue_id)
    result = await manager.async_configure(result["flow_id"], {"next_step_id": "mute"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)  # the reload's forecast
    assert entry.options["muted_anomalies"] == ["no_production"]
    assert entry.state is ConfigEntryState.LOADED  # reloaded with the option
    for _ in range(24):  # two hours more: long past the repair share of the day
        await _five_minutes(hass, freezer)
    assert hass.states.get("binary_sensor.roof_no_production").state == "on"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None  # muted


async def test_entry_gone_and_unknown_issue(hass: HomeAssistant) -> None:
    """An issue whose entry was removed, or with no fix flow, gets a plain confirmation."""
    for issue_id in (
        "port_unavailable_gone",
        "growatt_cloud_account_locked_gone",
        "pv_system_anomaly_no_production_gone",
        "something_else",
    ):
        flow = await async_create_fix_flow(hass, issue_id, {"entry_id": "gone"})
        assert isinstance(flow, ConfirmRepairFlow)


async def test_port_flow_address_not_on_this_machine(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """A listen address this machine does not have (TEST-NET-1): another port does not
    help either; the error says why and nothing is saved."""
    entry = local_entry(_free_port())
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data={**entry.data, "host": "192.0.2.1"})
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issue_id = f"port_unavailable_{entry.entry_id}"
    manager, result = await _start(hass, issue_id)
    assert "192.0.2.1" in result["description_placeholders"]["error"]  # the issue's own
    port = entry.data["port"]
    result = await manager.async_configure(result["flow_id"], {"port": _free_port()})
    assert result["errors"] == {"base": "cannot_bind"}
    assert "assign" in result["description_placeholders"]["error"]
    assert entry.data["port"] == port
