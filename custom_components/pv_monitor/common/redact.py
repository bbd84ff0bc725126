"""Redaction for diagnostics and logs: serials, keys, credentials, locations (pure).

Serials (datalogger, inverter, meter) keep their first three characters, which name the
model family, and lose the rest; secrets are replaced entirely.
"""

from __future__ import annotations

import re
from typing import Any, Final

REDACTED: Final = "**REDACTED**"
_SERIAL: Final = re.compile(r"^[A-Z0-9]{8,30}$")


def redact_serial(serial: str) -> str:
    """Keep the first three characters of a serial (the model prefix), mask the rest."""
    return serial[:3] + "*" * (len(serial) - 3)


def looks_like_serial(value: str) -> bool:
    """8-30 uppercase ASCII letters and digits with at least one digit."""
    return _SERIAL.match(value) is not None and any(c.isdigit() for c in value)


def redact_serials(value: Any, private_keys: frozenset[str] = frozenset()) -> Any:
    """Redact every serial-looking string (keys and values), recursively.

    Values under a key in ``private_keys`` are replaced by :data:`REDACTED` whatever they are.
    """
    if isinstance(value, dict):
        return {
            redact_serials(k): REDACTED if k in private_keys else redact_serials(v, private_keys)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set)):
        return [redact_serials(v, private_keys) for v in value]
    if isinstance(value, str) and looks_like_serial(value):
        return redact_serial(value)
    return value
