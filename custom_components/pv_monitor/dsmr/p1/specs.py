"""DSMR versions offered in the config flow: dsmr-parser telegram specifications.

Every specification that dsmr-parser (1.4.3, the version Home Assistant's own dsmr
integration pins) defines is offered, with the serial settings its meters use
(``dsmr_parser.clients.settings``; DSMR 2.2/3: 9600 7E1, DSMR 4: 115200 7E1, DSMR 5 and
derived: 115200 8N1, as in ``dsmr_parser.clients.protocol.create_dsmr_protocol``).
"""

from __future__ import annotations

from dataclasses import dataclass
import importlib
from typing import Any, Final

MAX_LINE: Final = 64
"""Characters allowed per object of a specification when estimating its longest telegram:
the longest single-value DSMR lines (M-Bus readings with a timestamp) are ~45 characters."""
MAX_LISTS: Final = 2048
"""Characters added for the list-valued lines (power-failure event log, up to 10 entries of
~30 characters; the Belgian 13-month peak-demand history, 13 entries of ~45 characters) and
the header: our estimate, checked against dsmr-parser's longest test telegram (1.4 KiB)."""

# dsmr-parser is imported only when a specification is used (in the executor or at entry
# set-up): Home Assistant preloads the config flow, which only needs the keys and labels.


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
    specification_name: str
    serial_settings_name: str
    encrypted: bool = False

    @property
    def specification(self) -> dict[str, Any]:
        """dsmr-parser's telegram specification (``telegram_specifications.<name>``)."""
        module = importlib.import_module("dsmr_parser.telegram_specifications")
        spec: dict[str, Any] = getattr(module, self.specification_name)
        return spec

    @property
    def serial_settings(self) -> dict[str, Any]:
        """Pyserial settings (``dsmr_parser.clients.settings.SERIAL_SETTINGS_<name>``)."""
        module = importlib.import_module("dsmr_parser.clients.settings")
        settings: dict[str, Any] = getattr(module, f"SERIAL_SETTINGS_{self.serial_settings_name}")
        return settings

    @property
    def longest_telegram(self) -> int:
        """Estimated length (characters) of the longest telegram of the specification.

        ``objects x MAX_LINE + MAX_LISTS``; for an encrypted meter the hex text of the
        largest frame accepted (:data:`.reader.MAX_ENCRYPTED_FRAME`, 4,096 bytes).
        """
        if self.encrypted:
            return 2 * 4096
        return len(self.specification["objects"]) * MAX_LINE + MAX_LISTS


DSMR_VERSIONS: Final[dict[str, DsmrVersion]] = {
    version.key: version
    for version in (
        DsmrVersion("2.2", "V2_2", "V2_2"),
        DsmrVersion("3", "V3", "V2_2"),
        DsmrVersion("4", "V4", "V4"),
        DsmrVersion("5", "V5", "V5"),
        DsmrVersion("5B", "BELGIUM_FLUVIUS", "V5"),
        DsmrVersion("5L", "LUXEMBOURG_SMARTY", "V5"),
        DsmrVersion("5S", "SWEDEN", "V5"),
        DsmrVersion("Q3D", "Q3D", "V5"),
        DsmrVersion("ISKRA_IE", "ISKRA_IE", "V5"),
        DsmrVersion("5EONHU", "EON_HUNGARY", "V5"),
        DsmrVersion(
            "SAGEMCOM_T210_D",
            "SAGEMCOM_T210_D_R",
            "V5",
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
