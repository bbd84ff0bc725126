"""The dashboard strategy's registration and the fix flow that creates the dashboard.

Expected behaviour comes from Home Assistant itself: the frontend integration's own
``add_extra_js_url`` store, the http static route, lovelace's storage dashboards (the way core
creates its map dashboard) and the repairs flow manager; the generator itself is covered by
Node's test runner (``scripts/browser/dashboard/test``).
"""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import re
from unittest.mock import AsyncMock, patch

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.components.repairs import ConfirmRepairFlow, repairs_flow_manager
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.pv_monitor import repairs
from custom_components.pv_monitor.common import dashboard
from custom_components.pv_monitor.const import DOMAIN

PACKAGE = Path(dashboard.__file__).parent.parent
TRANSLATIONS = ("en", "nl", "de")


@pytest.fixture(autouse=True)
def no_kind_unload() -> Iterator[None]:
    """Entries here are set up by ``mock_setup_entry``: unload them as trivially."""
    with patch("custom_components.pv_monitor.async_unload_entry", AsyncMock(return_value=True)):
        yield


def _entry(hass: HomeAssistant) -> MockConfigEntry:
    entry = MockConfigEntry(domain=DOMAIN, data={"kind": "dsmr"}, title="meter")
    entry.add_to_hass(hass)
    return entry


async def _setup(hass: HomeAssistant, *components: str) -> None:
    for component in components:
        assert await async_setup_component(hass, component, {})
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()


@pytest.mark.usefixtures("mock_setup_entry")
async def test_module_served_and_registered(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """The strategy module and the generator it imports are served; every page loads it."""
    _entry(hass)
    await _setup(hass, "frontend")
    version = json.loads((PACKAGE / "manifest.json").read_text())["version"]
    url = f"/{DOMAIN}/frontend/pv-monitor-strategy.js?v={version}"
    assert url in hass.data[DATA_EXTRA_MODULE_URL].urls
    client = await hass_client()
    module = await client.get(url)
    assert module.status == 200
    assert "ll-strategy-dashboard-pv-monitor" in await module.text()
    generator = await client.get(f"/{DOMAIN}/frontend/generator.js")
    assert generator.status == 200
    assert "export function generateDashboard" in await generator.text()
    assert (await client.get(f"/{DOMAIN}/frontend/../manifest.json")).status in (403, 404)


@pytest.mark.usefixtures("mock_setup_entry")
async def test_http_without_frontend_serves_only(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """Without the frontend integration the folder is served but no module is registered."""
    _entry(hass)
    await _setup(hass, "http")
    assert DATA_EXTRA_MODULE_URL not in hass.data
    client = await hass_client()
    assert (await client.get(f"/{DOMAIN}/frontend/generator.js")).status == 200
    assert ir.async_get(hass).async_get_issue(DOMAIN, dashboard.ISSUE_ID) is None


@pytest.mark.usefixtures("mock_setup_entry")
async def test_headless_nothing_served_nor_offered(hass: HomeAssistant) -> None:
    """No http and no lovelace (headless): nothing to serve and no dashboard to offer."""
    _entry(hass)
    await _setup(hass)
    assert hass.http is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, dashboard.ISSUE_ID) is None


async def test_no_offer_without_entries(hass: HomeAssistant) -> None:
    """Without any PV Monitor entry there is nothing to show: no offer."""
    await _setup(hass, "frontend")
    assert ir.async_get(hass).async_get_issue(DOMAIN, dashboard.ISSUE_ID) is None


@pytest.mark.usefixtures("mock_setup_entry")
async def test_fix_flow_creates_dashboard(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    """Consent in the fix flow creates /pv-monitor with the strategy; no second offer."""
    _entry(hass)
    await _setup(hass, "frontend")
    issue = ir.async_get(hass).async_get_issue(DOMAIN, dashboard.ISSUE_ID)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_key == "dashboard_offer"

    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": dashboard.ISSUE_ID})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    assert "pv-monitor" not in hass.data["lovelace"].dashboards  # nothing before consent
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert ir.async_get(hass).async_get_issue(DOMAIN, dashboard.ISSUE_ID) is None

    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "lovelace/dashboards/list"})
    listed = (await client.receive_json())["result"]
    assert [(d["url_path"], d["title"], d["icon"]) for d in listed] == [
        ("pv-monitor", "PV Monitor", "mdi:solar-power-variant")
    ]
    await client.send_json_auto_id({"type": "lovelace/config", "url_path": "pv-monitor"})
    assert (await client.receive_json())["result"] == {"strategy": {"type": "custom:pv-monitor"}}

    # Already there: offering again does nothing, creating again only re-saves the config.
    dashboard.async_offer_dashboard(hass)
    assert ir.async_get(hass).async_get_issue(DOMAIN, dashboard.ISSUE_ID) is None
    await dashboard.async_create_dashboard(hass, "Other title")
    assert hass.data["lovelace"].dashboards["pv-monitor"].config["title"] == "PV Monitor"


