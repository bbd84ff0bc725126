"""Tests of the PV Monitor config flow, reconfigure flow and options flow.

The bind checks run for real on loopback sockets (``free_port`` enables sockets, see
``conftest.py``); only failures that cannot be provoked portably (unresolvable name,
EACCES while running as root) are simulated.
"""

from __future__ import annotations

from collections.abc import Generator
import errno
import json
from pathlib import Path
import socket
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.pv_monitor.config_flow import SOURCE_KINDS, PvMonitorConfigFlow
from custom_components.pv_monitor.const import CONF_KIND, DOMAIN
from custom_components.pv_monitor.growatt_local.const import (
    CONF_ALLOW_COMMANDS,
    CONF_ALLOW_REDIRECT,
    CONF_ALLOWED_DATALOGGERS,
    CONF_INVERTER_FAMILIES,
    CONF_LOCAL_COMMANDS,
    CONF_MAX_CONNECTIONS,
    CONF_MAX_DATALOGGERS,
    CONF_MAX_INVERTERS,
    CONF_MODE,
    CONF_UPSTREAM_HOST,
    CONF_UPSTREAM_PORT,
)

TRANSLATIONS = Path(__file__).parents[2] / "custom_components" / "pv_monitor" / "translations"

TRY_BIND = "custom_components.pv_monitor.growatt_local.flow._try_bind"

DEFAULT_OPTIONS = {
    CONF_ALLOWED_DATALOGGERS: [],
    CONF_ALLOW_REDIRECT: False,
    CONF_INVERTER_FAMILIES: {},
}


def entry_data(
    port: int,
    *,
    host: str = "127.0.0.1",
    mode: str = "server",
    upstream_host: str = "server.growatt.com",
    upstream_port: int = 5279,
) -> dict[str, Any]:
    """Return config entry data of a Growatt local entry."""
    return {
        CONF_KIND: "growatt_local",
        CONF_HOST: host,
        CONF_PORT: port,
        CONF_MODE: mode,
        CONF_UPSTREAM_HOST: upstream_host,
        CONF_UPSTREAM_PORT: upstream_port,
    }


def make_entry(
    hass: HomeAssistant,
    port: int,
    *,
    options: dict[str, Any] | None = None,
    state: ConfigEntryState = ConfigEntryState.NOT_LOADED,
    **data: Any,
) -> MockConfigEntry:
    """Add a Growatt local entry listening on ``port`` to ``hass``."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"Growatt datalogger (port {port})",
        unique_id=f"growatt_local_{port}",
        data=entry_data(port, **data),
        options=DEFAULT_OPTIONS if options is None else options,
        state=state,
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
def occupied_port(free_port: int) -> Generator[int]:
    """Return a port on which another program listens (127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", free_port))
        sock.listen()
        yield free_port


@pytest.fixture
def other_free_port(free_port: int) -> int:
    """Return a second free port, different from ``free_port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    assert port != free_port
    return port


def field(schema: vol.Schema, name: str) -> vol.Marker:
    """Return the schema key called ``name``."""
    return next(key for key in schema.schema if key == name)


def defaults(schema: vol.Schema) -> dict[str, Any]:
    """Return the default value of every schema field that has one."""
    return {
        str(key): key.default()
        for key in schema.schema
        if key.default is not vol.UNDEFINED  # type: ignore[attr-defined]
    }


def suggested(schema: vol.Schema) -> dict[str, Any]:
    """Return the suggested value of every schema field that has one."""
    return {
        str(key): key.description["suggested_value"]
        for key in schema.schema
        if key.description and "suggested_value" in key.description
    }


async def start_growatt_local(hass: HomeAssistant) -> dict[str, Any]:
    """Start a user flow and pick the Growatt local kind in the menu."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "growatt_local"}
    )


# --- user flow -------------------------------------------------------------------------


