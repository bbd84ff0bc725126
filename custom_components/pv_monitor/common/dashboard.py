"""The PV Monitor dashboard: serve its strategy module and offer to create the dashboard.

The dashboard is a Lovelace *strategy* (``strategy: {type: custom:pv-monitor}``): a plain ES
module in ``frontend/`` (no build step, nothing from a CDN) that Home Assistant's frontend
loads on every page (``frontend.add_extra_js_url``) and calls to generate the views from the
config entries, devices and entities that exist. See README, "Dashboard".

With the user's consent (the fix flow of the ``dashboard_offer`` repair issue) a storage
dashboard at ``/pv-monitor`` is created with that strategy as its whole configuration, the way
core creates its map dashboard (``lovelace._create_map_dashboard``).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any, Final

from homeassistant.components.http import StaticPathConfig
from homeassistant.components.repairs import RepairsFlow
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResult
import voluptuous as vol

from ..const import DOMAIN
from .issues import async_raise_issue

FRONTEND_DIR: Final = Path(__file__).parent.parent / "frontend"
STATIC_URL: Final = f"/{DOMAIN}/frontend"
MODULE: Final = "pv-monitor-strategy.js"
STRATEGY_TYPE: Final = "custom:pv-monitor"
DASHBOARD_URL_PATH: Final = "pv-monitor"
DASHBOARD_ICON: Final = "mdi:solar-power-variant"
ISSUE_ID: Final = "dashboard_offer"
DASHBOARD_CONFIG: Final[dict[str, Any]] = {"strategy": {"type": STRATEGY_TYPE}}
LOVELACE_DATA_KEY: Final = "lovelace"
LOVELACE_DASHBOARDS_CREATE: Final = "lovelace/dashboards/create"


def _version() -> str:
    """The integration's version, to make browsers fetch the module again after updates."""
    manifest = json.loads((FRONTEND_DIR.parent / "manifest.json").read_text(encoding="utf-8"))
    return str(manifest["version"])


async def async_setup_frontend(hass: HomeAssistant) -> None:
    """Serve ``frontend/`` and load the strategy module on every frontend page.

    Does nothing without ``http`` (tests, headless set-ups); registers the module only when
    the ``frontend`` integration is loaded (an after-dependency, so it is loaded first).
    """
    if "http" not in hass.config.components:
        return
    await hass.http.async_register_static_paths(
        [StaticPathConfig(STATIC_URL, str(FRONTEND_DIR), cache_headers=False)]
    )
    if "frontend" not in hass.config.components:
        return
    from homeassistant.components.frontend import add_extra_js_url  # noqa: PLC0415

    version = await hass.async_add_executor_job(_version)
    add_extra_js_url(hass, f"{STATIC_URL}/{MODULE}?v={version}")


def _dashboards_collection(hass: HomeAssistant) -> Any | None:
    """Lovelace's storage collection of dashboards, reached through its create command.

    Core keeps the collection only in the websocket handlers it registers (there is no other
    reference); ``None`` when lovelace is not loaded or the shape changed.
    """
    handlers: dict[str, Any] = hass.data.get("websocket_api", {})
    entry = handlers.get(LOVELACE_DASHBOARDS_CREATE)
    if entry is None:
        return None
    method = inspect.unwrap(entry[0])
    owner = getattr(method, "__self__", None)
    return getattr(owner, "storage_collection", None)


def dashboard_exists(hass: HomeAssistant) -> bool:
    """True when a dashboard at ``/pv-monitor`` exists already."""
    dashboards = getattr(hass.data.get(LOVELACE_DATA_KEY), "dashboards", {})
    return DASHBOARD_URL_PATH in dashboards


async def async_create_dashboard(hass: HomeAssistant, title: str) -> None:
    """Create the storage dashboard ``/pv-monitor`` whose whole config is the strategy.

    Raises ``LookupError`` when lovelace's dashboards collection cannot be reached.
    """
    collection = _dashboards_collection(hass)
    if collection is None:
        raise LookupError("lovelace dashboards collection not found")
    if not dashboard_exists(hass):
        await collection.async_create_item(
            {
                "url_path": DASHBOARD_URL_PATH,
                "title": title,
                "icon": DASHBOARD_ICON,
                "show_in_sidebar": True,
                "require_admin": False,
            }
        )
    dashboard = hass.data[LOVELACE_DATA_KEY].dashboards[DASHBOARD_URL_PATH]
    await dashboard.async_save(DASHBOARD_CONFIG)


@callback
def async_offer_dashboard(hass: HomeAssistant) -> None:
    """Once Home Assistant has started: offer the dashboard as a fixable repair issue.

    Only with at least one PV Monitor entry, lovelace loaded and no dashboard at
    ``/pv-monitor``; an ignored issue stays ignored (the issue registry keeps that).
    """

    @callback
    def offer(_: Event | None = None) -> None:
        if not hass.config_entries.async_entries(DOMAIN) or dashboard_exists(hass):
            return
        if _dashboards_collection(hass) is None:
            return
        async_raise_issue(
            hass,
            ISSUE_ID,
            ISSUE_ID,
            fixable=True,
            learn_more_url="https://github.com/pv-monitor/pv_monitor#dashboard",
        )

    if hass.is_running:
        offer()
    else:
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STARTED, offer)


class DashboardFixFlow(RepairsFlow):
    """Ask, then create the dashboard (the user's consent is the confirm step)."""

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> FlowResult:
        """Start at the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, str] | None = None) -> FlowResult:
        """Show what will be created; on submit create it."""
        if user_input is None:
            return self.async_show_form(step_id="confirm", data_schema=vol.Schema({}))
        title = await _title(self.hass)
        try:
            await async_create_dashboard(self.hass, title)
        except LookupError:
            return self.async_abort(reason="lovelace_unavailable")
        return self.async_create_entry(data={})


async def _title(hass: HomeAssistant) -> str:
    """The dashboard's title in the user's language (the strategy's ``title`` string)."""
    from homeassistant.helpers.translation import async_get_translations  # noqa: PLC0415

    strings = await async_get_translations(hass, hass.config.language, "selector", {DOMAIN})
    return strings.get(f"component.{DOMAIN}.selector.dashboard.options.title", "PV Monitor")


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The fix flow of the ``dashboard_offer`` issue."""
    return DashboardFixFlow()
