"""Config, options and reconfigure steps of the Growatt local kind.

Growatt local (``growatt_local``): Home Assistant listens on a TCP port that a
ShineWiFi/ShineLAN datalogger has been pointed at, either answering it itself
(``server`` mode) or relaying to the Growatt cloud (``proxy`` mode, extra step
``growatt_proxy``). One entry per port: unique id ``growatt_local_<port>``.
Before an entry is created (or moved to another address) the address is test-bound.
"""

from __future__ import annotations

from collections.abc import Mapping
import errno
import logging
import re
import socket
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)
from homeassistant.util.network import is_host_valid
import voluptuous as vol

from ..common.flow import ERROR_INVALID_HOST, checked_host
from ..const import CONF_KIND, DOMAIN, EntryKind
from .const import (
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
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_UPSTREAM_HOST,
    DEFAULT_UPSTREAM_PORT,
    ListenerMode,
    options_with_defaults,
)
from .protocol.limits import normalise_serials

_LOGGER = logging.getLogger(__name__)

STEP_GROWATT_PROXY: Final = "growatt_proxy"

ERROR_PORT_IN_USE: Final = "port_in_use"
ERROR_CANNOT_BIND: Final = "cannot_bind"
ERROR_INVALID_SERIAL: Final = "invalid_serial"

FAMILY_AUTO: Final = "auto"
"""Option value meaning "no override, detect the inverter family automatically"."""
INVERTER_FAMILIES: Final[tuple[str, ...]] = ("tl", "tl_x", "tl3_x", "sph", "spf")
"""Inverter families a user can force for one inverter serial."""
CONF_FAMILY_INVERTER: Final = "family_inverter"
"""Options-form field: the inverter (serial) whose family to set."""
CONF_FAMILY: Final = "family"
"""Options-form field: the family to force on that inverter (``auto``: detect again)."""
_MAX_CONNECTIONS_SELECTOR: Final = NumberSelector(
    NumberSelectorConfig(min=1, max=10000, step=1, mode=NumberSelectorMode.BOX)
)

_DEVICE_CAP_SELECTOR: Final = vol.All(
    NumberSelector(NumberSelectorConfig(min=1, max=64, step=1, mode=NumberSelectorMode.BOX)),
    vol.Coerce(int),
)
_CAPS: Final = (CONF_MAX_DATALOGGERS, CONF_MAX_INVERTERS)
"""Options capping the devices one entry creates."""

_SERIAL_RE: Final = re.compile(r"[A-Z0-9]{1,30}")

_PORT_SELECTOR: Final = vol.All(
    NumberSelector(NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)),
    vol.Coerce(int),
)
_HOST_SELECTOR: Final = TextSelector(TextSelectorConfig(autocomplete="off"))
_MODE_SELECTOR: Final = SelectSelector(
    SelectSelectorConfig(
        options=[mode.value for mode in ListenerMode],
        translation_key="mode",
        mode=SelectSelectorMode.LIST,
    )
)
_FAMILY_SELECTOR: Final = SelectSelector(
    SelectSelectorConfig(
        options=[FAMILY_AUTO, *INVERTER_FAMILIES],
        translation_key="family",
        mode=SelectSelectorMode.DROPDOWN,
    )
)

GROWATT_LOCAL_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_HOST, default=DEFAULT_HOST): _HOST_SELECTOR,
        vol.Required(CONF_PORT, default=DEFAULT_PORT): _PORT_SELECTOR,
        vol.Required(CONF_MODE, default=ListenerMode.SERVER.value): _MODE_SELECTOR,
    }
)
GROWATT_PROXY_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_UPSTREAM_HOST, default=DEFAULT_UPSTREAM_HOST): _HOST_SELECTOR,
        vol.Required(CONF_UPSTREAM_PORT, default=DEFAULT_UPSTREAM_PORT): _PORT_SELECTOR,
    }
)
GROWATT_RECONFIGURE_SCHEMA: Final = GROWATT_LOCAL_SCHEMA.extend(GROWATT_PROXY_SCHEMA.schema)