async def test_user_step_shows_menu(hass: HomeAssistant) -> None:
    """The user step is a menu of source kinds."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})

    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert result["menu_options"] == list(SOURCE_KINDS)
    assert result["menu_options"][0] == "growatt_local"
    for kind in SOURCE_KINDS:  # every menu option has its step
        assert callable(getattr(PvMonitorConfigFlow, f"async_step_{kind}"))


async def test_growatt_local_form_defaults(hass: HomeAssistant) -> None:
    """The Growatt local form proposes the usual listener defaults."""
    result = await start_growatt_local(hass)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "growatt_local"
    assert result["errors"] == {}
    schema = result["data_schema"]
    assert defaults(schema) == {CONF_HOST: "0.0.0.0", CONF_PORT: 5279, CONF_MODE: "server"}
    mode_selector = schema.schema[field(schema, CONF_MODE)]
    assert mode_selector.config["translation_key"] == "mode"
    assert mode_selector.config["options"] == ["server", "proxy"]
    # The number selector's float is turned into an int.
    assert schema({CONF_PORT: 5280.0})[CONF_PORT] == 5280


@pytest.mark.usefixtures("mock_setup_entry")
async def test_server_mode_creates_entry(hass: HomeAssistant, free_port: int) -> None:
    """Server mode creates the entry right away, in the documented shape."""
    result = await start_growatt_local(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: " 127.0.0.1 ", CONF_PORT: free_port, CONF_MODE: "server"},
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Growatt datalogger (port {free_port})"
    assert result["data"] == entry_data(free_port)
    assert result["options"] == DEFAULT_OPTIONS
    entry = result["result"]
    assert entry.unique_id == f"growatt_local_{free_port}"
    assert entry.version == 1
    assert entry.minor_version == 1
    assert dict(entry.options) == DEFAULT_OPTIONS


async def test_proxy_mode_asks_upstream(
    hass: HomeAssistant, free_port: int, mock_setup_entry: AsyncMock
) -> None:
    """Proxy mode goes through the growatt_proxy step and validates the server name."""
    result = await start_growatt_local(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: free_port, CONF_MODE: "proxy"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "growatt_proxy"
    assert result["errors"] == {}
    assert defaults(result["data_schema"]) == {
        CONF_UPSTREAM_HOST: "server.growatt.com",
        CONF_UPSTREAM_PORT: 5279,
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_UPSTREAM_HOST: "  ", CONF_UPSTREAM_PORT: 5279}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "growatt_proxy"
    assert result["errors"] == {CONF_UPSTREAM_HOST: "invalid_host"}

    # No DNS lookup: a name that does not resolve (yet) is accepted.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_UPSTREAM_HOST: " server-us.growatt.example ", CONF_UPSTREAM_PORT: 5280},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Growatt datalogger (port {free_port})"
    assert result["data"] == entry_data(
        free_port, mode="proxy", upstream_host="server-us.growatt.example", upstream_port=5280
    )
    assert result["options"] == DEFAULT_OPTIONS
    assert result["result"].unique_id == f"growatt_local_{free_port}"
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


async def test_port_in_use(
    hass: HomeAssistant, occupied_port: int, mock_setup_entry: AsyncMock
) -> None:
    """A port another program listens on is refused; the user can pick another one."""
    result = await start_growatt_local(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: occupied_port, CONF_MODE: "server"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "growatt_local"
    assert result["errors"] == {CONF_PORT: "port_in_use"}
    assert result["description_placeholders"]["error"]
    # The form keeps what the user typed.
    assert suggested(result["data_schema"])[CONF_PORT] == occupied_port

    # Also on the wildcard address, which overlaps 127.0.0.1.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "0.0.0.0", CONF_PORT: occupied_port, CONF_MODE: "server"},
    )
    assert result["errors"] == {CONF_PORT: "port_in_use"}

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        other_port = sock.getsockname()[1]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: other_port, CONF_MODE: "server"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"growatt_local_{other_port}"


@pytest.mark.usefixtures("mock_setup_entry")
async def test_cannot_bind_foreign_address(hass: HomeAssistant, free_port: int) -> None:
    """An address that is not on this machine cannot be bound (EADDRNOTAVAIL)."""
    result = await start_growatt_local(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "203.0.113.1", CONF_PORT: free_port, CONF_MODE: "server"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_bind"}
    assert result["description_placeholders"]["error"]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: free_port, CONF_MODE: "server"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOST] == "127.0.0.1"


@pytest.mark.parametrize(
    ("target", "error"),
    [
        pytest.param(
            "socket.getaddrinfo",
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            id="unresolvable",
        ),
        pytest.param(
            "socket.socket.bind", PermissionError(errno.EACCES, "Permission denied"), id="eacces"
        ),
    ],
)
@pytest.mark.usefixtures("mock_setup_entry")
async def test_cannot_bind_simulated(
    hass: HomeAssistant, free_port: int, target: str, error: OSError
) -> None:
    """An unresolvable name or a privileged port (we may run as root) gives cannot_bind."""
    result = await start_growatt_local(hass)
    with patch(target, side_effect=error):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_HOST: "127.0.0.1", CONF_PORT: free_port, CONF_MODE: "server"},
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_bind"}
    assert result["description_placeholders"] == {"error": str(error)}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: free_port, CONF_MODE: "server"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("host", ["", "   ", "not a host!", "999.1.1.1", "-bad-.example"])
@pytest.mark.usefixtures("mock_setup_entry")
async def test_invalid_host(hass: HomeAssistant, free_port: int, host: str) -> None:
    """A listen address that is no IP address or host name is refused without binding."""
    result = await start_growatt_local(hass)
    with patch(TRY_BIND) as try_bind:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: host, CONF_PORT: free_port, CONF_MODE: "server"}
        )
    try_bind.assert_not_called()
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "invalid_host"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: free_port, CONF_MODE: "server"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("mock_setup_entry")
async def test_ipv6_listen_address(hass: HomeAssistant, free_port: int) -> None:
    """An IPv6 listen address is test-bound as IPv6."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:  # pragma: no cover - host without IPv6
        pytest.skip("no IPv6 loopback")
    result = await start_growatt_local(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "::1", CONF_PORT: free_port, CONF_MODE: "server"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOST] == "::1"


