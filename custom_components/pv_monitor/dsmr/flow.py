"""Config-flow steps of the DSMR P1 smart-meter source (mixin of the integration's flow).

``dsmr`` (menu) -> ``dsmr_serial`` (port from the detected ones, shown by their
/dev/serial/by-id path, or typed) or ``dsmr_network`` (host, port) with the DSMR version
-> ``dsmr_keys`` (encrypted meters only) -> one valid telegram is read before the entry is
created. Unique id: the meter's equipment identifier (``0-0:96.1.1``; for a meter that
sends none, e.g. a Sagemcom T210-D, an id of the entry's own, so that it survives a change
of port or address). Reconfigure changes the port / address (and version, keys) of the same
meter; the options set the power-sensor write interval, the reconnect interval and the
grid connection's limit for the energy counters.

dsmr-parser (and dlms-cosem) are imported only when a telegram is read, in the executor:
Home Assistant preloads this module with the integration's config flow.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Final
from uuid import uuid4

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers.importlib import async_import_module
from homeassistant.helpers.selector import SelectOptionDict, TextSelector, TextSelectorConfig
from serial.tools import list_ports
import voluptuous as vol

from ..common.counter import METER_MAX_POWER_KW
from ..common.flow import (
    KindFlowMixin,
    OneFormOptionsFlow,
    checked_host,
    choice,
    number_box,
    schema_defaults,
)
from ..const import CONF_KIND, EntryKind
from .const import (
    CONF_AUTHENTICATION_KEY,
    CONF_CONNECTION_TYPE,
    CONF_DSMR_VERSION,
    CONF_ENCRYPTION_KEY,
    CONF_MAX_POWER_KW,
    CONF_POWER_INTERVAL,
    CONF_RECONNECT_INTERVAL,
    CONF_SERIAL_PATH,
    DEFAULT_NETWORK_PORT,
    DEFAULT_POWER_INTERVAL,
    DEFAULT_RECONNECT_INTERVAL,
    TEST_TELEGRAM_TIMEOUT,
)
from .p1.link import ConnectionType
from .p1.mapping import decode_identifier, reading_from_telegram
from .p1.specs import DEFAULT_DSMR_VERSION, DSMR_VERSIONS, is_valid_key
from .settings import settings_from_data

_LOGGER = logging.getLogger(__name__)

SERIAL_BY_ID: Final = "/dev/serial/by-id"

VERSION_LABELS: Final[dict[str, str]] = {
    "2.2": "DSMR 2.2 (Netherlands)",
    "3": "DSMR 3 (Netherlands)",
    "4": "DSMR 4 (Netherlands)",
    "5": "DSMR 5 (Netherlands)",
    "5B": "DSMR 5B (Belgium, Fluvius)",
    "5L": "DSMR 5L (Luxembourg, Smarty)",
    "5S": "DSMR 5S (Sweden)",
    "Q3D": "Q3D (Germany, EasyMeter)",
    "ISKRA_IE": "Iskra (Ireland)",
    "5EONHU": "E.ON Hungary",
    "SAGEMCOM_T210_D": "Sagemcom T210-D (Austria, encrypted)",
}
"""Labels of the DSMR versions (product and country names, not translated)."""

ERROR_CANNOT_CONNECT: Final = "dsmr_cannot_connect"
ERROR_NO_TELEGRAM: Final = "dsmr_no_telegram"
ERROR_INVALID_TELEGRAMS: Final = "dsmr_invalid_telegrams"
ERROR_ENCRYPTED: Final = "dsmr_encrypted_frames"
"""Encrypted (general-global-cipher) frames arrived on a plain version: pick Sagemcom."""
OWN_ID_PREFIX: Final = "dsmr_"
"""Unique ids of meters that send no identifier start so (older entries: ``dsmr_host:port``,
newer: ``dsmr_<random hex>``); reconfigure cannot check such a meter's identity."""
ERROR_INVALID_KEY: Final = "dsmr_invalid_key"

_VERSION_SELECTOR: Final = choice(
    (SelectOptionDict(value=key, label=VERSION_LABELS[key]) for key in DSMR_VERSIONS),
    dropdown=True,
)
_PORT_SELECTOR: Final = vol.All(number_box(1, 65535), vol.Coerce(int))
_TEXT: Final = TextSelector(TextSelectorConfig(autocomplete="off"))


def list_serial_ports() -> list[SelectOptionDict]:
    """Detected serial ports as select options, by their /dev/serial/by-id path if any.

    Blocking (reads /dev and sysfs): run in the executor.
    """
    by_id: dict[str, str] = {}
    if os.path.isdir(SERIAL_BY_ID):
        for name in sorted(os.listdir(SERIAL_BY_ID)):
            link = os.path.join(SERIAL_BY_ID, name)
            by_id[os.path.realpath(link)] = link
    options: list[SelectOptionDict] = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        path = by_id.get(os.path.realpath(port.device), port.device)
        details = ", ".join(
            part for part in (port.description, port.manufacturer) if part and part != "n/a"
        )
        label = f"{path} ({details})" if details else path
        options.append(SelectOptionDict(value=path, label=label))
    return options


