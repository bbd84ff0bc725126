"""DSMR versions offered in the config flow: dsmr-parser telegram specifications.

Every specification that dsmr-parser (1.4.3, the version Home Assistant's own dsmr
integration pins) defines is offered, with the serial settings its meters use
(``dsmr_parser.clients.settings``; DSMR 2.2/3: 9600 7E1, DSMR 4: 115200 7E1, DSMR 5 and
derived: 115200 8N1, as in ``dsmr_parser.clients.protocol.create_dsmr_protocol``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from dsmr_parser import telegram_specifications
from dsmr_parser.clients.settings import (
    SERIAL_SETTINGS_V2_2,
    SERIAL_SETTINGS_V4,
    SERIAL_SETTINGS_V5,
)


@dataclass(frozen=True, slots=True)
class DsmrVersion:
    """One selectable DSMR version.

    Attributes:
        key: value stored in the entry (``data["dsmr_version"]``).
        specification: the dsmr-parser telegram specification (a dict of OBIS objects).
        serial_settings: pyserial settings (baud rate, byte size, parity, stop bits).
        encrypted: the meter sends DLMS general-global-cipher frames (AES-GCM), which need
            the decryption and authentication keys of the grid operator.
    """

    key: str
    specification: dict[str, Any]
    serial_settings: dict[str, Any]
    encrypted: bool = False


DSMR_VERSIONS: Final[dict[str, DsmrVersion]] = {
    version.key: version
    for version in (
        DsmrVersion("2.2", telegram_specifications.V2_2, SERIAL_SETTINGS_V2_2),
        DsmrVersion("3", telegram_specifications.V3, SERIAL_SETTINGS_V2_2),
        DsmrVersion("4", telegram_specifications.V4, SERIAL_SETTINGS_V4),
        DsmrVersion("5", telegram_specifications.V5, SERIAL_SETTINGS_V5),
        DsmrVersion("5B", telegram_specifications.BELGIUM_FLUVIUS, SERIAL_SETTINGS_V5),
        DsmrVersion("5L", telegram_specifications.LUXEMBOURG_SMARTY, SERIAL_SETTINGS_V5),
        DsmrVersion("5S", telegram_specifications.SWEDEN, SERIAL_SETTINGS_V5),
        DsmrVersion("Q3D", telegram_specifications.Q3D, SERIAL_SETTINGS_V5),
        DsmrVersion("ISKRA_IE", telegram_specifications.ISKRA_IE, SERIAL_SETTINGS_V5),
        DsmrVersion("5EONHU", telegram_specifications.EON_HUNGARY, SERIAL_SETTINGS_V5),
        DsmrVersion(
            "SAGEMCOM_T210_D",
            telegram_specifications.SAGEMCOM_T210_D_R,
            SERIAL_SETTINGS_V5,
            encrypted=True,
        ),
    )
}
"""Every DSMR version by key: 2.2, 3, 4, 5, 5B (Belgium, Fluvius), 5L (Luxembourg, Smarty),
5S (Sweden), Q3D (Germany, EasyMeter), ISKRA_IE (Ireland), 5EONHU (Hungary, E.ON) and
SAGEMCOM_T210_D (Austria, Energienetze Steiermark; encrypted)."""

DEFAULT_DSMR_VERSION: Final = "5"
KEY_HEX_LENGTH: Final = 32
"""AES-128 keys (DLMS security suite 0) as 32 hexadecimal characters."""


def is_valid_key(key: str) -> bool:
    """Return whether ``key`` is a 128-bit key written as 32 hexadecimal characters."""
    if len(key) != KEY_HEX_LENGTH:
        return False
    try:
        bytes.fromhex(key)
    except ValueError:
        return False
    return True