async def test_already_configured(hass: HomeAssistant, occupied_port: int) -> None:
    """A second entry on the same port aborts before the (busy) port is test-bound."""
    make_entry(hass, occupied_port)

    result = await start_growatt_local(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: occupied_port, CONF_MODE: "proxy"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# --- reconfigure -----------------------------------------------------------------------


async def test_reconfigure_form_prefilled(hass: HomeAssistant, free_port: int) -> None:
    """The reconfigure form shows every field, prefilled from the entry."""
    entry = make_entry(
        hass, free_port, mode="proxy", upstream_host="upstream.example", upstream_port=6000
    )

    result = await entry.start_reconfigure_flow(hass)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {}
    assert suggested(result["data_schema"]) == {
        CONF_HOST: "127.0.0.1",
        CONF_PORT: free_port,
        CONF_MODE: "proxy",
        CONF_UPSTREAM_HOST: "upstream.example",
        CONF_UPSTREAM_PORT: 6000,
    }


async def test_reconfigure_port_change(
    hass: HomeAssistant, free_port: int, other_free_port: int, mock_setup_entry: AsyncMock
) -> None:
    """Moving to another port changes unique id, title and data, and reloads."""
    entry = make_entry(hass, free_port)

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_HOST: " 127.0.0.1",
            CONF_PORT: other_free_port,
            CONF_MODE: "proxy",
            CONF_UPSTREAM_HOST: " upstream.example ",
            CONF_UPSTREAM_PORT: 6000,
        },
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.unique_id == f"growatt_local_{other_free_port}"
    assert entry.title == f"Growatt datalogger (port {other_free_port})"
    assert dict(entry.data) == entry_data(
        other_free_port, mode="proxy", upstream_host="upstream.example", upstream_port=6000
    )
    assert dict(entry.options) == DEFAULT_OPTIONS
    assert len(mock_setup_entry.mock_calls) == 1


async def test_reconfigure_same_address_skips_bind(
    hass: HomeAssistant, occupied_port: int, mock_setup_entry: AsyncMock
) -> None:
    """With host and port unchanged the (held) port is not test-bound.

    Server mode stores the default upstream, whatever the form says.
    """
    entry = make_entry(
        hass, occupied_port, mode="proxy", upstream_host="upstream.example", upstream_port=6000
    )

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_HOST: "127.0.0.1",
            CONF_PORT: occupied_port,
            CONF_MODE: "server",
            CONF_UPSTREAM_HOST: "",
            CONF_UPSTREAM_PORT: 6000,
        },
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.unique_id == f"growatt_local_{occupied_port}"
    assert dict(entry.data) == entry_data(occupied_port)
    assert len(mock_setup_entry.mock_calls) == 1


async def test_reconfigure_onto_other_entry_port(
    hass: HomeAssistant, free_port: int, other_free_port: int
) -> None:
    """Moving onto the port of another entry aborts and changes nothing."""
    entry = make_entry(hass, free_port)
    make_entry(hass, other_free_port)

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_HOST: "127.0.0.1",
            CONF_PORT: other_free_port,
            CONF_MODE: "server",
            CONF_UPSTREAM_HOST: "server.growatt.com",
            CONF_UPSTREAM_PORT: 5279,
        },
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.unique_id == f"growatt_local_{free_port}"
    assert dict(entry.data) == entry_data(free_port)