def dsmr_title(equipment_id: str | None, label: str) -> str:
    """Title of a meter entry: its decoded equipment identifier, else the connection."""
    if equipment_id:
        return f"Smart meter {decode_identifier(equipment_id)}"
    return f"Smart meter ({label})"


def _serial_schema(ports: list[SelectOptionDict]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_SERIAL_PATH): choice(ports, dropdown=True, custom_value=True),
            vol.Required(CONF_DSMR_VERSION, default=DEFAULT_DSMR_VERSION): _VERSION_SELECTOR,
        }
    )


NETWORK_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_HOST): _TEXT,
        vol.Required(CONF_PORT, default=DEFAULT_NETWORK_PORT): _PORT_SELECTOR,
        vol.Required(CONF_DSMR_VERSION, default=DEFAULT_DSMR_VERSION): _VERSION_SELECTOR,
    }
)
KEYS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_ENCRYPTION_KEY): _TEXT,
        vol.Required(CONF_AUTHENTICATION_KEY): _TEXT,
    }
)


async def async_test_connection(
    hass: HomeAssistant, data: dict[str, Any]
) -> tuple[str | None, str | None]:
    """Read one valid telegram with ``data``'s settings.

    Returns ``(error key, None)`` on failure, else ``(None, equipment identifier)``
    (the identifier may be None for meters that send none).
    """
    settings = settings_from_data(data)
    reader = await async_import_module(hass, f"{__package__}.p1.reader")
    try:
        telegram = await reader.async_read_one_telegram(settings, TEST_TELEGRAM_TIMEOUT)
    except reader.NoTelegramError as err:
        _LOGGER.debug("No valid telegram from %s: %s", settings.label, err)
        if err.encrypted and not DSMR_VERSIONS[settings.dsmr_version].encrypted:
            return ERROR_ENCRYPTED, None
        return (ERROR_INVALID_TELEGRAMS if err.dropped else ERROR_NO_TELEGRAM), None
    except OSError as err:
        _LOGGER.debug("Cannot connect to %s: %s", settings.label, err)
        return ERROR_CANNOT_CONNECT, None
    return None, reading_from_telegram(telegram).equipment_id


