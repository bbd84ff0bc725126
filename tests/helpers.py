"""Helpers shared by the tests of every kind."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import dataclasses
import importlib
from unittest.mock import patch

from homeassistant.const import Platform

from custom_components.pv_monitor.common import runtime


@contextmanager
def only_platforms(kind: str, *platforms: Platform) -> Iterator[None]:
    """Set up entries of ``kind`` with only ``platforms`` forwarded (others stay unloaded)."""
    spec = importlib.import_module(f"custom_components.pv_monitor.{kind}").KIND
    narrowed = dataclasses.replace(spec, platforms={p: spec.platforms[p] for p in platforms})
    # The whole kind stays registered afterwards: the entry unloads at the test's teardown.
    runtime._LOADED.setdefault(kind, spec)
    with patch.dict(runtime._LOADED, {kind: narrowed}):
        yield