async def test_reconfigure_errors_then_recover(
    hass: HomeAssistant, occupied_port: int, other_free_port: int, mock_setup_entry: AsyncMock
) -> None:
    """Bind and validation errors keep the reconfigure form open with the user's input."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        entry_port = sock.getsockname()[1]
    entry = make_entry(hass, entry_port)
    user_input = {
        CONF_HOST: "127.0.0.1",
        CONF_PORT: occupied_port,
        CONF_MODE: "server",
        CONF_UPSTREAM_HOST: "server.growatt.com",
        CONF_UPSTREAM_PORT: 5279,
    }

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {CONF_PORT: "port_in_use"}
    assert suggested(result["data_schema"])[CONF_PORT] == occupied_port

    # Same port, foreign address.
    user_input |= {CONF_HOST: "203.0.113.1", CONF_PORT: entry_port}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["errors"] == {"base": "cannot_bind"}
    assert result["description_placeholders"]["error"]

    user_input |= {CONF_HOST: "bad host!"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["errors"] == {CONF_HOST: "invalid_host"}

    user_input |= {CONF_HOST: "127.0.0.1", CONF_MODE: "proxy", CONF_UPSTREAM_HOST: " "}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["errors"] == {CONF_UPSTREAM_HOST: "invalid_host"}

    user_input |= {CONF_PORT: other_free_port, CONF_UPSTREAM_HOST: "server.growatt.com"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.data) == entry_data(other_free_port, mode="proxy")
    assert entry.unique_id == f"growatt_local_{other_free_port}"
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param(ConfigEntryState.LOADED, None, id="loaded-holds-port"),
        pytest.param(ConfigEntryState.SETUP_RETRY, "port_in_use", id="not-running"),
    ],
)
@pytest.mark.usefixtures("mock_setup_entry")
async def test_reconfigure_other_host_same_port(
    hass: HomeAssistant, occupied_port: int, state: ConfigEntryState, expected: str | None
) -> None:
    """On the same port a loaded entry's own socket is not reported as "in use".

    ``occupied_port`` plays the running listener of the entry on 127.0.0.1.
    """
    entry = make_entry(hass, occupied_port, state=state)

    result = await entry.start_reconfigure_flow(hass)
    with patch(
        "custom_components.pv_monitor.async_unload_entry",
        new_callable=AsyncMock,
        return_value=True,
        create=True,
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                CONF_HOST: "0.0.0.0",
                CONF_PORT: occupied_port,
                CONF_MODE: "server",
                CONF_UPSTREAM_HOST: "server.growatt.com",
                CONF_UPSTREAM_PORT: 5279,
            },
        )
        await hass.async_block_till_done()

    if expected is None:
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert entry.data[CONF_HOST] == "0.0.0.0"
    else:
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_PORT: expected}
        assert entry.data[CONF_HOST] == "127.0.0.1"


# --- options ---------------------------------------------------------------------------


async def test_options_server_mode(hass: HomeAssistant) -> None:
    """Server mode: allow-list only, normalised; redirects stay off."""
    entry = make_entry(hass, 5279, options={**DEFAULT_OPTIONS, CONF_ALLOW_REDIRECT: True})

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert [str(key) for key in result["data_schema"].schema] == [
        CONF_ALLOWED_DATALOGGERS,
        CONF_MAX_CONNECTIONS,
        CONF_MAX_DATALOGGERS,
        CONF_MAX_INVERTERS,
    ]
    assert defaults(result["data_schema"]) == {
        CONF_MAX_CONNECTIONS: 64,
        CONF_MAX_DATALOGGERS: 8,
        CONF_MAX_INVERTERS: 8,
    }
    assert result["description_placeholders"] == {"inverters": "-", "families": "-"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_ALLOWED_DATALOGGERS: [" abc1234567 ", "ABC1234567", "", "  ", "xgd5bf42mx"],
            CONF_MAX_CONNECTIONS: 200.0,
            CONF_MAX_DATALOGGERS: 2.0,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    expected = {
        CONF_ALLOWED_DATALOGGERS: ["ABC1234567", "XGD5BF42MX"],
        CONF_ALLOW_REDIRECT: False,
        CONF_ALLOW_COMMANDS: False,
        CONF_LOCAL_COMMANDS: False,
        CONF_INVERTER_FAMILIES: {},
        CONF_MAX_CONNECTIONS: 200,
        CONF_MAX_DATALOGGERS: 2,
        CONF_MAX_INVERTERS: 8,
    }
    assert result["data"] == expected
    assert dict(entry.options) == expected


@pytest.mark.parametrize(
    "serial",
    ["ABC-123", "ABC 123", "A" * 31, "äbc123", "\uff21\uff22\uff23"],
)
async def test_options_invalid_serial(hass: HomeAssistant, serial: str) -> None:
    """Serials must be 1-30 ASCII letters/digits; the form shows the error and recovers."""
    entry = make_entry(hass, 5279, options={**DEFAULT_OPTIONS, CONF_ALLOWED_DATALOGGERS: ["OLD1"]})

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert suggested(result["data_schema"])[CONF_ALLOWED_DATALOGGERS] == ["OLD1"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ALLOWED_DATALOGGERS: ["GOOD1", serial]}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_ALLOWED_DATALOGGERS: "invalid_serial"}
    assert suggested(result["data_schema"])[CONF_ALLOWED_DATALOGGERS] == ["GOOD1", serial]
    assert entry.options[CONF_ALLOWED_DATALOGGERS] == ["OLD1"]

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ALLOWED_DATALOGGERS: ["A" * 30]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_ALLOWED_DATALOGGERS] == ["A" * 30]


async def test_options_proxy_mode_allow_redirect(hass: HomeAssistant) -> None:
    """Proxy mode shows allow_redirect, defaulting to the current option."""
    entry = make_entry(
        hass,
        5279,
        mode="proxy",
        options={**DEFAULT_OPTIONS, CONF_ALLOWED_DATALOGGERS: ["XGD5BF42MX"]},
    )

    result = await hass.config_entries.options.async_init(entry.entry_id)
    schema = result["data_schema"]
    assert [str(key) for key in schema.schema] == [
        CONF_ALLOWED_DATALOGGERS,
        CONF_MAX_CONNECTIONS,
        CONF_MAX_DATALOGGERS,
        CONF_MAX_INVERTERS,
        CONF_ALLOW_REDIRECT,
        CONF_ALLOW_COMMANDS,
        CONF_LOCAL_COMMANDS,
    ]
    assert defaults(schema) == {
        CONF_ALLOW_REDIRECT: False,
        CONF_ALLOW_COMMANDS: False,
        CONF_LOCAL_COMMANDS: False,
        CONF_MAX_CONNECTIONS: 64,
        CONF_MAX_DATALOGGERS: 8,
        CONF_MAX_INVERTERS: 8,
    }

    # Clearing the allow-list (the frontend omits an emptied optional field).
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_ALLOW_REDIRECT: True, CONF_ALLOW_COMMANDS: True, CONF_LOCAL_COMMANDS: True},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert dict(entry.options) == {
        CONF_ALLOWED_DATALOGGERS: [],
        CONF_ALLOW_REDIRECT: True,
        CONF_ALLOW_COMMANDS: True,
        CONF_LOCAL_COMMANDS: True,
        CONF_INVERTER_FAMILIES: {},
        CONF_MAX_CONNECTIONS: 64,
        CONF_MAX_DATALOGGERS: 8,
        CONF_MAX_INVERTERS: 8,
    }

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert defaults(result["data_schema"]) == {
        CONF_ALLOW_REDIRECT: True,
        CONF_ALLOW_COMMANDS: True,
        CONF_LOCAL_COMMANDS: True,
        CONF_MAX_CONNECTIONS: 64,
        CONF_MAX_DATALOGGERS: 8,
        CONF_MAX_INVERTERS: 8,
    }


async def test_options_inverter_families(hass: HomeAssistant) -> None:
    """One inverter's family per save, in translatable fields; "auto" removes an override."""
    entry = make_entry(
        hass,
        5279,
        options={**DEFAULT_OPTIONS, CONF_INVERTER_FAMILIES: {"INV3": "sph", "INV1": "tl"}},
    )
    entry.runtime_data = SimpleNamespace(inverter_serials=["INV2", "INV1"])

    result = await hass.config_entries.options.async_init(entry.entry_id)
    schema = result["data_schema"]
    assert "family_inverter" in {str(key) for key in schema.schema}
    assert schema.schema[field(schema, "family_inverter")].config["options"] == [
        "INV1",
        "INV2",
        "INV3",
    ]
    selector = schema.schema[field(schema, "family")]
    assert selector.config["translation_key"] == "family"
    assert selector.config["options"] == ["auto", "tl", "tl_x", "tl3_x", "sph", "spf"]
    assert result["description_placeholders"] == {
        "inverters": "INV1, INV2, INV3",
        "families": "INV1: tl, INV3: sph",
    }

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"family_inverter": "INV2", "family": "tl_x"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert dict(entry.options) == {
        CONF_ALLOWED_DATALOGGERS: [],
        CONF_ALLOW_REDIRECT: False,
        CONF_INVERTER_FAMILIES: {"INV1": "tl", "INV2": "tl_x", "INV3": "sph"},
        CONF_ALLOW_COMMANDS: False,
        CONF_LOCAL_COMMANDS: False,
        CONF_MAX_CONNECTIONS: 64,
        CONF_MAX_DATALOGGERS: 8,
        CONF_MAX_INVERTERS: 8,
    }

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"family_inverter": "INV1", "family": "auto"}
    )
    assert entry.options[CONF_INVERTER_FAMILIES] == {"INV2": "tl_x", "INV3": "sph"}


