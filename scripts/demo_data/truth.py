"""The demo's true energy between two times (the browser test's oracle).

Usage: ``python -m demo_data.truth STATE_DIR START END`` (ISO 8601 times with offset);
prints a JSON object of every :data:`demo_data.profile.COUNTERS` (kWh, gas m3).
"""

from __future__ import annotations

from datetime import datetime
import json
from pathlib import Path
import sys

from . import profile

if __name__ == "__main__":
    profile.epoch(Path(sys.argv[1]))  # the demo must exist: its epoch bounds the counters
    start, end = (datetime.fromisoformat(arg) for arg in sys.argv[2:4])
    print(json.dumps(profile.counters_between(start, end)))
