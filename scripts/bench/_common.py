"""Shared helpers of the benchmarks: import the pure Growatt core, load captured frames."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parents[2]
FRAMES = ROOT / "tests" / "fixtures" / "growatt" / "frames"

# The pure core has only relative imports and no Home Assistant import: load it as `growatt`
# (without importing the integration's glue, which needs Home Assistant).
_CORE = ROOT / "custom_components" / "pv_monitor" / "growatt_local" / "protocol"
if "growatt" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "growatt", _CORE / "__init__.py", submodule_search_locations=[str(_CORE)]
    )
    assert _spec is not None
    assert _spec.loader is not None
    sys.modules["growatt"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["growatt"])


def captured_frames() -> list[tuple[str, bytes]]:
    """(name, wire bytes) of every captured whole frame."""
    out = []
    for path in sorted(FRAMES.glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("kind", "frame") == "frame":
            out.append((data["name"], bytes.fromhex(data["hex"])))
    return out


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values`` by nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def machine() -> str:
    """One line describing the machine the figures were taken on."""
    import os  # noqa: PLC0415
    import platform  # noqa: PLC0415

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
