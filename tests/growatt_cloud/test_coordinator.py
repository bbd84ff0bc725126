"""The Growatt cloud coordinator and sensors against the aiohttp fake on loopback."""

from __future__ import annotations

from datetime import timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    mock_restore_cache_with_extra_data,
)

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.diagnostics import async_get_config_entry_diagnostics
from custom_components.pv_monitor.growatt_cloud.api.client import hash_password
from custom_components.pv_monitor.growatt_cloud.api.models import AuthType
from custom_components.pv_monitor.growatt_cloud.coordinator import GrowattCloudCoordinator
from custom_components.pv_monitor.growatt_cloud.sensor import value_description

from .fake import PASSWORD, TOKEN, USERNAME, FakeGrowatt, fake_cloud  # noqa: F401
from .fixtures import PLANT, PLANT_POWER, V1_PLANT, make_entry, setup


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Move time on in one-minute steps, firing every timer that falls due."""
    steps = int(delta.total_seconds() // 60)
    for _ in range(steps):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        # Polls run as background tasks doing real I/O: let them finish before time moves.
        await hass.async_block_till_done(wait_background_tasks=True)


def entity_id(hass: HomeAssistant, unique_id: str) -> str:
    found = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id)
    assert found is not None, unique_id
    return found


def state(hass: HomeAssistant, unique_id: str) -> str:
    current = hass.states.get(entity_id(hass, unique_id))
    assert current is not None
    return current.state


@pytest.fixture(autouse=True)
def _start_of_day(freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to("2026-06-21 06:00:00+00:00")


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_full_day_one_login_within_budget(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """A whole day of polls: exactly one login, the requests stay under the budget."""
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    coordinator: GrowattCloudCoordinator = entry.runtime_data
    # 4 readable devices: plant list + tlx + 2 mix + inverter + storage = 6 per poll.
    assert coordinator.update_interval == timedelta(hours=24) * 6 / 180

    await advance(hass, freezer, timedelta(hours=24))
    assert fake_cloud.logins == 1
    # Everything sent in the last 24 h, counted by the server and by the guard.
    assert coordinator.requests_24h <= 200
    assert fake_cloud.requests.count("newTwoLoginAPI.do") == 1
    assert fake_cloud.requests.count("newTwoPlantAPI.do") == 2  # set-up and a day later
    polls = fake_cloud.requests.count("PlantListAPI.do")
    assert 25 <= polls <= 31
    assert int(state(hass, f"growatt_cloud_{PLANT}_cloud_requests")) == coordinator.requests_24h

    # Plant and device sensors; devices hang below the plant. The plant list says "0 W":
    # the plant's power is the sum of its devices.
    assert state(hass, f"growatt_cloud_{PLANT}_energy_total") == "94.1"
    assert state(hass, f"growatt_cloud_{PLANT}_current_power") == PLANT_POWER
    assert state(hass, f"growatt_cloud_{PLANT}_AB12345678_pv1_voltage") == "351.2"
    assert state(hass, f"growatt_cloud_{PLANT}_CD87654321_battery_soc") == "67.0"
    assert state(hass, f"growatt_cloud_{PLANT}_GH55667788_output_power") == "310.0"
    devices = dr.async_get(hass)
    plant = devices.async_get_device({(DOMAIN, f"growatt_cloud_{PLANT}")})
    assert plant is not None
    tlx = devices.async_get_device({(DOMAIN, f"growatt_cloud_{PLANT}_AB12345678")})
    assert tlx is not None
    assert tlx.via_device_id == plant.id
    assert tlx.name == "Roof inverter"
    assert tlx.serial_number == "AB12345678"
    mix = devices.async_get_device({(DOMAIN, f"growatt_cloud_{PLANT}_CD87654321")})
    assert mix is not None
    assert mix.name == "SPH hybrid inverter CD87654321"
    assert devices.async_get_device({(DOMAIN, f"growatt_cloud_{PLANT}_MT99887766")}) is None

    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_budget_guard_small_budget(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """With a tight budget the interval stretches and a day stays under it."""
    entry = make_entry(hass, daily_budget=60)
    await setup(hass, entry)
    await advance(hass, freezer, timedelta(hours=30))
    assert entry.runtime_data.requests_24h <= 60
    window_start = len(fake_cloud.requests)
    await advance(hass, freezer, timedelta(hours=24))
    assert len(fake_cloud.requests) - window_start <= 60
    assert fake_cloud.logins == 1


async def test_session_expiry_relogin(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """An expired session costs one more login, no failure."""
    entry = init_integration
    fake_cloud.expire_sessions()
    await advance(hass, freezer, timedelta(hours=1))
    assert fake_cloud.logins == 2
    assert entry.runtime_data.last_update_success


async def test_bad_password_at_setup_starts_reauth(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    """Login answer 502 at set-up: the entry fails with auth and asks for reauth."""
    fake_cloud.login_answer = "shinephone_login_bad_password"
    entry = make_entry(hass)
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert fake_cloud.logins == 1


async def test_bad_password_later_starts_reauth_and_stops_polling(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """Password changed while running: 502 on the next login -> reauth, no more polls."""
    fake_cloud.expire_sessions()
    fake_cloud.login_answer = "shinephone_login_bad_password"
    await advance(hass, freezer, timedelta(hours=1))
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    logins = fake_cloud.logins
    assert logins == 2
    await advance(hass, freezer, timedelta(hours=3))
    assert fake_cloud.logins == logins


async def test_locked_account_pauses_with_repair_issue(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """507 at set-up: loaded but paused, a repair issue says until when, then resumes."""
    fake_cloud.login_answer = "shinephone_login_locked"
    entry = make_entry(hass)
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    coordinator: GrowattCloudCoordinator = entry.runtime_data
    issue_id = f"growatt_cloud_account_locked_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    until = dt_util.as_local(dt_util.utcnow() + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M")
    assert issue.translation_placeholders == {"plant": "Home", "until": until}
    assert state(hass, f"growatt_cloud_{PLANT}_current_power") == STATE_UNAVAILABLE
    assert state(hass, f"growatt_cloud_{PLANT}_cloud_requests") == "1"

    # Nothing is sent while the lock lasts.
    await advance(hass, freezer, timedelta(hours=23, minutes=50))
    assert len(fake_cloud.requests) == 1
    # A forced refresh while locked does not reach the cloud either.
    await coordinator.async_refresh()
    assert len(fake_cloud.requests) == 1

    fake_cloud.login_answer = None
    await advance(hass, freezer, timedelta(minutes=20))
    assert fake_cloud.logins == 2
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert state(hass, f"growatt_cloud_{PLANT}_current_power") == PLANT_POWER
    assert coordinator.locked_until is None


async def test_lock_while_running(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """A lock on a re-login pauses polling for the lock's duration."""
    entry = init_integration
    fake_cloud.expire_sessions()
    fake_cloud.login_answer = "shinephone_login_locked"
    await advance(hass, freezer, timedelta(hours=1))
    coordinator: GrowattCloudCoordinator = entry.runtime_data
    assert coordinator.locked_until is not None
    assert coordinator.update_interval == timedelta(hours=24)
    assert fake_cloud.logins == 2