def _normalise_keys(user_input: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    keys = {
        name: str(user_input.get(name, "")).strip().replace(" ", "").upper()
        for name in (CONF_ENCRYPTION_KEY, CONF_AUTHENTICATION_KEY)
    }
    for name, key in keys.items():
        if not is_valid_key(key):
            errors[name] = ERROR_INVALID_KEY
    return keys


class DsmrFlowMixin(KindFlowMixin):
    """Steps adding and reconfiguring a DSMR P1 meter entry."""

    def _dsmr_data(self) -> dict[str, Any]:
        return self.kind_values(EntryKind.DSMR)

    async def async_step_dsmr(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose how the P1 port is connected."""
        return self.async_show_menu(step_id="dsmr", menu_options=["dsmr_serial", "dsmr_network"])

    async def async_step_dsmr_serial(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose (or type) the serial port of the P1 cable and the DSMR version."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = self._dsmr_data()
            data.clear()
            data.update(
                {
                    CONF_KIND: EntryKind.DSMR.value,
                    CONF_CONNECTION_TYPE: ConnectionType.SERIAL.value,
                    CONF_SERIAL_PATH: user_input[CONF_SERIAL_PATH].strip(),
                    CONF_DSMR_VERSION: user_input[CONF_DSMR_VERSION],
                }
            )
            if DSMR_VERSIONS[data[CONF_DSMR_VERSION]].encrypted:
                return await self.async_step_dsmr_keys()
            if not (errors := await self._async_dsmr_check()):
                return await self._async_dsmr_create()
        ports = await self.hass.async_add_executor_job(list_serial_ports)
        return self.async_show_step("dsmr_serial", _serial_schema(ports), user_input, errors)

    async def async_step_dsmr_network(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enter the host and port of a ser2net server or P1 network dongle."""
        errors: dict[str, str] = {}
        if user_input is not None:
            host = checked_host(user_input, CONF_HOST, errors)
            if not errors:
                data = self._dsmr_data()
                data.clear()
                data.update(
                    {
                        CONF_KIND: EntryKind.DSMR.value,
                        CONF_CONNECTION_TYPE: ConnectionType.NETWORK.value,
                        CONF_HOST: host,
                        CONF_PORT: user_input[CONF_PORT],
                        CONF_DSMR_VERSION: user_input[CONF_DSMR_VERSION],
                    }
                )
                if DSMR_VERSIONS[data[CONF_DSMR_VERSION]].encrypted:
                    return await self.async_step_dsmr_keys()
                if not (errors := await self._async_dsmr_check()):
                    return await self._async_dsmr_create()
        return self.async_show_step("dsmr_network", NETWORK_SCHEMA, user_input, errors)

    async def async_step_dsmr_keys(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enter the decryption and authentication keys of an encrypted meter."""
        errors: dict[str, str] = {}
        if user_input is not None:
            keys = _normalise_keys(user_input, errors)
            if not errors:
                self._dsmr_data().update(keys)
                if not (errors := await self._async_dsmr_check()):
                    return await self._async_dsmr_create()
        return self.async_show_step("dsmr_keys", KEYS_SCHEMA, user_input, errors)

    async def _async_dsmr_check(self) -> dict[str, str]:
        """Read a telegram; remember the meter's identifier; return form errors."""
        data = self._dsmr_data()
        error, equipment_id = await async_test_connection(self.hass, data)
        if error:
            return {"base": error}
        data["_equipment_id"] = equipment_id
        return {}

    async def _async_dsmr_create(self) -> ConfigFlowResult:
        data = dict(self._dsmr_data())
        equipment_id = data.pop("_equipment_id")
        label = settings_from_data(data).label
        if equipment_id:
            await self.async_set_unique_id(equipment_id)
            self._abort_if_unique_id_configured()
        else:
            place = (CONF_SERIAL_PATH,) if CONF_SERIAL_PATH in data else (CONF_HOST, CONF_PORT)
            self._async_abort_entries_match({key: data[key] for key in place})
            await self.async_set_unique_id(f"{OWN_ID_PREFIX}{uuid4().hex}")
        return self.async_create_entry(
            title=dsmr_title(equipment_id, label),
            data=data,
            options=schema_defaults(OPTIONS_SCHEMA),
        )

    async def async_step_reconfigure_dsmr(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the port or address (and version, keys) of the same meter."""
        entry = self._get_reconfigure_entry()
        serial = entry.data[CONF_CONNECTION_TYPE] == ConnectionType.SERIAL
        errors: dict[str, str] = {}
        if user_input is not None:
            updates: dict[str, Any] = {CONF_DSMR_VERSION: user_input[CONF_DSMR_VERSION]}
            if serial:
                updates[CONF_SERIAL_PATH] = user_input[CONF_SERIAL_PATH].strip()
            else:
                updates[CONF_HOST] = checked_host(user_input, CONF_HOST, errors)
                updates[CONF_PORT] = user_input[CONF_PORT]
            if DSMR_VERSIONS[updates[CONF_DSMR_VERSION]].encrypted:
                updates.update(_normalise_keys(user_input, errors))
            if not errors:
                data = {**entry.data, **updates}
                error, equipment_id = await async_test_connection(self.hass, data)
                if error:
                    errors["base"] = error
                else:
                    own_id = str(entry.unique_id).startswith(OWN_ID_PREFIX)
                    if equipment_id and not own_id:
                        await self.async_set_unique_id(equipment_id)
                        self._abort_if_unique_id_mismatch(reason="dsmr_wrong_meter")
                    return self.async_update_reload_and_abort(entry, data_updates=updates)
        if serial:
            ports = await self.hass.async_add_executor_job(list_serial_ports)
            schema = _serial_schema(ports)
        else:
            schema = NETWORK_SCHEMA
        schema = schema.extend(
            {
                vol.Optional(CONF_ENCRYPTION_KEY): _TEXT,
                vol.Optional(CONF_AUTHENTICATION_KEY): _TEXT,
            }
        )
        return self.async_show_step("reconfigure_dsmr", schema, user_input or entry.data, errors)


OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_POWER_INTERVAL, default=DEFAULT_POWER_INTERVAL): number_box(
            0, 3600, unit="s"
        ),
        vol.Required(CONF_RECONNECT_INTERVAL, default=DEFAULT_RECONNECT_INTERVAL): number_box(
            1, 600, unit="s"
        ),
        vol.Required(CONF_MAX_POWER_KW, default=METER_MAX_POWER_KW): number_box(
            1, 1000, 0.01, "kW"
        ),
    }
)
"""Power-sensor write interval (s), reconnect interval (s), the counters' power bound (kW)."""


class DsmrOptionsFlow(OneFormOptionsFlow):
    """Options of a meter entry: power-sensor write interval, reconnect interval, power bound."""

    options_step = "dsmr_options"

    options_schema = OPTIONS_SCHEMA

    def options_data(self, user_input: dict[str, Any]) -> dict[str, Any]:
        """The submitted values as floats (the power bound defaults to the meter's)."""
        return {
            CONF_POWER_INTERVAL: float(user_input[CONF_POWER_INTERVAL]),
            CONF_RECONNECT_INTERVAL: float(user_input[CONF_RECONNECT_INTERVAL]),
            CONF_MAX_POWER_KW: float(user_input.get(CONF_MAX_POWER_KW, METER_MAX_POWER_KW)),
        }

    async_step_dsmr_options = OneFormOptionsFlow.async_options_step
