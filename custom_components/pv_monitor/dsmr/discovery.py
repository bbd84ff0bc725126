"""USB discovery of P1 cables (mixin of the integration's config flow).

Home Assistant's usb integration starts this flow for a USB serial adapter that matches a
``usb`` matcher of manifest.json: an FTDI FT232R (vendor 0403, product 6001) whose product
string names P1, as the common "P1 Converter Cable" does (its udev id reads
``usb-FTDI_P1_Converter_Cable_<serial>-if00-port0``; seen in ebaauw/homebridge-p1 issue 10).
Plain FTDI, Prolific or CH340 adapters carry only their chip's name and are not offered.

``usb`` -> ``dsmr_usb`` (confirm, DSMR version) -> the ``dsmr_serial`` step's own check
(one valid telegram) and entry. A port that an entry already reads aborts; ignoring the
discovery ignores that cable (unique id ``dsmr_usb_<USB serial or path>`` until the meter's
equipment identifier replaces it when the entry is created).
"""

from __future__ import annotations

import os
from typing import Any, Final

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers.service_info.usb import UsbServiceInfo
import voluptuous as vol

from .const import CONF_DSMR_VERSION, CONF_SERIAL_PATH
from .flow import _VERSION_SELECTOR, SERIAL_BY_ID, DsmrFlowMixin
from .p1.specs import DEFAULT_DSMR_VERSION

USB_SCHEMA: Final = vol.Schema(
    {vol.Required(CONF_DSMR_VERSION, default=DEFAULT_DSMR_VERSION): _VERSION_SELECTOR}
)
"""The confirmation form: only the DSMR version (the port is the discovered one)."""


def serial_by_id(device: str) -> str:
    """The stable /dev/serial/by-id link of ``device``, or ``device`` without one.

    Blocking (reads /dev): run in the executor.
    """
    if os.path.isdir(SERIAL_BY_ID):
        real = os.path.realpath(device)
        for name in sorted(os.listdir(SERIAL_BY_ID)):
            link = os.path.join(SERIAL_BY_ID, name)
            if os.path.realpath(link) == real:
                return link
    return device


class DsmrDiscoveryMixin(DsmrFlowMixin):
    """The USB discovery steps of the DSMR kind."""

    _dsmr_usb: dict[str, str]

    async def async_step_usb(self, discovery_info: UsbServiceInfo) -> ConfigFlowResult:
        """A P1 cable was plugged in: offer it unless an entry already reads its port."""
        path = await self.hass.async_add_executor_job(serial_by_id, discovery_info.device)
        for entry in self._async_current_entries(include_ignore=False):
            if entry.data.get(CONF_SERIAL_PATH) in (path, discovery_info.device):
                return self.async_abort(reason="already_configured")
        await self.async_set_unique_id(f"dsmr_usb_{discovery_info.serial_number or path}")
        self._abort_if_unique_id_configured()
        name = discovery_info.description or path
        self._dsmr_usb = {"path": path, "name": name}
        self.context["title_placeholders"] = {"name": name}
        return await self.async_step_dsmr_usb()

    async def async_step_dsmr_usb(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm the cable and choose the DSMR version; then read one telegram."""
        if user_input is not None:
            return await self.async_step_dsmr_serial(
                {
                    CONF_SERIAL_PATH: self._dsmr_usb["path"],
                    CONF_DSMR_VERSION: user_input[CONF_DSMR_VERSION],
                }
            )
        return self.async_show_form(
            step_id="dsmr_usb",
            data_schema=USB_SCHEMA,
            description_placeholders=dict(self._dsmr_usb),
        )
