"""The ``pv_monitor.read_registers`` and ``pv_monitor.write_register`` actions.

For advanced users: read raw holding registers of an inverter of a Growatt local entry, or
write one. Both go through the entry's :class:`~.control.InverterControl`, so the same
allow-list (registers and raw ranges per family, :mod:`.protocol.holding`), availability
and rate limit apply as to the entities; anything else is refused with a translated
:class:`ServiceValidationError` before a byte is sent.

Registered once in the integration's ``async_setup``; this module imports nothing of the
kind's runtime (the entry's runtime is found at call time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, SupportsResponse, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
import voluptuous as vol

from ..const import CONF_KIND, DOMAIN, EntryKind

if TYPE_CHECKING:
    from .control import InverterControl

SERVICE_READ_REGISTERS: Final = "read_registers"
SERVICE_WRITE_REGISTER: Final = "write_register"
ATTR_DEVICE_ID: Final = "device_id"
ATTR_REGISTER: Final = "register"
ATTR_COUNT: Final = "count"
ATTR_VALUE: Final = "value"

_U16: Final = vol.All(vol.Coerce(int), vol.Range(min=0, max=0xFFFF))

READ_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_REGISTER): _U16,
        vol.Optional(ATTR_COUNT, default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=125)),
    }
)
"""``device_id`` of an inverter, first ``register``, ``count`` registers (Modbus' 125 at
most)."""
WRITE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_REGISTER): _U16,
        vol.Required(ATTR_VALUE): _U16,
    }
)
"""``device_id`` of an inverter, ``register`` and its raw ``value`` (u16)."""


def _inverter(hass: HomeAssistant, device_id: str) -> tuple[InverterControl, str]:
    """The control of the loaded Growatt local entry that has inverter ``device_id``.

    Raises:
        ServiceValidationError: no such device, or not an inverter of a loaded entry.
    """
    device = dr.async_get(hass).async_get(device_id)
    if device is not None:
        serials = [ident for domain, ident in device.identifiers if domain == DOMAIN]
        for entry_id in device.config_entries:
            entry = hass.config_entries.async_get_entry(entry_id)
            if (
                entry is None
                or entry.domain != DOMAIN
                or entry.data.get(CONF_KIND) != EntryKind.GROWATT_LOCAL
                or entry.state is not ConfigEntryState.LOADED
            ):
                continue
            control: InverterControl = entry.runtime_data.control
            for serial in serials:
                if serial in control.coordinator.data.inverters:
                    return control, serial
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_an_inverter",
        translation_placeholders={"device_id": device_id},
    )


async def _async_read_registers(call: ServiceCall) -> dict[str, Any]:
    """Read ``count`` holding registers from ``register``: ``{"registers": {n: raw}}``."""
    control, serial = _inverter(call.hass, call.data[ATTR_DEVICE_ID])
    first = call.data[ATTR_REGISTER]
    last = first + call.data[ATTR_COUNT] - 1
    values = await control.async_read(serial, first, last)
    return {"registers": {str(number): value for number, value in sorted(values.items())}}


async def _async_write_register(call: ServiceCall) -> dict[str, Any]:
    """Write one allow-listed register: ``{"register": n, "value": read-back raw}``."""
    control, serial = _inverter(call.hass, call.data[ATTR_DEVICE_ID])
    register = call.data[ATTR_REGISTER]
    readback = await control.async_write(serial, register, call.data[ATTR_VALUE])
    return {"register": register, "value": readback}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the two actions (from the integration's ``async_setup``)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_READ_REGISTERS,
        _async_read_registers,
        schema=READ_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_WRITE_REGISTER,
        _async_write_register,
        schema=WRITE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