async def test_outage_backs_off_and_logs_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """HTTP 500: exponential backoff, one error in the log, recovery logged once."""
    entry = init_integration
    coordinator: GrowattCloudCoordinator = entry.runtime_data
    fake_cloud.fail_status = 500
    intervals = []
    for _ in range(4):
        before = len(fake_cloud.requests)
        while len(fake_cloud.requests) == before:
            await advance(hass, freezer, timedelta(minutes=5))
        intervals.append(coordinator.update_interval)
    assert intervals == [timedelta(minutes=m) for m in (10, 20, 40, 80)]
    assert state(hass, f"growatt_cloud_{PLANT}_current_power") == STATE_UNAVAILABLE
    # Lifetime counters keep their value through the outage.
    assert state(hass, f"growatt_cloud_{PLANT}_energy_total") == "94.1"
    errors = [
        r for r in caplog.records if r.levelno >= logging.ERROR and "growatt" in r.message.lower()
    ]
    assert len(errors) == 1
    fake_cloud.fail_status = None
    await advance(hass, freezer, timedelta(minutes=90))
    assert coordinator.last_update_success
    assert coordinator.failures == 0
    assert state(hass, f"growatt_cloud_{PLANT}_current_power") == PLANT_POWER


async def test_outage_at_setup_is_not_ready(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    fake_cloud.fail_status = 502
    entry = make_entry(hass)
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_token_rate_limit_backs_off(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """OpenAPI 10012: the next poll waits twice as long each time."""
    entry = make_entry(hass, AuthType.TOKEN)
    await setup(hass, entry)
    coordinator: GrowattCloudCoordinator = entry.runtime_data
    # plant data + tlx + mix = 3 requests a poll; the inverter (type 1) is not readable.
    assert coordinator.update_interval == timedelta(hours=24) * 3 / 180
    assert state(hass, f"growatt_cloud_{V1_PLANT}_SARN744005_grid_import_energy_total") == "11991.1"
    # V1 plant power: the documented kW x 1000 (HA core's test data: 2.5 kW).
    assert state(hass, f"growatt_cloud_{V1_PLANT}_current_power") == "2500.0"
    assert fake_cloud.logins == 0
    fake_cloud.v1_error = 10012
    await advance(hass, freezer, timedelta(minutes=25))
    assert coordinator.update_interval == timedelta(minutes=10)
    await advance(hass, freezer, timedelta(minutes=10))
    assert coordinator.update_interval == timedelta(minutes=20)
    fake_cloud.v1_error = None
    await advance(hass, freezer, timedelta(minutes=20))
    assert coordinator.update_interval == timedelta(hours=24) * 3 / 180


async def test_token_refused_starts_reauth(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    entry = make_entry(hass, AuthType.TOKEN)
    hass.config_entries.async_update_entry(entry, data={**entry.data, "token": "revoked"})
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert hass.config_entries.flow.async_progress()[0]["context"]["source"] == SOURCE_REAUTH


async def test_lifetime_never_drops_and_daily_resets_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    fake_cloud: FakeGrowatt,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """Night-time zeros never lower lifetime totals; daily counters reset at a new day."""
    entry = init_integration
    tlx = fake_cloud.answers["shinephone_tlx_detail"]["data"]
    plants = fake_cloud.answers["shinephone_plant_list"]["back"]["data"]
    tlx["eacTotal"] = "0"
    tlx["eacToday"] = "2.0"
    plants[0]["totalEnergy"] = "0 kWh"
    await advance(hass, freezer, timedelta(hours=1))
    assert state(hass, f"growatt_cloud_{PLANT}_AB12345678_energy_total") == "12500.3"
    assert state(hass, f"growatt_cloud_{PLANT}_energy_total") == "94.1"
    # Same day: a lower daily value is ignored.
    assert state(hass, f"growatt_cloud_{PLANT}_AB12345678_energy_today") == "8.4"
    coordinator: GrowattCloudCoordinator = entry.runtime_data
    assert coordinator.guards[("AB12345678", "energy_total")].dropped > 0
    # Next (local) day: the daily counter may go back.
    await advance(hass, freezer, timedelta(hours=24))
    assert state(hass, f"growatt_cloud_{PLANT}_AB12345678_energy_today") == "2.0"


async def test_restored_lifetime_counter(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    """A restored lifetime value above a night-time 0 is kept."""
    fake_cloud.answers["shinephone_plant_list"]["back"]["data"][0]["totalEnergy"] = "0"
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State("sensor.home_lifetime_energy", "12345.6"),
                {"native_value": 12345.6, "native_unit_of_measurement": "kWh"},
            )
        ],
    )
    er.async_get(hass).async_get_or_create(
        "sensor",
        DOMAIN,
        f"growatt_cloud_{PLANT}_energy_total",
        suggested_object_id="home_lifetime_energy",
    )
    entry = make_entry(hass)
    await setup(hass, entry)
    assert state(hass, f"growatt_cloud_{PLANT}_energy_total") == "12345.6"
    # A restored value of a device the cloud no longer lists makes no entity.
    coordinator: GrowattCloudCoordinator = entry.runtime_data
    before = len(hass.states.async_entity_ids())
    coordinator.restore_value("GONE000001", "energy_total", 5.0)
    coordinator.async_update_listeners()
    await hass.async_block_till_done()
    assert len(hass.states.async_entity_ids()) == before


def test_value_descriptions() -> None:
    """Local-listener keys the cloud delivers get the local unit and translation key."""
    soc = value_description("battery_soc")
    assert soc is not None
    assert soc.device_class == "battery"
    per_string = value_description("pv1_energy_total")
    assert per_string is not None
    assert per_string.entity_registry_enabled_default is False
    assert value_description("status") is None
    assert value_description("not_a_key") is None


async def test_diagnostics_redacted(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    """No credentials, token, location or full serial in the download."""
    for auth in (AuthType.PASSWORD, AuthType.TOKEN):
        entry = make_entry(hass, auth)
        await setup(hass, entry)
        diagnostics = await async_get_config_entry_diagnostics(hass, entry)
        text = repr(diagnostics)
        for secret in (USERNAME, hash_password(PASSWORD), TOKEN, "AB12345678", "XGD1234567"):
            assert secret not in text
        assert "S0001" not in text  # the login session's cookie
        assert "counters" in diagnostics["runtime"]
        assert diagnostics["runtime"]["requests_24h"] > 0
        assert diagnostics["entry"]["data"]["plant_id"] in (PLANT, V1_PLANT)
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.config_entries.async_remove(entry.entry_id)