async def test_options_without_inverters_have_no_family_fields(hass: HomeAssistant) -> None:
    """Before any inverter was seen there is nothing to choose; saving keeps no override."""
    entry = make_entry(hass, 5279)
    entry.runtime_data = SimpleNamespace(inverter_serials=[])

    result = await hass.config_entries.options.async_init(entry.entry_id)
    keys = {str(key) for key in result["data_schema"].schema}
    assert not keys & {"family_inverter", "family"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert entry.options[CONF_INVERTER_FAMILIES] == {}


async def test_options_family_rejects_unknown_value(hass: HomeAssistant) -> None:
    """Only the offered families are accepted."""
    entry = make_entry(hass, 5279)
    entry.runtime_data = SimpleNamespace(inverter_serials=["INV1"])

    result = await hass.config_entries.options.async_init(entry.entry_id)
    with pytest.raises(vol.Invalid):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {"family_inverter": "INV1", "family": "bogus"}
        )


# --- translations ----------------------------------------------------------------------


def _leaves(tree: dict[str, Any], prefix: str = "") -> set[str]:
    """Return the dotted paths of all strings in a translation tree."""
    paths: set[str] = set()
    for key, value in tree.items():
        if isinstance(value, dict):
            paths |= _leaves(value, f"{prefix}{key}.")
        else:
            paths.add(f"{prefix}{key}")
    return paths


