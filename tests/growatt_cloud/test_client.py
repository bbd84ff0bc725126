"""The pure Growatt cloud client against the aiohttp fake of both APIs on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
import hashlib

import aiohttp
import pytest

from custom_components.pv_monitor.growatt_cloud.api.budget import RequestBudget
from custom_components.pv_monitor.growatt_cloud.api.client import (
    GrowattOpenApiClient,
    GrowattShinePhoneClient,
    hash_password,
    user_agent,
)
from custom_components.pv_monitor.growatt_cloud.api.errors import (
    GrowattAccountLockedError,
    GrowattAuthError,
    GrowattBlockedError,
    GrowattRateLimitedError,
    GrowattUnavailableError,
)
from custom_components.pv_monitor.growatt_cloud.api.models import (
    Device,
    DeviceType,
    map_fields,
    parse_day,
    parse_energy,
    parse_energy_step,
    parse_number,
    parse_power,
)

from .fake import PASSWORD, TOKEN, USERNAME, FakeGrowatt, fake_cloud  # noqa: F401


@pytest.fixture
async def session(fake_cloud: FakeGrowatt) -> AsyncIterator[aiohttp.ClientSession]:  # noqa: F811
    async with aiohttp.ClientSession() as session:
        yield session


def shinephone(fake: FakeGrowatt, session: aiohttp.ClientSession, password: str = PASSWORD):
    seen: list[str] = []
    client = GrowattShinePhoneClient(
        session, fake.url, USERNAME, hash_password(password), on_request=seen.append
    )
    return client, seen


def test_hash_password() -> None:
    """MD5 hex digest with the zeros at even positions replaced by ``c``."""
    digest = hashlib.md5(b"secret").hexdigest()
    expected = "".join(
        "c" if index % 2 == 0 and char == "0" else char for index, char in enumerate(digest)
    )
    assert hash_password("secret") == expected
    # A digest with a zero at an even index: "a" -> 0cc175b9c0f1b6a831c399e269772661.
    assert hash_password("a") == "ccc175b9c0f1b6a831c399e269772661"
    # The test vector of Sjord/growatt_api_client tests/test_api.py (test_hash).
    assert hash_password("banaan") == "31d674be46e1ba6b54388a671cc9accb"


async def test_login_once_and_reuse_cookie(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """Many calls, one login; every request passes the hook.

    The plant list is the real answer quoted in Sjord/growatt_api_client issue 28 (its
    ``currentPower`` "0 W") and in that client's tests/test_api.py ("142 W", "114.9 kWh").
    """
    client, seen = shinephone(fake_cloud, session)
    plants = await client.plants()
    assert [p.plant_id for p in plants] == ["828578", "107658"]
    home, other = plants
    assert (home.name, home.current_power, home.energy_today) == ("HomeSolar1", 0.0, 0.4)
    assert (home.energy_total, home.energy_total_step) == (94.1, 0.1)
    assert (other.current_power, other.energy_total) == (142.0, 114.9)
    for _ in range(5):
        devices = await client.devices("1234567")
        for device in devices:
            await client.device_data("1234567", device)
    assert fake_cloud.logins == 1
    assert client.logins == 1
    assert seen == fake_cloud.requests
    assert client.requests == len(fake_cloud.requests)


async def test_device_values(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """Each device type's answer maps onto the local listener's value keys and units."""
    client, _ = shinephone(fake_cloud, session)
    devices = {d.serial: d for d in await client.devices("1234567")}
    assert devices["AB12345678"] == Device(
        serial="AB12345678",
        device_type=DeviceType.TLX,
        alias="Roof inverter",
        model="MIN 4200TL-XE",
        datalogger_serial="XGD1234567",
    )
    assert devices["CD87654321"].alias is None
    assert devices["MT99887766"].device_type is DeviceType.OTHER
    tlx = await client.device_data("1234567", devices["AB12345678"])
    assert tlx is not None
    assert tlx.values["energy_total"] == 12500.3
    assert tlx.values["pv2_energy_today"] == 4.3
    assert tlx.values["inverter_temperature"] == 41.5
    mix = await client.device_data("1234567", devices["CD87654321"])
    assert mix is not None
    assert mix.values["battery_soc"] == 67
    assert mix.values["battery_charge_power"] == 800.0  # 0.8 kW
    assert mix.values["grid_export_power"] == 900.0
    assert mix.values["battery_discharge_energy_total"] == 1380.9
    inverter = await client.device_data("1234567", devices["EF11223344"])
    assert inverter is not None
    assert inverter.values["energy_today"] == 5.1
    storage = await client.device_data("1234567", devices["GH55667788"])
    assert storage is not None
    assert storage.values["battery_soc"] == 88
    assert await client.device_data("1234567", devices["MT99887766"]) is None


async def test_session_expiry_logs_in_again_once(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """A redirect (expired session) costs exactly one new login."""
    client, _ = shinephone(fake_cloud, session)
    await client.plants()
    fake_cloud.expire_sessions()
    assert len(await client.plants()) == 2
    assert fake_cloud.logins == 2
    # An HTML login page instead of JSON also means an expired session.
    fake_cloud.expire_sessions()
    fake_cloud.html_after_login = True
    assert len(await client.devices("1234567")) == 5
    assert fake_cloud.logins == 3


async def test_session_unusable_after_login(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """If even a fresh session is refused, the cloud counts as unavailable."""
    # The login succeeds but sets no session cookie, so every call is redirected.
    fake_cloud.login_answer = "shinephone_login_ok"
    client, _ = shinephone(fake_cloud, session)
    with pytest.raises(GrowattUnavailableError, match="fresh login"):
        await client.plants()
    assert fake_cloud.logins == 2


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("shinephone_login_bad_password", GrowattAuthError),
        ("shinephone_login_locked", GrowattAccountLockedError),
    ],
)
async def test_login_refused(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
    answer: str,
    error: type[Exception],
) -> None:
    """Login ``msg`` 502 is an auth failure, 507 an account lock of ``lockDuration`` h."""
    fake_cloud.login_answer = answer
    client, _ = shinephone(fake_cloud, session)
    with pytest.raises(error) as info:
        await client.plants()
    if isinstance(info.value, GrowattAccountLockedError):
        assert info.value.duration == timedelta(hours=24)
    assert fake_cloud.logins == 1


async def test_login_other_failures(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """Locks without a duration default to 24 h; other refusals are outages."""
    client, _ = shinephone(fake_cloud, session)
    fake_cloud.answers["x_locked"] = {"back": {"success": False, "msg": "507"}}
    fake_cloud.login_answer = "x_locked"
    with pytest.raises(GrowattAccountLockedError) as info:
        await client.login()
    assert info.value.duration == timedelta(hours=24)
    fake_cloud.answers["x_other"] = {"back": {"success": False, "msg": "501"}}
    fake_cloud.login_answer = "x_other"
    with pytest.raises(GrowattUnavailableError, match="501"):
        await client.login()
    fake_cloud.answers["x_nouser"] = {"back": {"success": True}}
    fake_cloud.login_answer = "x_nouser"
    with pytest.raises(GrowattUnavailableError, match="user id"):
        await client.login()
    fake_cloud.answers["x_shape"] = {"back": []}
    fake_cloud.login_answer = "x_shape"
    with pytest.raises(GrowattUnavailableError, match="unexpected"):
        await client.login()


async def test_wrong_password(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    client, _ = shinephone(fake_cloud, session, password="wrong")
    with pytest.raises(GrowattAuthError):
        await client.login()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, GrowattUnavailableError),
        (502, GrowattUnavailableError),
        (429, GrowattRateLimitedError),
    ],
)
async def test_http_errors(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
    status: int,
    error: type[Exception],
) -> None:
    """HTTP 5xx (including a 502 Bad Gateway) is an outage; 429 a rate limit."""
    fake_cloud.fail_status = status
    client, _ = shinephone(fake_cloud, session)
    with pytest.raises(error):
        await client.login()
    v1 = GrowattOpenApiClient(session, fake_cloud.url, TOKEN)
    with pytest.raises(error):
        await v1.plants()


async def test_connection_refused(socket_enabled: None, unused_tcp_port: int) -> None:
    """A server that does not answer is an outage."""
    async with aiohttp.ClientSession() as session:
        client = GrowattShinePhoneClient(
            session, f"http://127.0.0.1:{unused_tcp_port}", USERNAME, "x", timeout=5
        )
        with pytest.raises(GrowattUnavailableError):
            await client.login()


async def test_plant_lookup_and_unexpected_shapes(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    client, _ = shinephone(fake_cloud, session)
    assert (await client.plant("107658")).name == "my plant"
    with pytest.raises(GrowattUnavailableError, match="not in the account"):
        await client.plant("999")
    fake_cloud.answers["shinephone_device_list"] = {"deviceList": {"oops": 1}}
    with pytest.raises(GrowattUnavailableError, match="unexpected"):
        await client.devices("1234567")


async def test_shinephone_history(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """One request per month, ``type=2&date=YYYY-MM`` (growattServer ``Timespan.month``).

    The fake answers ``type=1`` (or a full date) with a day's power curve, as the server
    does: a client asking for that imports nothing.
    """
    end = date(2026, 6, 20)
    fake_cloud.set_history(end, 70)
    client, seen = shinephone(fake_cloud, session)
    days = await client.daily_energy("828578", date(2026, 4, 15), end)
    assert min(days) == date(2026, 4, 15)
    assert max(days) == end
    assert len(days) == 67
    assert days[end] == fake_cloud.history[end]
    assert seen.count("PlantDetailAPI.do") == 3


async def test_openapi(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """Token header, plant list with location, devices by type code, last data.

    ``plant/data`` is Home Assistant core's V1 test data (conftest ``plant_energy_overview``:
    ``current_power`` 2.5 kW) in the documented envelope; W = kW x 1000.
    """
    seen: list[str] = []
    client = GrowattOpenApiClient(session, fake_cloud.url, TOKEN, on_request=seen.append)
    plants = await client.plants()
    assert plants[0].plant_id == "1234567"
    assert plants[0].location["city"] == "Utrecht"
    plant = await client.plant("1234567")
    assert (plant.current_power, plant.energy_today, plant.energy_total) == (2500.0, 12.5, 1250.0)
    devices = await client.devices("1234567")
    assert [d.serial for d in devices] == ["ZT00100001", "BNE9A5100D", "SARN744005"]
    assert [d.device_type for d in devices] == [DeviceType.INVERTER, DeviceType.TLX, DeviceType.MIX]
    assert devices[0].datalogger_serial == "CRAZT00001"
    assert await client.device_data("1234567", devices[0]) is None
    fake_cloud.answers["openapi_tlx_last_data"]["data"] = [{"pac": 5}]
    tlx = await client.device_data("1234567", devices[1])
    assert tlx is not None
    assert tlx.values == {"ac_power": 5.0}
    assert fake_cloud.logins == 0


async def test_openapi_min_documented_example(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """The documented MIN ``tlx_last_data`` example (showdoc 6129822090975531).

    Grid voltage is ``vac1`` = 239.5 V; ``vacr`` is 0 in that example.
    """
    client = GrowattOpenApiClient(session, fake_cloud.url, TOKEN)
    tlx = await client.device_data("1", Device("BNE9A5100D", DeviceType.TLX))
    assert tlx is not None
    assert tlx.values["ac_l1_voltage"] == 239.5
    assert tlx.values["ac_power"] == 2503.8
    assert tlx.values["energy_total"] == 1859.5
    assert tlx.values["pv1_energy_today"] == 13.2
    assert tlx.values["grid_frequency"] == 50.01
    fake_cloud.answers["openapi_tlx_last_data"]["data"]["vac1"] = 0.0
    tlx = await client.device_data("1", Device("BNE9A5100D", DeviceType.TLX))
    assert tlx is not None
    assert tlx.values["ac_l1_voltage"] == 239.5  # vacRs


async def test_openapi_sph_battery_energies(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """SPH through V1: battery charge/discharge energies and load power.

    Two references: the documented ``mix_last_data`` example (showdoc 6129764434976910, wire
    names from GrowattPublicApiPy's aliases: ``echarge1Today``, ``edischargeToday``,
    ``plocalLoadTotal``) and Home Assistant core's ``sph_energy`` test data
    (``edischarge1Today``). ``eChargeToday`` (load from solar) is not battery charge.
    """
    client = GrowattOpenApiClient(session, fake_cloud.url, TOKEN)
    device = Device("SARN744005", DeviceType.MIX)
    mix = await client.device_data("1", device)
    assert mix is not None
    assert mix.values["battery_charge_energy_today"] == 0.2
    assert mix.values["battery_charge_energy_total"] == 6113.2
    assert mix.values["battery_discharge_energy_today"] == 0.4
    assert mix.values["battery_discharge_energy_total"] == 5540.6
    assert mix.values["load_power"] == 0.0
    assert mix.values["load_energy_total"] == 26980.8
    assert mix.values["grid_export_power"] == 38.6
    assert mix.values["grid_voltage"] == 219.9
    assert mix.values["pv_power"] == 3.9
    fake_cloud.mix_fixture = "openapi_mix_last_data_ha_core"
    mix = await client.device_data("1", device)
    assert mix is not None
    assert mix.values["battery_charge_energy_today"] == 5.0
    assert mix.values["battery_charge_energy_total"] == 120.0
    assert mix.values["battery_discharge_energy_today"] == 3.0
    assert mix.values["battery_discharge_energy_total"] == 90.0
    assert mix.values["load_energy_total"] == 1800.0


async def test_openapi_device_list_paged(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """``device/list`` is read page by page, 20 per page, until ``count`` is reached."""
    fake_cloud.extra_devices = 40
    seen: list[str] = []
    client = GrowattOpenApiClient(session, fake_cloud.url, TOKEN, on_request=seen.append)
    devices = await client.devices("1")
    assert len(devices) == 43
    assert len({device.serial for device in devices}) == 43
    assert seen.count("v1/device/list") == 3


async def test_cdn_block_is_not_an_auth_error(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """HTTP 403 with a CDN page (no API body) is a block to back off from, on both APIs."""
    fake_cloud.blocked = True
    with pytest.raises(GrowattBlockedError):
        await GrowattOpenApiClient(session, fake_cloud.url, TOKEN).plant("1")
    client, _ = shinephone(fake_cloud, session)
    with pytest.raises(GrowattBlockedError):
        await client.plants()
    assert fake_cloud.logins == 0  # the login itself was blocked, nothing re-tried


async def test_user_agent_per_install(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """The agent carries a number derived from the install id: stable, and per install."""
    first, second = user_agent("install-a"), user_agent("install-b")
    assert first == user_agent("install-a")
    assert first != second
    assert first.startswith("Dalvik/2.1.0 (Linux; U; Android")
    await GrowattOpenApiClient(session, fake_cloud.url, TOKEN, agent=first).plant("1")
    assert fake_cloud.agents == {first}


async def test_openapi_errors(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """10011/401 refuse the token, 10012 limits the rate, other codes are outages."""
    with pytest.raises(GrowattAuthError):
        await GrowattOpenApiClient(session, fake_cloud.url, "bad").plants()
    client = GrowattOpenApiClient(session, fake_cloud.url, TOKEN)
    fake_cloud.v1_error = 10012
    with pytest.raises(GrowattRateLimitedError):
        await client.plant("1234567")
    fake_cloud.v1_error = 10001
    with pytest.raises(GrowattUnavailableError, match="10001"):
        await client.devices("1234567")
    fake_cloud.v1_error = None
    fake_cloud.fail_status = 401
    with pytest.raises(GrowattAuthError):
        await client.plants()


async def test_openapi_history(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """Seven days per request, within the documented limits (5 minutes apart)."""
    end = date(2026, 6, 20)
    fake_cloud.set_history(end, 30)
    seen: list[str] = []
    client = GrowattOpenApiClient(session, fake_cloud.url, TOKEN, on_request=seen.append)
    days = await client.daily_energy("1234567", end - timedelta(days=6), end)
    assert len(days) == 7
    assert days[end] == fake_cloud.history[end]
    # The server refuses a second call within 5 minutes (10012), as documented.
    with pytest.raises(GrowattRateLimitedError, match="10012"):
        await client.daily_energy("1234567", end - timedelta(days=13), end - timedelta(days=7))
    assert seen.count("v1/plant/energy") == 2


def test_parsers() -> None:
    assert parse_number("12.5") == 12.5
    assert parse_number("67%") == 67
    assert parse_number("1,234.5") == 1234.5
    assert parse_number(True) is None
    assert parse_number("12 kWh") is None
    assert parse_number(None) is None
    assert parse_energy("1.2 MWh") == 1200.0
    assert parse_energy("500 Wh") == 0.5
    assert parse_energy(3) == 3.0
    assert parse_energy("3 lightyears") is None
    assert parse_energy(None) is None
    assert parse_power("1.5 kW") == 1500.0
    assert parse_power("x") is None
    assert map_fields(
        {"pac": "n/a", "ppv": 3}, {"pac": ("ac_power", 1.0), "ppv": ("pv_power", 1.0)}
    ) == {"pv_power": 3.0}
    assert parse_day("2026-06-01", date(2026, 6, 1)) == date(2026, 6, 1)
    assert parse_day("31", date(2026, 6, 1)) is None
    assert parse_day("7", date(2026, 6, 1)) == date(2026, 6, 7)


def test_budget() -> None:
    """The interval keeps a day of polls inside the usable budget and waits for room."""
    budget = RequestBudget(200)
    assert budget.usable == 180
    now = datetime(2026, 6, 21, tzinfo=UTC)
    base = timedelta(minutes=5)
    assert budget.interval(base, 0, now) == timedelta(hours=24) / 180
    assert budget.interval(base, 1, now) == timedelta(hours=24) / 180
    assert budget.interval(timedelta(hours=1), 2, now) == timedelta(hours=1)
    for minute in range(179):
        budget.record(now + timedelta(minutes=minute))
    later = now + timedelta(minutes=180)
    assert budget.count(later) == 179
    assert budget.remaining(later) == 1
    # Two more would exceed: wait until the oldest leaves the window.
    assert budget.interval(base, 2, later) == now + timedelta(hours=24) - later
    assert budget.count(now + timedelta(hours=28)) == 0
    assert RequestBudget(5).usable == 3


async def test_skips_incomplete_items(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """Devices without a serial and history rows without a date are left out."""
    fake_cloud.answers["shinephone_device_list"]["deviceList"].append({"deviceType": "tlx"})
    client, _ = shinephone(fake_cloud, session)
    assert len(await client.devices("1234567")) == 5
    fake_cloud.history = {date(2026, 6, 20): 3.0}
    fake_cloud.bad_history_row = True
    v1 = GrowattOpenApiClient(session, fake_cloud.url, TOKEN)
    assert await v1.daily_energy("1234567", date(2026, 6, 20), date(2026, 6, 20)) == {
        date(2026, 6, 20): 3.0
    }


async def test_session_state_restored_without_login(
    fake_cloud: FakeGrowatt,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    """A persisted session is reused: no login until the cloud refuses it."""
    first, _ = shinephone(fake_cloud, session)
    assert first.session_state() is None
    await first.plants()
    saved = first.session_state()
    assert saved is not None
    assert saved["user_id"] == "4242"
    second, _ = shinephone(fake_cloud, session)
    second.restore_session(saved)
    second.restore_session("garbage")  # ignored
    await second.plants()
    assert fake_cloud.logins == 1
    fake_cloud.expire_sessions()
    await second.plants()
    assert fake_cloud.logins == 2


def test_energy_resolution() -> None:
    """The resolution of an energy text is one unit of its last digit."""
    assert parse_energy_step("2.56 MWh") == 10.0
    assert parse_energy_step("12.5 MWh") == 100.0
    assert parse_energy_step("94.1 kWh") == 0.1
    assert parse_energy_step("3 GWh") == 1_000_000.0
    assert parse_energy_step(94.1) == 0.1
    assert parse_energy_step("n/a") == 0.1