def growatt_local_unique_id(port: int) -> str:
    """Return the unique id of the Growatt local entry listening on ``port``."""
    return f"growatt_local_{port}"


def growatt_local_title(port: int) -> str:
    """Return the title of the Growatt local entry listening on ``port``."""
    return f"Growatt datalogger (port {port})"


def _try_bind(host: str, port: int) -> None:
    """Bind (without listening) a TCP socket to every address of ``host`` and close it.

    Uses SO_REUSEADDR (and IPV6_V6ONLY for IPv6), as asyncio's ``start_server`` does, so
    the check succeeds exactly when the listener would be able to open the port.
    Runs in the executor: name resolution and binding block.

    Raises:
        OSError: the address cannot be resolved (``socket.gaierror``) or bound.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    for family, sock_type, proto, _canonname, sockaddr in infos:
        sock = socket.socket(family, sock_type, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(sockaddr)
        finally:
            sock.close()


async def async_check_bindable(
    hass: HomeAssistant, host: str, port: int, *, tolerate_in_use: bool = False
) -> tuple[str, str] | None:
    """Test-bind ``host``:``port``; return ``None`` when it is free.

    Otherwise return ``(error key, error text)``: ``port_in_use`` (EADDRINUSE, skipped
    when ``tolerate_in_use``) or ``cannot_bind`` (any other failure, e.g. EACCES,
    EADDRNOTAVAIL for an address that is not on this machine, unresolvable name).
    """
    try:
        await hass.async_add_executor_job(_try_bind, host, port)
    except socket.gaierror as err:
        _LOGGER.debug("Cannot resolve listen address %s: %s", host, err)
        return ERROR_CANNOT_BIND, str(err)
    except OSError as err:
        _LOGGER.debug("Cannot bind %s:%s: %s", host, port, err)
        if err.errno == errno.EADDRINUSE:
            return None if tolerate_in_use else (ERROR_PORT_IN_USE, str(err))
        return ERROR_CANNOT_BIND, str(err)
    return None


async def _async_validate_listen_address(
    hass: HomeAssistant,
    host: str,
    port: int,
    errors: dict[str, str],
    placeholders: dict[str, str],
    *,
    tolerate_in_use: bool = False,
) -> None:
    """Check the listen address, adding form errors and the ``{error}`` placeholder."""
    if not is_host_valid(host):
        errors[CONF_HOST] = ERROR_INVALID_HOST
        return
    if failure := await async_check_bindable(hass, host, port, tolerate_in_use=tolerate_in_use):
        key, text = failure
        errors[CONF_PORT if key == ERROR_PORT_IN_USE else "base"] = key
        placeholders["error"] = text


def is_valid_serial(serial: str) -> bool:
    """Return whether ``serial`` is 1-30 ASCII letters or digits (uppercase)."""
    return _SERIAL_RE.fullmatch(serial) is not None


class GrowattLocalFlowMixin(ConfigFlow):
    """Steps adding and reconfiguring a Growatt local (datalogger listener) entry."""

    _growatt_local: dict[str, Any]

    async def async_step_growatt_local(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Configure the local listener for Growatt dataloggers."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            host = user_input[CONF_HOST].strip()
            port: int = user_input[CONF_PORT]
            # The entry already on this port holds the socket: abort before binding.
            await self.async_set_unique_id(growatt_local_unique_id(port))
            self._abort_if_unique_id_configured()
            await _async_validate_listen_address(self.hass, host, port, errors, placeholders)
            if not errors:
                self._growatt_local = {
                    CONF_KIND: EntryKind.GROWATT_LOCAL.value,
                    CONF_HOST: host,
                    CONF_PORT: port,
                    CONF_MODE: user_input[CONF_MODE],
                    CONF_UPSTREAM_HOST: DEFAULT_UPSTREAM_HOST,
                    CONF_UPSTREAM_PORT: DEFAULT_UPSTREAM_PORT,
                }
                if user_input[CONF_MODE] == ListenerMode.PROXY:
                    return await self.async_step_growatt_proxy()
                return self._async_create_growatt_local_entry()

        return self.async_show_form(
            step_id=EntryKind.GROWATT_LOCAL.value,
            data_schema=self.add_suggested_values_to_schema(GROWATT_LOCAL_SCHEMA, user_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_growatt_proxy(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask where the Growatt cloud server is, for proxy mode."""
        errors: dict[str, str] = {}
        if user_input is not None:
            # Syntax only: the cloud may be unreachable (or DNS offline) right now.
            upstream_host = checked_host(user_input, CONF_UPSTREAM_HOST, errors)
            if not errors:
                self._growatt_local[CONF_UPSTREAM_HOST] = upstream_host
                self._growatt_local[CONF_UPSTREAM_PORT] = user_input[CONF_UPSTREAM_PORT]
                return self._async_create_growatt_local_entry()

        return self.async_show_form(
            step_id=STEP_GROWATT_PROXY,
            data_schema=self.add_suggested_values_to_schema(GROWATT_PROXY_SCHEMA, user_input),
            errors=errors,
        )

    @callback
    def _async_create_growatt_local_entry(self) -> ConfigFlowResult:
        """Create the Growatt local entry from the collected data."""
        return self.async_create_entry(
            title=growatt_local_title(self._growatt_local[CONF_PORT]),
            data=self._growatt_local,
            options={
                CONF_ALLOWED_DATALOGGERS: [],
                CONF_ALLOW_REDIRECT: False,
                CONF_INVERTER_FAMILIES: {},
            },
        )

    async def async_step_reconfigure_growatt_local(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the listen address, mode and upstream server of a Growatt local entry."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            host = user_input[CONF_HOST].strip()
            port: int = user_input[CONF_PORT]
            mode = user_input[CONF_MODE]
            upstream_host = user_input[CONF_UPSTREAM_HOST].strip()
            unique_id = growatt_local_unique_id(port)
            port_changed = port != entry.data[CONF_PORT]
            if port_changed and (
                other := self.hass.config_entries.async_entry_for_domain_unique_id(
                    DOMAIN, unique_id
                )
            ):
                _LOGGER.debug("Port %s is used by entry %s", port, other.title)
                return self.async_abort(reason="already_configured")
            if port_changed or host != entry.data[CONF_HOST]:
                # Same port on another address: a loaded entry holds the port itself,
                # so EADDRINUSE is expected there and only other failures count.
                await _async_validate_listen_address(
                    self.hass,
                    host,
                    port,
                    errors,
                    placeholders,
                    tolerate_in_use=not port_changed and entry.state is ConfigEntryState.LOADED,
                )
            if mode == ListenerMode.PROXY and not is_host_valid(upstream_host):
                errors[CONF_UPSTREAM_HOST] = ERROR_INVALID_HOST
            if not errors:
                proxy = mode == ListenerMode.PROXY
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=unique_id,
                    title=growatt_local_title(port),
                    data_updates={
                        CONF_HOST: host,
                        CONF_PORT: port,
                        CONF_MODE: mode,
                        CONF_UPSTREAM_HOST: upstream_host if proxy else DEFAULT_UPSTREAM_HOST,
                        CONF_UPSTREAM_PORT: (
                            user_input[CONF_UPSTREAM_PORT] if proxy else DEFAULT_UPSTREAM_PORT
                        ),
                    },
                )

        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                GROWATT_RECONFIGURE_SCHEMA, user_input or entry.data
            ),
            errors=errors,
            description_placeholders=placeholders,
        )


