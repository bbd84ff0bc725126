"""Redaction for diagnostics and logs: serials, keys, credentials, hosts, locations (pure).

Two passes, both case-insensitive:

* **by key** (:data:`PRIVATE_KEYS`): the value under a key that names a credential, a
  key, a network address, a location or a serial is replaced by :data:`REDACTED`, whatever
  its type; the strings found there are then also removed wherever they appear inside other
  strings (a meter identifier inside the raw telegram, a host inside an address);
* **by shape**: the USB serial inside a /dev/serial/by-id path is masked; a string that
  looks like a serial (:func:`looks_like_serial`, 8-30 ASCII
  letters and digits with at least one digit, any letter case) keeps its first three
  characters, which name the model family, and loses the rest, as dict keys too. Values
  under keys that name a firmware or version (:data:`VERSION_KEY_PARTS`) are left alone:
  Growatt firmware builds (``ahba1412``) have the shape of a serial and say nothing private.
"""

from __future__ import annotations

from collections.abc import Iterable
import re
from typing import Any, Final

REDACTED: Final = "**REDACTED**"
_SERIAL: Final = re.compile(r"^[A-Za-z0-9]{8,30}$")
_BY_ID_SERIAL: Final = re.compile(r"^(/dev/serial/by-id/usb-.+_)([A-Za-z0-9]{4,})(-if\d+.*)$")
"""A udev by-id path (``usb-<vendor>_<product>_<USB serial>-if<nn>-port<n>``): the USB
serial of the adapter is its third part."""

PRIVATE_KEYS: Final = frozenset(
    {
        # credentials and keys (growatt_cloud, dsmr)
        "username",
        "password",
        "password_hash",
        "token",
        "access_token",
        "refresh_token",
        "api_key",
        "cookie",
        "encryption_key",
        "authentication_key",
        "email",
        # network addresses (growatt_local listen/upstream, dsmr ser2net, datalogger LAN)
        "host",
        "upstream_host",
        "ip",
        "ip_address",
        "mac",
        "mac_address",
        # locations (pv_system site, growatt_cloud plant)
        "latitude",
        "longitude",
        "lat",
        "lon",
        "lng",
        "location",
        "address",
        "city",
        "country",
        "plant_name",
        # serials and identifiers (every kind; the by-shape pass catches the rest)
        "serial",
        "serial_number",
        "equipment_id",
    }
)
"""Keys (compared in lower case) whose values never appear in a download."""

VERSION_KEY_PARTS: Final = ("firmware", "version", "fw_", "sw_")
"""A key containing one of these names a version: its value is not a serial."""

_MIN_SCRUB_LEN: Final = 4
"""Shorter private strings (a port-less ``::1``?) are not searched for inside other text."""


def redact_serial(serial: str) -> str:
    """Keep the first three characters of a serial (the model prefix), mask the rest."""
    return serial[:3] + "*" * (len(serial) - 3)


def looks_like_serial(value: str) -> bool:
    """8-30 ASCII letters (either case) and digits with at least one digit."""
    return _SERIAL.match(value) is not None and any(c.isdigit() for c in value)


def _is_private(key: Any, private_keys: frozenset[str]) -> bool:
    return isinstance(key, str) and (key.lower() in PRIVATE_KEYS or key in private_keys)


def _is_version(key: Any) -> bool:
    return isinstance(key, str) and any(part in key.lower() for part in VERSION_KEY_PARTS)


def private_values(value: Any, private_keys: frozenset[str] = frozenset()) -> set[str]:
    """Every string (and number, as text) found under a private key, recursively."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if _is_private(key, private_keys):
                found |= _leaves(item)
            else:
                found |= private_values(item, private_keys)
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            found |= private_values(item, private_keys)
    return found


def _leaves(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_leaves(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple, set)):
        return set().union(*(_leaves(v) for v in value)) if value else set()
    if isinstance(value, bool) or value is None:
        return set()
    return {str(value)}


def redact_serials(
    value: Any, private_keys: frozenset[str] = frozenset(), scrub: Iterable[str] = ()
) -> Any:
    """Redact private keys, serial-looking strings and ``scrub`` strings, recursively.

    Args:
        value: plain data (dicts, lists, strings, numbers); tuples and sets become lists.
        private_keys: extra keys (exact case) whose values are replaced by :data:`REDACTED`,
            on top of :data:`PRIVATE_KEYS`.
        scrub: strings removed (case-insensitively) wherever they occur inside a string;
            shorter than 4 characters are ignored.
    """
    return _redact(value, private_keys, _scrub_pattern(scrub), version=False)


def redact_private(value: Any, private_keys: frozenset[str] = frozenset()) -> Any:
    """:func:`redact_serials` with every private value also scrubbed from all other text."""
    return redact_serials(value, private_keys, private_values(value, private_keys))


def _redact(
    value: Any, private_keys: frozenset[str], pattern: re.Pattern[str] | None, *, version: bool
) -> Any:
    if isinstance(value, dict):
        return {
            _redact(k, private_keys, pattern, version=False): REDACTED
            if _is_private(k, private_keys)
            else _redact(v, private_keys, pattern, version=_is_version(k))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set)):
        return [_redact(v, private_keys, pattern, version=version) for v in value]
    if isinstance(value, str):
        if not version and looks_like_serial(value):
            return redact_serial(value)
        if match := _BY_ID_SERIAL.match(value):
            value = match[1] + redact_serial(match[2]) + match[3]
        if pattern is not None:
            return pattern.sub(REDACTED, value)
    return value


def _scrub_pattern(scrub: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({s for s in scrub if len(s) >= _MIN_SCRUB_LEN}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
