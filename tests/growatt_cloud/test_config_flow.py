"""Config, reauth, reconfigure and options flows of the Growatt cloud kind."""

from __future__ import annotations

from typing import Any
from unittest.mock import AsyncMock

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.growatt_cloud.account import account_key
from custom_components.pv_monitor.growatt_cloud.api.client import hash_password
from custom_components.pv_monitor.growatt_cloud.api.models import AuthType

from .fake import PASSWORD, TOKEN, USERNAME, FakeGrowatt, fake_cloud  # noqa: F401
from .fixtures import PLANT, V1_PLANT, make_entry

pytestmark = pytest.mark.usefixtures("mock_setup_entry")


async def start(hass: HomeAssistant, method: str) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert "growatt_cloud" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "growatt_cloud"}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["growatt_cloud_password", "growatt_cloud_token"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": f"growatt_cloud_{method}"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == f"growatt_cloud_{method}"
    return result


PASSWORD_INPUT = {"username": USERNAME, "password": PASSWORD, "region": "other_regions"}
TOKEN_INPUT = {"token": TOKEN, "region": "north_america"}


async def test_password_multi_plant(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    mock_setup_entry: AsyncMock,
    hass_storage: dict[str, Any],
) -> None:
    """Password login, two plants: all chosen by default, one entry for the account.

    Only the password hash is stored; the flow's session and its two requests (login, plant
    list) are handed to the account's store.
    """
    result = await start(hass, "password")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PASSWORD_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "growatt_cloud_plant"
    schema = result["data_schema"].schema
    field = next(key for key in schema if key == "plant_ids")
    assert field.default() == ["828578", "107658"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"plant_ids": []})
    assert result["errors"] == {"base": "growatt_cloud_no_plant"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"plant_ids": ["828578", "107658"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "HomeSolar1, my plant"
    data = {
        "kind": "growatt_cloud",
        "auth_type": "password",
        "region": "other_regions",
        "username": USERNAME,
        "password_hash": hash_password(PASSWORD),
    }
    key = account_key(data)
    assert result["result"].unique_id == f"growatt_cloud_account_{key}"
    assert result["data"] == {
        **data,
        "plant_ids": ["828578", "107658"],
        "plants": {"828578": "HomeSolar1", "107658": "my plant"},
    }
    assert result["options"] == {"poll_interval": 5, "daily_budget": 200}
    assert fake_cloud.logins == 1
    assert len(mock_setup_entry.mock_calls) == 1
    stored = hass_storage[f"pv_monitor.growatt_cloud_{key}"]["data"]
    assert stored["session"]["user_id"] == "4242"
    assert stored["session"]["cookies"]["JSESSIONID"] == "S0001"
    assert len(stored["requests"]) == 2


async def test_one_plant_of_two(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    """Choosing one plant makes an entry of that plant only, titled by it."""
    result = await start(hass, "password")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PASSWORD_INPUT)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"plant_ids": ["107658"]}
    )
    assert result["title"] == "my plant"
    assert result["data"]["plants"] == {"107658": "my plant"}


async def test_token_single_plant_region(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    """Token login with one plant creates the entry at once, with the chosen region."""
    fake_cloud.plant_ids = (V1_PLANT,)
    result = await start(hass, "token")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], TOKEN_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Home"
    assert result["data"]["region"] == "north_america"
    assert result["data"]["token"] == TOKEN
    assert result["data"]["auth_type"] == "token"
    assert fake_cloud.requests == ["v1/plant/list"]


@pytest.mark.parametrize(
    ("method", "setup", "error"),
    [
        ("password", {"login_answer": "shinephone_login_bad_password"}, "invalid_auth"),
        ("password", {"login_answer": "shinephone_login_locked"}, "account_locked"),
        ("password", {"fail_status": 500}, "cannot_connect"),
        ("token", {"v1_error": 10012}, "rate_limited"),
        ("token", {"v1_error": 10001}, "cannot_connect"),
        ("token", {"fail_status": 401}, "invalid_auth"),
        ("token", {"blocked": True}, "rate_limited"),
    ],
)
async def test_login_errors_then_success(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
    method: str,
    setup: dict[str, Any],
    error: str,
) -> None:
    """Each failure shows its error on the form; fixing it creates the entry.

    A CDN's 403 (no API answer) is not "invalid credentials": it is shown as a rate limit.
    """
    fake_cloud.plant_ids = (PLANT, V1_PLANT)
    for key, value in setup.items():
        setattr(fake_cloud, key, value)
    user_input = PASSWORD_INPUT if method == "password" else TOKEN_INPUT
    result = await start(hass, method)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    if error == "account_locked":
        assert result["description_placeholders"]["until"] != "?"
    for key in setup:
        setattr(fake_cloud, key, False if key == "blocked" else None)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_no_plants_and_already_configured(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    fake_cloud.plant_ids = ()
    result = await start(hass, "token")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], TOKEN_INPUT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_plants"

    fake_cloud.plant_ids = (PLANT,)
    make_entry(hass)
    result = await start(hass, "password")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PASSWORD_INPUT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "growatt_cloud_already_configured"


async def test_reauth_password(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    """Reauth asks username and password again; a wrong one shows an error."""
    entry = make_entry(hass)
    hass.config_entries.async_update_entry(entry, data={**entry.data, "password_hash": "old"})
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "growatt_cloud_reauth"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": USERNAME, "password": "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": USERNAME, "password": PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data["password_hash"] == hash_password(PASSWORD)


async def test_reauth_token_wrong_plant(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    """A token of an account without the entry's plant is refused."""
    entry = make_entry(hass, AuthType.TOKEN)
    fake_cloud.plant_ids = ("7654321",)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"token": TOKEN})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_plant"

    fake_cloud.plant_ids = (V1_PLANT,)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"token": "new"})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"token": TOKEN})
    assert result["reason"] == "reauth_successful"


async def test_reconfigure(
    hass: HomeAssistant,
    fake_cloud: FakeGrowatt,  # noqa: F811
) -> None:
    """Reconfigure changes region and credentials of the same plant."""
    entry = make_entry(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_growatt_cloud"
    fake_cloud.fail_status = 500
    new = {"username": USERNAME, "password": PASSWORD, "region": "australia_new_zealand"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new)
    assert result["errors"] == {"base": "cannot_connect"}
    fake_cloud.fail_status = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["region"] == "australia_new_zealand"

    token_entry = make_entry(hass, AuthType.TOKEN)
    hass.config_entries.async_update_entry(
        token_entry, unique_id="7654321", data={**token_entry.data, "plant_id": "999"}
    )
    result = await token_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"token": TOKEN, "region": "china"}
    )
    assert result["reason"] == "wrong_plant"


async def test_options(hass: HomeAssistant) -> None:
    """Poll interval (at least 5 minutes) and daily budget."""
    entry = make_entry(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "growatt_cloud"
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {"poll_interval": 2, "daily_budget": 200}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"poll_interval": 10, "daily_budget": 150}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {"poll_interval": 10, "daily_budget": 150}