class GrowattLocalOptionsFlow(OptionsFlow):
    """Options of a Growatt local entry: datalogger allow-list, redirects, families."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and save the options."""
        options = self.config_entry.options
        current = options_with_defaults(options)
        proxy = self.config_entry.data[CONF_MODE] == ListenerMode.PROXY
        families: Mapping[str, str] = current[CONF_INVERTER_FAMILIES]
        seen: list[str] = getattr(
            getattr(self.config_entry, "runtime_data", None), "inverter_serials", []
        )
        serials = sorted({*seen, *families})
        errors: dict[str, str] = {}

        if user_input is not None:
            chosen = options_with_defaults(user_input)
            allowed = normalise_serials(chosen[CONF_ALLOWED_DATALOGGERS])
            if not all(is_valid_serial(serial) for serial in allowed):
                errors[CONF_ALLOWED_DATALOGGERS] = ERROR_INVALID_SERIAL
            else:
                overrides = _family_overrides(families, user_input)
                return self.async_create_entry(
                    data={
                        CONF_ALLOWED_DATALOGGERS: allowed,
                        CONF_ALLOW_REDIRECT: proxy and bool(chosen[CONF_ALLOW_REDIRECT]),
                        CONF_INVERTER_FAMILIES: overrides,
                        CONF_MAX_CONNECTIONS: int(chosen[CONF_MAX_CONNECTIONS]),
                        CONF_ALLOW_COMMANDS: proxy and bool(chosen[CONF_ALLOW_COMMANDS]),
                        CONF_LOCAL_COMMANDS: proxy and bool(chosen[CONF_LOCAL_COMMANDS]),
                        **{key: int(chosen[key]) for key in _CAPS},
                    }
                )

        fields = _options_fields(current, proxy, serials, families)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(fields), user_input or options
            ),
            errors=errors,
            description_placeholders={
                "inverters": ", ".join(serials) or "-",
                "families": ", ".join(f"{s}: {f}" for s, f in sorted(families.items())) or "-",
            },
        )


