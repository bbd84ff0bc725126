"""common/log.py (log once, recovery once) and common/redact.py."""

from __future__ import annotations

import logging

import pytest

from custom_components.pv_monitor.common.log import LogOnce
from custom_components.pv_monitor.common.redact import REDACTED, redact_serials


def test_log_once_then_recovery_once(caplog: pytest.LogCaptureFixture) -> None:
    fault = LogOnce(logging.getLogger("test.logonce"))
    assert fault.problem("Link to %s lost", "meter")
    assert not fault.problem("Link to %s lost", "meter")
    assert not fault.problem("Link to %s lost", "meter")
    assert fault.recovered("Link to %s back", "meter")
    assert not fault.recovered("Link to %s back", "meter")
    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert lines == [
        (logging.WARNING, "Link to meter lost"),
        (logging.INFO, "Link to meter back (3 occurrences)"),
    ]
    assert fault.total == 3
    assert fault.count == 0


def test_redact_serials_nested() -> None:
    data = {"QMN000BZP3": {"inverter": "BZP3N0P01B", "ip": "10.0.0.2"}, "x": ["ABCDEF12"]}
    assert redact_serials(data, frozenset({"ip"})) == {
        "QMN*******": {"inverter": "BZP*******", "ip": REDACTED},
        "x": ["ABC*****"],
    }
    assert redact_serials("NODIGITSHERE") == "NODIGITSHERE"
