"""Config-flow steps of the Growatt cloud kind (``growatt_cloud``).

Menu ``growatt_cloud``: log in with the ShinePhone username and password
(``growatt_cloud_password``) or with an OpenAPI token (``growatt_cloud_token``), each with
the account's region; then ``growatt_cloud_plant`` when the account has several plants not
yet configured: the plants to poll, all by default. One entry per account (unique id
``growatt_cloud_account_<account key>``, data ``plant_ids`` and ``plants``); entries made
before this, one per plant (unique id = plant id, data ``plant_id``), keep working as they
are (both shapes are read; no migration). The flow's login session and the requests it sent
are handed to the account's store, so the entry starts without a second login. The password
itself is never stored, only Growatt's hash of it (what the login sends).
Reauthentication (``growatt_cloud_reauth``) and reconfiguration
(``reconfigure_growatt_cloud``: region and credentials) check that the entry's plants are
still in the account. Options: poll interval and daily request budget.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_PASSWORD, CONF_TOKEN, CONF_USERNAME
from homeassistant.helpers.selector import (
    SelectOptionDict,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..common.flow import KindFlowMixin, OneFormOptionsFlow, choice, number_box, schema_defaults
from ..const import CONF_KIND, DOMAIN, EntryKind
from .account import account_key, async_hand_over, async_user_agent, build_client
from .api.client import DEFAULT_REGION, REGION_URLS, GrowattCloudClient, hash_password
from .api.errors import (
    GrowattAccountLockedError,
    GrowattAuthError,
    GrowattCloudError,
    GrowattRateLimitedError,
)
from .api.models import AuthType, Plant
from .const import (
    CONF_AUTH_TYPE,
    CONF_DAILY_BUDGET,
    CONF_PASSWORD_HASH,
    CONF_PLANT_IDS,
    CONF_PLANTS,
    CONF_POLL_INTERVAL,
    CONF_REGION,
    DEFAULT_DAILY_BUDGET,
    DEFAULT_POLL_INTERVAL,
    MAX_DAILY_BUDGET,
    MAX_POLL_INTERVAL,
    MIN_DAILY_BUDGET,
    MIN_POLL_INTERVAL,
    entry_plants,
)

STEP_PASSWORD: Final = "growatt_cloud_password"
STEP_TOKEN: Final = "growatt_cloud_token"
STEP_PLANT: Final = "growatt_cloud_plant"
STEP_REAUTH: Final = "growatt_cloud_reauth"
STEP_RECONFIGURE: Final = "reconfigure_growatt_cloud"
STEP_OPTIONS: Final = "growatt_cloud"

ABORT_ALREADY_CONFIGURED: Final = "growatt_cloud_already_configured"
ABORT_NO_PLANTS: Final = "no_plants"
ABORT_WRONG_PLANT: Final = "wrong_plant"
ERROR_NO_PLANT: Final = "growatt_cloud_no_plant"

_REGION_SELECTOR: Final = choice(REGION_URLS, translation_key="growatt_region")
_TEXT: Final = TextSelector(TextSelectorConfig(autocomplete="username"))
_SECRET: Final = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
)
_PASSWORD_FIELDS: Final = {
    vol.Required(CONF_USERNAME): _TEXT,
    vol.Required(CONF_PASSWORD): _SECRET,
}
_TOKEN_FIELDS: Final = {vol.Required(CONF_TOKEN): _SECRET}
_REGION_FIELD: Final = {vol.Required(CONF_REGION, default=DEFAULT_REGION): _REGION_SELECTOR}
PASSWORD_SCHEMA: Final = vol.Schema({**_PASSWORD_FIELDS, **_REGION_FIELD})
TOKEN_SCHEMA: Final = vol.Schema({**_TOKEN_FIELDS, **_REGION_FIELD})


def _credentials(auth_type: str, user_input: dict[str, Any]) -> dict[str, Any]:
    """Entry data of the credentials in ``user_input`` (the password only as its hash)."""
    if auth_type == AuthType.TOKEN:
        return {CONF_TOKEN: user_input[CONF_TOKEN].strip()}
    return {
        CONF_USERNAME: user_input[CONF_USERNAME].strip(),
        CONF_PASSWORD_HASH: hash_password(user_input[CONF_PASSWORD]),
    }


class GrowattCloudFlowMixin(KindFlowMixin):
    """Steps of the Growatt cloud kind, mixed into the integration's config flow."""

    _gc_data: dict[str, Any]
    _gc_plants: list[Plant]
    _gc_client: GrowattCloudClient
    _gc_requests: list[datetime]

    async def _gc_fetch_plants(
        self, data: dict[str, Any], errors: dict[str, str], placeholders: dict[str, str]
    ) -> list[Plant] | None:
        """Log in with ``data`` and list the account's plants; fill ``errors`` on failure.

        The client and its request times are kept for :func:`.account.async_hand_over`.
        """
        self._gc_requests = []
        client = build_client(
            self.hass,
            data,
            await async_user_agent(self.hass),
            lambda _endpoint: self._gc_requests.append(dt_util.utcnow()),
        )
        self._gc_client = client
        try:
            return await client.plants()
        except GrowattAuthError:
            errors["base"] = "invalid_auth"
        except GrowattAccountLockedError as err:
            errors["base"] = "account_locked"
            until = dt_util.now() + err.duration if err.duration else None
            placeholders["until"] = until.strftime("%Y-%m-%d %H:%M") if until else "?"
        except GrowattRateLimitedError:
            errors["base"] = "rate_limited"
        except GrowattCloudError as err:
            errors["base"] = "cannot_connect"
            placeholders["error"] = str(err)
        return None

    async def async_step_growatt_cloud(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose how to log in to the Growatt cloud."""
        return self.async_show_menu(
            step_id="growatt_cloud", menu_options=[STEP_PASSWORD, STEP_TOKEN]
        )

    async def async_step_growatt_cloud_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Username, password and region of a ShinePhone account."""
        return await self._gc_login(STEP_PASSWORD, AuthType.PASSWORD, PASSWORD_SCHEMA, user_input)

    async def async_step_growatt_cloud_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """API token and region (OpenAPI V1)."""
        return await self._gc_login(STEP_TOKEN, AuthType.TOKEN, TOKEN_SCHEMA, user_input)

    async def _gc_login(
        self,
        step_id: str,
        auth_type: AuthType,
        schema: vol.Schema,
        user_input: dict[str, Any] | None,
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"error": "", "until": ""}
        if user_input is not None:
            data = {
                CONF_KIND: EntryKind.GROWATT_CLOUD.value,
                CONF_AUTH_TYPE: auth_type.value,
                CONF_REGION: user_input[CONF_REGION],
                **_credentials(auth_type, user_input),
            }
            plants = await self._gc_fetch_plants(data, errors, placeholders)
            if plants is not None:
                if not plants:
                    return self.async_abort(reason=ABORT_NO_PLANTS)
                configured = self._gc_configured_plants()
                plants = [plant for plant in plants if plant.plant_id not in configured]
                if not plants:
                    return self.async_abort(reason=ABORT_ALREADY_CONFIGURED)
                self._gc_data = data
                self._gc_plants = plants
                if len(plants) == 1:
                    return await self._gc_create(plants)
                return await self.async_step_growatt_cloud_plant()
            # Never show the password again.
            user_input = {k: v for k, v in user_input.items() if k != CONF_PASSWORD}
        return self.async_show_step(
            step_id, schema, user_input, errors, description_placeholders=placeholders
        )

    def _gc_configured_plants(self) -> set[str]:
        """Plants that Growatt cloud entries (of either shape) already poll."""
        configured: set[str] = set()
        for entry in self.hass.config_entries.async_entries(DOMAIN):
            if entry.data.get(CONF_KIND) == EntryKind.GROWATT_CLOUD.value:
                configured.update(entry_plants(entry.data))
        return configured

    async def async_step_growatt_cloud_plant(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the plants to poll (all by default)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = set(user_input.get(CONF_PLANT_IDS) or [])
            plants = [plant for plant in self._gc_plants if plant.plant_id in chosen]
            if plants:
                return await self._gc_create(plants)
            errors["base"] = ERROR_NO_PLANT
        selector = choice(
            (
                SelectOptionDict(value=plant.plant_id, label=f"{plant.name} ({plant.plant_id})")
                for plant in self._gc_plants
            ),
            multiple=True,
        )
        default = [plant.plant_id for plant in self._gc_plants]
        return self.async_show_form(
            step_id=STEP_PLANT,
            data_schema=vol.Schema({vol.Required(CONF_PLANT_IDS, default=default): selector}),
            errors=errors,
        )

    async def _gc_create(self, plants: list[Plant]) -> ConfigFlowResult:
        """One entry for the account's chosen plants; the flow's session goes with it."""
        data = self._gc_data
        # Another flow for the same account may still be open: the first to finish wins.
        unique_id = f"growatt_cloud_account_{account_key(data)}"
        await self.async_set_unique_id(unique_id, raise_on_progress=False)
        if self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, unique_id):
            return self.async_abort(reason=ABORT_ALREADY_CONFIGURED)
        await async_hand_over(self.hass, data, self._gc_client, self._gc_requests)
        names = {plant.plant_id: plant.name for plant in plants}
        return self.async_create_entry(
            title=", ".join(names.values()),
            data={**data, CONF_PLANT_IDS: list(names), CONF_PLANTS: names},
            options=schema_defaults(OPTIONS_SCHEMA),
        )

    # -- reauthentication and reconfiguration ---------------------------------------------
    async def async_step_growatt_cloud_reauth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the password (or a new token) again."""
        entry = self._get_reauth_entry()
        auth_type = entry.data[CONF_AUTH_TYPE]
        schema = vol.Schema(_TOKEN_FIELDS if auth_type == AuthType.TOKEN else _PASSWORD_FIELDS)
        return await self._gc_update(entry, STEP_REAUTH, schema, user_input, {})

    async def async_step_reconfigure_growatt_cloud(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the region and credentials of a Growatt cloud entry (same plant)."""
        entry = self._get_reconfigure_entry()
        auth_type = entry.data[CONF_AUTH_TYPE]
        schema = TOKEN_SCHEMA if auth_type == AuthType.TOKEN else PASSWORD_SCHEMA
        return await self._gc_update(
            entry, STEP_RECONFIGURE, schema, user_input, {CONF_REGION: entry.data[CONF_REGION]}
        )

    async def _gc_update(
        self,
        entry: Any,
        step_id: str,
        schema: vol.Schema,
        user_input: dict[str, Any] | None,
        defaults: dict[str, Any],
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"error": "", "until": "", "plant": entry.title}
        suggested: dict[str, Any] = {**defaults}
        if CONF_USERNAME in entry.data:
            suggested[CONF_USERNAME] = entry.data[CONF_USERNAME]
        if user_input is not None:
            updates = {
                CONF_REGION: user_input.get(CONF_REGION, entry.data[CONF_REGION]),
                **_credentials(entry.data[CONF_AUTH_TYPE], user_input),
            }
            data = {**entry.data, **updates}
            plants = await self._gc_fetch_plants(data, errors, placeholders)
            if plants is not None:
                if set(entry_plants(entry.data)) - {plant.plant_id for plant in plants}:
                    return self.async_abort(reason=ABORT_WRONG_PLANT)
                await async_hand_over(self.hass, data, self._gc_client, self._gc_requests)
                return self.async_update_reload_and_abort(entry, data_updates=updates)
            suggested.update({k: v for k, v in user_input.items() if k != CONF_PASSWORD})
        return self.async_show_step(
            step_id, schema, suggested, errors, description_placeholders=placeholders
        )


_MINUTES: Final = vol.All(
    number_box(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL, unit="min"),
    vol.Coerce(int),
    vol.Range(min=MIN_POLL_INTERVAL, max=MAX_POLL_INTERVAL),
)
_BUDGET: Final = vol.All(
    number_box(MIN_DAILY_BUDGET, MAX_DAILY_BUDGET),
    vol.Coerce(int),
    vol.Range(min=MIN_DAILY_BUDGET, max=MAX_DAILY_BUDGET),
)
OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_POLL_INTERVAL, default=DEFAULT_POLL_INTERVAL): _MINUTES,
        vol.Required(CONF_DAILY_BUDGET, default=DEFAULT_DAILY_BUDGET): _BUDGET,
    }
)
"""Poll interval (minutes, at least 5) and daily request budget."""


class GrowattCloudOptionsFlow(OneFormOptionsFlow):
    """Options of a Growatt cloud entry: poll interval and daily request budget."""

    options_step = STEP_OPTIONS

    options_schema = OPTIONS_SCHEMA

    async_step_growatt_cloud = OneFormOptionsFlow.async_options_step
