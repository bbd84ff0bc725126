"""Import the demo's past week into the recorder, once (``scripts/develop``'s first start).

The hourly statistics of the inverter's lifetime energy and of the meter's counters (import
and export per tariff and totals, gas) from the demo's ``epoch`` up to the hour in which the
live sensors began, computed by :mod:`demo_data.profile` (the same function the replays
follow), are written through the recorder's own websocket command
``recorder/import_statistics``.

The sums start at 0 at the epoch (``sum = reading at the hour's end - reading at the epoch``),
as a sensor's own would have, so that any period's "change" is right, also one that starts
with the first imported hour. Home Assistant's sensor statistics start their own sum at 0 at
the first numeric state they recorded (``sensor/recorder.py``: "zero point"), so once the
recorder has compiled the sensor's first 5-minute statistics (up to 5 minutes after its first
state), its rows are shifted by ``first state - reading at the epoch`` with the recorder's
own ``recorder/adjust_sum_statistics`` (both tables; the later rows continue from there):
the first hour the recorder compiles itself then shows exactly its own energy.

Usage: ``python -m demo_data.history CONFIG_DIR HTTP_PORT STATE_DIR`` (from ``scripts/``).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
import sys
import time
from typing import Any

from . import profile
from .ha import HomeAssistantApi

INVERTER_SERIAL = "CUK4CBQ05E"
METER_ID = "4B384547303034303436333935353037"
STATISTICS: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    # unique id -> (its Home Assistant sensor, profile counters summed, unit, unit class)
    f"{INVERTER_SERIAL}_energy_total": ("growatt", ("pv",), "kWh", "energy"),
    f"{METER_ID}_energy_import_tariff_1": ("meter", ("import_t1",), "kWh", "energy"),
    f"{METER_ID}_energy_import_tariff_2": ("meter", ("import_t2",), "kWh", "energy"),
    f"{METER_ID}_energy_export_tariff_1": ("meter", ("export_t1",), "kWh", "energy"),
    f"{METER_ID}_energy_export_tariff_2": ("meter", ("export_t2",), "kWh", "energy"),
    f"{METER_ID}_energy_import_total": ("meter", ("import_t1", "import_t2"), "kWh", "energy"),
    f"{METER_ID}_energy_export_total": ("meter", ("export_t1", "export_t2"), "kWh", "energy"),
    f"{METER_ID}_mbus1_gas": ("meter", ("gas",), "m³", "volume"),
}
RESOLUTION: dict[str, float] = {
    # what the live sensor can show: the replays send the counters rounded to this
    "growatt": 0.1,  # the inverter's energy registers count 0.1 kWh (demo_data.inverter)
    "meter": 0.001,  # the P1 telegram's counters have three decimals (replay_p1's template)
}
"""Resolution of each source's counters. The imported history is rounded to it as well:
unrounded, the last imported hour and the sensor's first state (27236.44 against the
register's 27236.4 kWh) made the first hour the recorder compiled itself -0.04 kWh."""
WAIT_SECONDS = 120.0
COMPILE_WAIT_SECONDS = 420.0  # the first 5-minute statistics: the next 5-minute boundary + ~10 s
PV_SYSTEM_TITLE = "Roof"  # demo_data.prepare


def say(text: str) -> None:
    """One line for the developer."""
    print(f"develop: {text}", file=sys.stderr, flush=True)


def reading(
    epoch: datetime, when: datetime, counters: tuple[str, ...], resolution: float = 0.001
) -> float:
    """The demo counter (sum of ``counters``) at ``when``, as the replays send it.

    Rounded to the source's ``resolution`` (:data:`RESOLUTION`).
    """
    values = profile.counters_at(epoch, when)
    total = sum(values[name] for name in counters)
    return round(round(total / resolution) * resolution, 6)


async def _entity_ids(api: HomeAssistantApi) -> dict[str, str]:
    """Map unique id -> entity id of our statistics' sensors that exist."""
    registry = await api.call({"type": "config/entity_registry/list"})
    return {
        entry["unique_id"]: entry["entity_id"]
        for entry in registry
        if entry["platform"] == "pv_monitor" and entry["unique_id"] in STATISTICS
    }


async def _first_state(
    api: HomeAssistantApi, entity_id: str, since: datetime
) -> tuple[datetime, float] | None:
    """The first numeric state of ``entity_id`` the recorder has (its statistics' zero point)."""
    result = await api.call(
        {
            "type": "history/history_during_period",
            "start_time": since.isoformat(),
            "entity_ids": [entity_id],
            "minimal_response": True,
            "no_attributes": True,
            "significant_changes_only": False,
        }
    )
    for state in result.get(entity_id, []):
        try:
            value = float(state.get("s", state.get("state")))
        except (TypeError, ValueError):
            continue
        stamp = state.get("lu", state.get("last_updated"))
        when = (
            datetime.fromtimestamp(stamp, profile.TIME_ZONE)
            if isinstance(stamp, float | int)
            else datetime.fromisoformat(stamp)
        )
        return when, value
    return None


