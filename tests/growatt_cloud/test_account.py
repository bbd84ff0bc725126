"""One account: session and budget across restarts, account entries, stale devices, guards."""

from __future__ import annotations

from datetime import date, timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor import async_remove_config_entry_device
from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.growatt_cloud.api.models import DeviceType, Plant
from custom_components.pv_monitor.growatt_cloud.coordinator import GrowattCloudCoordinator
from custom_components.pv_monitor.growatt_cloud.energy import plant_lifetime, plant_power

from .fake import PASSWORD, USERNAME, FakeGrowatt, fake_cloud  # noqa: F401
from .fixtures import PLANT, PLANT_POWER, make_entry, setup
from .test_coordinator import advance, state


def window_max(fake: FakeGrowatt) -> int:
    """Most requests the server saw in any 24 hours."""
    times = fake.request_times
    return max(
        (sum(1 for t in times if start <= t < start + timedelta(hours=24)) for start in times),
        default=0,
    )


@pytest.fixture(autouse=True)
def _morning(freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to("2026-06-21 06:00:00+00:00")


async def test_budget_and_session_survive_three_restarts(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """Three restarts in 24 hours: one login in all, never more than the budget a day."""
    entry = make_entry(hass, daily_budget=60)
    await setup(hass, entry)
    for _ in range(3):
        await advance(hass, freezer, timedelta(hours=6))
        before = entry.runtime_data.requests_24h
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        # The count survived the restart (plus this set-up's own poll).
        assert entry.runtime_data.requests_24h >= before
    await advance(hass, freezer, timedelta(hours=30))
    assert fake_cloud.logins == 1
    assert window_max(fake_cloud) <= 60
    assert entry.runtime_data.requests_24h <= 60


async def test_flow_session_is_handed_to_the_entry(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    """The flow logs in; the entry it creates polls with that session: one login in all."""
    fake_cloud.plant_ids = (PLANT,)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "growatt_cloud"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "growatt_cloud_password"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"username": USERNAME, "password": PASSWORD, "region": "other_regions"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert fake_cloud.logins == 1
    # The flow's two requests count against the account's budget too.
    coordinator: GrowattCloudCoordinator = entry.runtime_data
    assert coordinator.requests_24h == len(fake_cloud.requests)


async def test_account_entry_polls_all_its_plants_with_one_list(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """An account entry of two plants: one plant list per poll, sensors for both."""
    entry = make_entry(hass)
    data = {k: v for k, v in entry.data.items() if k not in ("plant_id", "plant_name")}
    hass.config_entries.async_update_entry(
        entry,
        unique_id="growatt_cloud_account_x",
        data={
            **data,
            "plant_ids": [PLANT, "107658"],
            "plants": {PLANT: "HomeSolar1", "107658": "my plant"},
        },
    )
    await setup(hass, entry)
    assert state(hass, f"growatt_cloud_{PLANT}_current_power") == PLANT_POWER
    # The second plant's list power is not 0: it is used as given.
    assert state(hass, "growatt_cloud_107658_current_power") == "142.0"
    assert state(hass, "growatt_cloud_107658_energy_total") == "114.9"
    assert fake_cloud.requests.count("PlantListAPI.do") == 1
    assert fake_cloud.requests.count("newTwoPlantAPI.do") == 2
    await advance(hass, freezer, timedelta(hours=3))
    assert fake_cloud.logins == 1


async def test_per_plant_entries_of_one_account_share_it(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two older per-plant entries of one account: one login, one budget between them."""
    first = make_entry(hass)
    second = make_entry(hass)
    hass.config_entries.async_update_entry(
        second, unique_id="107658", data={**second.data, "plant_id": "107658"}
    )
    await setup(hass, first)  # sets up every entry of the domain
    assert second.state is ConfigEntryState.LOADED
    assert first.runtime_data.account is second.runtime_data.account
    await advance(hass, freezer, timedelta(hours=24))
    assert fake_cloud.logins == 1
    assert window_max(fake_cloud) <= 200
    assert await hass.config_entries.async_unload(first.entry_id)
    assert second.runtime_data.account.users == {second.entry_id}


async def test_cdn_block_backs_off_without_reauth(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 403 without the API's answer: back off, no reauthentication, no new login."""
    entry = init_integration
    coordinator: GrowattCloudCoordinator = entry.runtime_data
    fake_cloud.blocked = True
    await advance(hass, freezer, timedelta(hours=2))
    assert not coordinator.last_update_success
    assert coordinator.update_interval is not None
    assert coordinator.update_interval >= timedelta(minutes=20)
    flows = hass.config_entries.flow.async_progress()
    assert SOURCE_REAUTH not in [flow["context"]["source"] for flow in flows]
    fake_cloud.blocked = False
    await advance(hass, freezer, timedelta(hours=2))
    assert coordinator.last_update_success
    assert fake_cloud.logins == 1


async def test_device_leaving_the_plant_is_removed(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A device gone from the daily device list leaves the registry; only stale ones may
    be deleted by the user. The log line names it by its redacted serial."""
    assert await async_setup_component(hass, "config", {})
    entry = make_entry(hass)
    await setup(hass, entry)
    registry = dr.async_get(hass)
    identifier = (DOMAIN, f"growatt_cloud_{PLANT}_EF11223344")
    inverter = registry.async_get_device({identifier})
    assert inverter is not None
    plant = registry.async_get_device({(DOMAIN, f"growatt_cloud_{PLANT}")})
    assert plant is not None
    coordinator: GrowattCloudCoordinator = entry.runtime_data
    assert not coordinator.async_remove_device(inverter)
    assert not coordinator.async_remove_device(plant)
    stale = registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, f"growatt_cloud_{PLANT}_OLD0000001")}
    )
    assert coordinator.async_remove_device(stale)
    assert await async_remove_config_entry_device(hass, entry, stale)
    assert not await async_remove_config_entry_device(hass, entry, inverter)

    devices = fake_cloud.answers["shinephone_device_list"]["deviceList"]
    devices[:] = [d for d in devices if d["deviceSn"] != "EF11223344"]
    await advance(hass, freezer, timedelta(hours=25))
    assert registry.async_get_device({identifier}) is None
    assert "EF11223344" not in coordinator.data.values
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("custom_components")]
    assert any("Growatt device EF1******* left plant" in line for line in ours)
    assert not any("EF11223344" in line for line in ours)


async def test_spike_is_held_and_logged_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1,000,000 kWh from the cloud once: not published, counted, one log line."""
    entry = init_integration
    tlx = fake_cloud.answers["shinephone_tlx_detail"]["data"]
    tlx["eacTotal"] = "1000000"
    await advance(hass, freezer, timedelta(hours=2))
    unique = f"growatt_cloud_{PLANT}_AB12345678_energy_total"
    assert state(hass, unique) == "12500.3"
    tlx["eacTotal"] = "12500.9"
    await advance(hass, freezer, timedelta(hours=1))
    assert state(hass, unique) == "12500.9"
    coordinator: GrowattCloudCoordinator = entry.runtime_data
    assert coordinator.guards[("AB12345678", "energy_total")].dropped >= 1
    lines = [r for r in caplog.records if "not plausible" in r.message]
    assert len(lines) == 1
    assert lines[0].levelno == logging.WARNING


async def test_confirmed_reset_raises_a_repair_issue(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """An inverter replaced: its lifetime restarts low and stays there: one reset issue."""
    entry = init_integration
    tlx = fake_cloud.answers["shinephone_tlx_detail"]["data"]
    for total in ("1.0", "1.2", "1.5", "1.9"):
        tlx["eacTotal"] = total
        await advance(hass, freezer, timedelta(hours=1))
    assert state(hass, f"growatt_cloud_{PLANT}_AB12345678_energy_total") == "1.9"
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"growatt_cloud_counter_reset_AB12345678_energy_total_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["old"] == "12500.3"


async def test_coarse_plant_total_is_refined(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """ "2.56 MWh" from the plant list: the lifetime moves with today's energy, not in 10s."""
    plants = fake_cloud.answers["shinephone_plant_list"]["back"]["data"]
    plants[0]["totalEnergy"] = "2.56 MWh"
    entry = make_entry(hass)
    await setup(hass, entry)
    unique = f"growatt_cloud_{PLANT}_energy_total"
    assert state(hass, unique) == "2560.0"
    plants[0]["todayEnergy"] = "1.4 kWh"
    await advance(hass, freezer, timedelta(hours=2))
    assert state(hass, unique) == "2561.0"


def test_plant_lifetime_sources() -> None:
    """Fine plant total as it is; coarse: the devices' totals, else today's accumulation."""
    day = date(2026, 6, 21)
    fine = Plant("1", "p", energy_total=94.1, energy_today=0.4)
    assert plant_lifetime(fine, [{}], {}, day) == 94.1
    coarse = Plant("1", "p", energy_total=2560.0, energy_total_step=10.0, energy_today=0.4)
    devices = [{"energy_total": 1300.2}, {"energy_total": 1262.5}]
    assert plant_lifetime(coarse, devices, {}, day) == 2562.7
    state: dict[str, Any] = {}
    assert plant_lifetime(coarse, [{"energy_total": 1.0}, {}], state, day) == 2560.0
    later = Plant("1", "p", energy_total=2560.0, energy_total_step=10.0, energy_today=3.0)
    assert plant_lifetime(later, [], state, day) == 2562.6
    # Next day: the cloud still shows yesterday's 3.0 as "today" until it rolls over.
    next_day = day + timedelta(days=1)
    assert plant_lifetime(later, [], state, next_day) == 2562.6
    morning = Plant("1", "p", energy_total=2560.0, energy_total_step=10.0, energy_today=0.5)
    assert plant_lifetime(morning, [], state, next_day) == 2563.1
    # The coarse total more than a step ahead: we fell behind, resynchronise.
    ahead = Plant("1", "p", energy_total=2580.0, energy_total_step=10.0, energy_today=0.5)
    assert plant_lifetime(ahead, [], state, next_day) == 2580.0
    assert plant_lifetime(Plant("1", "p"), [], {}, day) is None


def test_plant_power_sources() -> None:
    """The plant's own power unless 0, else the sum of its devices (AC, else PV)."""
    assert plant_power(Plant("1", "p", current_power=142.0), [{"ac_power": 5.0}]) == 142.0
    devices = [{"ac_power": 1520.0}, {"pv_power": 2410.0}, {}]
    assert plant_power(Plant("1", "p", current_power=0.0), devices) == 3930.0
    assert plant_power(Plant("1", "p", current_power=0.0), [{}]) == 0.0
    assert plant_power(Plant("1", "p"), []) is None
    assert DeviceType.TLX.value == "tlx"