@pytest.mark.usefixtures("mock_setup_entry")
async def test_fix_flow_aborts_without_lovelace_collection(hass: HomeAssistant) -> None:
    """If lovelace's dashboards cannot be reached the flow says so and changes nothing."""
    _entry(hass)
    await _setup(hass, "frontend")
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": dashboard.ISSUE_ID})
    with patch.object(dashboard, "_dashboards_collection", return_value=None):
        result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "lovelace_unavailable"
    assert "pv-monitor" not in hass.data["lovelace"].dashboards
    # Nor is it offered where the collection is missing (a changed core).
    ir.async_delete_issue(hass, DOMAIN, dashboard.ISSUE_ID)
    with patch.object(dashboard, "_dashboards_collection", return_value=None):
        dashboard.async_offer_dashboard(hass)
    assert ir.async_get(hass).async_get_issue(DOMAIN, dashboard.ISSUE_ID) is None


@pytest.mark.usefixtures("mock_setup_entry")
async def test_offer_waits_for_start(hass: HomeAssistant) -> None:
    """During start-up the offer waits until Home Assistant has started."""
    _entry(hass)
    hass.set_state(CoreState.not_running)
    await _setup(hass, "frontend")
    assert ir.async_get(hass).async_get_issue(DOMAIN, dashboard.ISSUE_ID) is None
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, dashboard.ISSUE_ID) is not None


async def test_title_translated(hass: HomeAssistant) -> None:
    """The dashboard's title comes from the integration's translations."""
    hass.config.language = "nl"
    with patch(
        "homeassistant.helpers.translation.async_get_translations",
        AsyncMock(return_value={f"component.{DOMAIN}.selector.dashboard.options.title": "Zon"}),
    ):
        assert await dashboard._title(hass) == "Zon"


def _default_strings() -> set[str]:
    source = (PACKAGE / "frontend" / "generator.js").read_text()
    block = source.split("DEFAULT_STRINGS = Object.freeze({", 1)[1].split("});", 1)[0]
    return set(re.findall(r"^\s+(\w+):", block, re.MULTILINE))


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translations_cover_generator_strings(language: str) -> None:
    """Every title the generator uses is translated (and nothing else is there)."""
    strings = json.loads((PACKAGE / "translations" / f"{language}.json").read_text())
    options = strings["selector"]["dashboard"]["options"]
    assert set(options) == _default_strings()
    assert "{count}" in options["repair_issues"]
    fix = strings["issues"]["dashboard_offer"]["fix_flow"]
    assert set(fix["step"]) == {"confirm"}
    assert set(fix["abort"]) == {"lovelace_unavailable"}


async def test_other_issues_keep_plain_confirmation(hass: HomeAssistant) -> None:
    """The dashboard's prefix does not capture other fixable issues (plain confirmation)."""
    flow = await repairs.async_create_fix_flow(hass, "port_unavailable_x", None)
    assert type(flow) is ConfirmRepairFlow
    own = await repairs.async_create_fix_flow(hass, dashboard.ISSUE_ID, None)
    assert isinstance(own, dashboard.DashboardFixFlow)