def rows(
    epoch: datetime, first: datetime, counters: tuple[str, ...], resolution: float
) -> list[dict[str, Any]]:
    """Hourly rows from ``epoch`` up to the hour of ``first`` (excluded), sums from 0."""
    out = []
    hour = epoch
    zero = reading(epoch, epoch, counters, resolution)
    end = first.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        value = reading(epoch, hour + timedelta(hours=1), counters, resolution)
        out.append(
            {"start": hour.isoformat(), "state": round(value, 3), "sum": round(value - zero, 3)}
        )
        hour += timedelta(hours=1)
    return out


async def _first_short_term(
    api: HomeAssistantApi, entity_id: str, since: datetime
) -> datetime | None:
    """Start of the sensor's first 5-minute statistics row, waiting for the recorder."""
    deadline = time.monotonic() + COMPILE_WAIT_SECONDS
    while time.monotonic() < deadline:
        result = await api.call(
            {
                "type": "recorder/statistics_during_period",
                "start_time": since.isoformat(),
                "statistic_ids": [entity_id],
                "period": "5minute",
                "types": ["sum"],
            }
        )
        if found := result.get(entity_id):
            return datetime.fromtimestamp(found[0]["start"] / 1000, profile.TIME_ZONE)
        await asyncio.sleep(10)
    return None


async def _import_one(
    api: HomeAssistantApi, epoch: datetime, unique_id: str, entity_id: str
) -> int:
    source, counters, unit, unit_class = STATISTICS[unique_id]
    resolution = RESOLUTION[source]
    deadline = time.monotonic() + WAIT_SECONDS
    first = None
    while first is None and time.monotonic() < deadline:
        first = await _first_state(api, entity_id, epoch)
        if first is None:
            await asyncio.sleep(2)
    if first is None:
        say(f"history: {entity_id} has no recorded state yet: no history for it")
        return 0
    start = await _first_short_term(api, entity_id, epoch)
    if start is None:
        say(f"history: the recorder compiled no statistics of {entity_id}: no history for it")
        return 0
    stats = rows(epoch, first[0], counters, resolution)
    if stats:
        await api.call(
            {
                "type": "recorder/import_statistics",
                "metadata": {
                    "has_sum": True,
                    "mean_type": 0,
                    "name": None,
                    "source": "recorder",
                    "statistic_id": entity_id,
                    "unit_class": unit_class,
                    "unit_of_measurement": unit,
                },
                "stats": stats,
            }
        )
        await api.call(
            {
                "type": "recorder/adjust_sum_statistics",
                "statistic_id": entity_id,
                "start_time": start.isoformat(),
                "adjustment": first[1] - reading(epoch, epoch, counters, resolution),
                "adjustment_unit_of_measurement": unit,
            }
        )
    return len(stats)


async def _reload_pv_systems(api: HomeAssistantApi) -> None:
    """Reload the demo's PV system, so that its indicators read the history at once."""
    await asyncio.sleep(15)  # the recorder commits the import first (commit interval 5 s)
    for entry in await api.call({"type": "config_entries/get", "domain": "pv_monitor"}):
        if entry["title"] == PV_SYSTEM_TITLE:
            async with api.session.post(
                f"{api.base}/api/config/config_entries/entry/{entry['entry_id']}/reload"
            ) as response:
                response.raise_for_status()


async def import_history(config_dir: Path, port: int, state_dir: Path) -> int:
    """Import once (marker ``state_dir/history_imported``); returns the exit code."""
    marker = state_dir / "history_imported"
    if marker.exists():
        return 0
    epoch = profile.epoch(state_dir)
    api = HomeAssistantApi(config_dir, port)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        found = await _entity_ids(api)
        while len(found) < len(STATISTICS) and time.monotonic() < deadline:
            await asyncio.sleep(2)
            found = await _entity_ids(api)
        total = 0
        for unique_id, entity_id in sorted(found.items()):  # one compile serves them all
            total += await _import_one(api, epoch, unique_id, entity_id)
        await _reload_pv_systems(api)
    finally:
        await api.close()
    missing = sorted(set(STATISTICS) - set(found))
    say(
        f"history: imported {total} hourly statistics of {len(found)} sensors since "
        f"{epoch:%Y-%m-%d %H:%M}" + (f" (missing: {', '.join(missing)})" if missing else "")
    )
    marker.write_text(datetime.now(profile.TIME_ZONE).isoformat(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(import_history(Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))))
