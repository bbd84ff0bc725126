"""Log a problem once, and its end once: the one rule for every kind's recurring faults.

A fault that repeats (a datalogger sending garbage every 5 minutes, a meter link that keeps
dropping, a weather entity without forecasts) must not write a log line per occurrence:
:class:`LogOnce` logs the first occurrence at the given level, counts the rest, and logs the
recovery once (with how many occurrences it swallowed). Pure: no Home Assistant import.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from typing import Any


@dataclass(slots=True)
class LogOnce:
    """One recurring fault of one source: first occurrence and recovery are logged.

    Attributes:
        logger: where to log.
        level: level of the first occurrence (``logging.WARNING`` by default).
        recovery_level: level of the recovery line (``logging.INFO``: HA's
            log-when-unavailable rule).
        active: the fault is ongoing (logged, not yet recovered).
        count: occurrences since it started (the first included).
        total: occurrences since this object was made (for diagnostics).
    """

    logger: logging.Logger
    level: int = logging.WARNING
    recovery_level: int = logging.INFO
    active: bool = False
    count: int = 0
    total: int = 0

    def problem(self, msg: str, *args: Any) -> bool:
        """Count an occurrence; log ``msg % args`` only if the fault was not active.

        Returns whether it logged.
        """
        self.count += 1
        self.total += 1
        if self.active:
            return False
        self.active = True
        self.logger.log(self.level, msg, *args)
        return True

    def recovered(self, msg: str, *args: Any) -> bool:
        """End the fault: log ``msg % args`` plus the count, once. Returns whether it logged."""
        if not self.active:
            return False
        text = msg % args if args else msg
        self.logger.log(self.recovery_level, "%s (%d occurrences)", text, self.count)
        self.active = False
        self.count = 0
        return True