def _options_fields(
    options: Mapping[str, Any], proxy: bool, serials: list[str], families: Mapping[str, str]
) -> dict[vol.Marker, Any]:
    """Fields of the options form: allow-list, limits, proxy policy, family per inverter.

    ``options`` are the entry's with their defaults (:func:`.const.options_with_defaults`).
    """
    fields: dict[vol.Marker, Any] = {
        vol.Optional(CONF_ALLOWED_DATALOGGERS): TextSelector(
            TextSelectorConfig(multiple=True, autocomplete="off")
        ),
    }
    fields[vol.Required(CONF_MAX_CONNECTIONS, default=options[CONF_MAX_CONNECTIONS])] = (
        _MAX_CONNECTIONS_SELECTOR
    )
    for key in _CAPS:
        fields[vol.Required(key, default=options[key])] = _DEVICE_CAP_SELECTOR
    if proxy:
        for key in (CONF_ALLOW_REDIRECT, CONF_ALLOW_COMMANDS, CONF_LOCAL_COMMANDS):
            fields[vol.Required(key, default=options[key])] = BooleanSelector()
    if serials:
        fields[vol.Optional(CONF_FAMILY_INVERTER)] = SelectSelector(
            SelectSelectorConfig(options=serials, mode=SelectSelectorMode.DROPDOWN)
        )
        fields[vol.Optional(CONF_FAMILY)] = _FAMILY_SELECTOR
    return fields


def _family_overrides(families: Mapping[str, str], user_input: Mapping[str, Any]) -> dict[str, str]:
    """The family overrides after the form: the chosen inverter gets the chosen family.

    Fixed field names (``family_inverter``, ``family``) rather than one field per serial, so
    the form's labels are translatable; one inverter is changed per save, the others keep
    their overrides; ``auto`` removes the chosen inverter's override.
    """
    overrides = dict(families)
    serial = user_input.get(CONF_FAMILY_INVERTER)
    family = user_input.get(CONF_FAMILY)
    if serial and family:
        if family == FAMILY_AUTO:
            overrides.pop(serial, None)
        else:
            overrides[serial] = family
    return overrides