def test_translations_complete() -> None:
    """Every language has the same keys, covering the flow's steps, errors and aborts."""
    trees = {path.stem: json.loads(path.read_text("utf-8")) for path in TRANSLATIONS.glob("*.json")}
    assert {"en", "nl", "de"} <= set(trees)
    english = _leaves(trees["en"])
    for language, tree in trees.items():
        assert _leaves(tree) == english, language

    for path in (
        "config.step.user.menu_options.growatt_local",
        "config.error.port_in_use",
        "config.error.cannot_bind",
        "config.error.invalid_host",
        "config.abort.already_configured",
        "config.abort.already_in_progress",
        "config.abort.reconfigure_successful",
        "options.error.invalid_serial",
        "selector.mode.options.server",
        "selector.mode.options.proxy",
        "selector.family.options.auto",
        "issues.port_unavailable.title",
        "issues.port_unavailable.fix_flow.step.choose_port.description",
    ):
        assert path in english, path
    config_steps = trees["en"]["config"]["step"]
    for step, fields in (
        ("growatt_local", {CONF_HOST, CONF_PORT, CONF_MODE}),
        ("growatt_proxy", {CONF_UPSTREAM_HOST, CONF_UPSTREAM_PORT}),
        (
            "reconfigure",
            {CONF_HOST, CONF_PORT, CONF_MODE, CONF_UPSTREAM_HOST, CONF_UPSTREAM_PORT},
        ),
    ):
        assert set(config_steps[step]["data"]) == fields, step
        assert set(config_steps[step]["data_description"]) == fields, step
    init = trees["en"]["options"]["step"]["init"]
    assert {CONF_ALLOWED_DATALOGGERS, CONF_ALLOW_REDIRECT, CONF_MAX_CONNECTIONS} <= set(
        init["data"]
    )
    assert set(init["data_description"]) == set(init["data"])
    for family in ("auto", "tl", "tl_x", "tl3_x", "sph", "spf"):
        assert family in trees["en"]["selector"]["family"]["options"]
