"""Reader settings from config-entry data (light: imported by the config flow)."""

from __future__ import annotations

from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT

from .const import (
    CONF_AUTHENTICATION_KEY,
    CONF_CONNECTION_TYPE,
    CONF_DSMR_VERSION,
    CONF_ENCRYPTION_KEY,
    CONF_SERIAL_PATH,
)
from .p1.link import ConnectionType, P1Settings


def settings_from_data(data: dict[str, Any] | Any) -> P1Settings:
    """Build the reader settings from config-entry data (or flow input of the same shape)."""
    connection = ConnectionType(data[CONF_CONNECTION_TYPE])
    return P1Settings(
        connection=connection,
        dsmr_version=data[CONF_DSMR_VERSION],
        path=data.get(CONF_SERIAL_PATH),
        host=data.get(CONF_HOST),
        port=data.get(CONF_PORT),
        encryption_key=data.get(CONF_ENCRYPTION_KEY, ""),
        authentication_key=data.get(CONF_AUTHENTICATION_KEY, ""),
    )
