"""Helpers shared by the tests of every kind."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
import dataclasses
import importlib
from unittest.mock import patch

from homeassistant.const import Platform

from custom_components.pv_monitor.common import runtime


@contextmanager
def only_platforms(kind: str, *platforms: Platform) -> Iterator[None]:
    """Set up entries of ``kind`` with only ``platforms`` forwarded (others stay unloaded)."""
    spec = importlib.import_module(f"custom_components.pv_monitor.{kind}.kind").KIND
    narrowed = dataclasses.replace(spec, platforms={p: spec.platforms[p] for p in platforms})
    # The whole kind stays registered afterwards: the entry unloads at the test's teardown.
    runtime._LOADED.setdefault(kind, spec)
    with patch.dict(runtime._LOADED, {kind: narrowed}):
        yield


async def until(predicate: Callable[[], bool], rounds: int = 50_000) -> None:
    """Run the event loop, without advancing time, until ``predicate`` holds.

    Each round yields once (``asyncio.sleep(0)``): the loop runs every ready callback and
    polls its selector, so loopback socket I/O and finished executor jobs make progress.
    Safe under the ``freezer`` fixture, which also stops the loop's clock (a sleep with a
    delay would never end there). Raises ``AssertionError`` after ``rounds`` yields.
    """
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")
