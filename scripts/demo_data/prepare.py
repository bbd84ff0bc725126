"""Prepare ``config/.storage`` for the development instance of ``scripts/develop``; idempotent.

Run offline, before Home Assistant starts, with Home Assistant's own auth manager and
storage helpers:

- onboarding done, the owner user dev / dev, and a long-lived access token of that user in
  ``config/.develop_token`` (``scripts/develop`` asks Home Assistant's API with it whether the
  instance on its port is really ours and ready);
- core configuration of the demo home: Utrecht, the Netherlands (where DSMR 5 meters are),
  country NL, currency EUR, time zone Europe/Amsterdam, metric (only on the first run);
- the demo's config entries, each only when no entry of its kind exists: the Growatt
  datalogger listener, the smart meter reading ``scripts/replay_p1``, the PV system of the
  demo roof (the array of ``demo_data.profile``) and EV charging of a simulated wallbox
  (``input_boolean.demo_wallbox`` / ``input_number.demo_wallbox_current`` of
  ``configuration.yaml``). The ports of the listener and the meter follow the command line.

Usage: ``python -m demo_data.prepare CONFIG_DIR LISTEN_PORT P1_PORT`` (from ``scripts/``).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
from pathlib import Path
import sys
from typing import Any

from homeassistant import config_entries, core_config
from homeassistant.auth import auth_manager_from_config
from homeassistant.auth.const import GROUP_ID_ADMIN
from homeassistant.auth.models import TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN
from homeassistant.components import onboarding
from homeassistant.components.onboarding.const import STEPS
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util, ulid as ulid_util

from . import profile

USERNAME = PASSWORD = "dev"
DOMAIN = "pv_monitor"
TOKEN_FILE = ".develop_token"
INVERTER = "cuk4cbq05e"  # demo_data.inverter: the MIN TL-X behind datalogger XGD6CBJ22W
METER = "sensor.smart_meter"


def entries(listen_port: int, p1_port: int) -> dict[str, dict[str, Any]]:
    """The demo's entries by kind (storage format of ``core.config_entries``)."""
    base = {
        "domain": DOMAIN,
        "version": 1,
        "minor_version": 1,
        "source": "user",
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "disabled_by": None,
        "discovery_keys": {},
        "subentries": [],
    }
    array = {**profile.ARRAY, "gamma_pdc": -0.37, "losses": 14.0}
    return {
        "growatt_local": {
            **base,
            "title": f"Growatt datalogger (port {listen_port})",
            "unique_id": f"growatt_local_{listen_port}",
            "data": {
                "kind": "growatt_local",
                "host": "0.0.0.0",
                "port": listen_port,
                "mode": "server",
                "upstream_host": "server.growatt.com",
                "upstream_port": 5279,
            },
            "options": {
                "allowed_dataloggers": [],
                "allow_redirect": False,
                "inverter_families": {},
            },
        },
        "dsmr": {
            **base,
            "title": "Smart meter",
            "unique_id": "4B384547303034303436333935353037",  # tests/fixtures/dsmr/v5.txt
            "data": {
                "kind": "dsmr",
                "connection_type": "network",
                "host": "127.0.0.1",
                "port": p1_port,
                "dsmr_version": "5",
            },
            "options": {"power_interval": 5.0, "reconnect_interval": 30.0},
        },
        "pv_system": {
            **base,
            "title": "Roof",
            "unique_id": "pv_system_demo_roof",
            "data": {
                "kind": "pv_system",
                "name": "Roof",
                "latitude": profile.LATITUDE,
                "longitude": profile.LONGITUDE,
                "elevation": profile.ELEVATION,
                "ac_limit_kw": profile.AC_LIMIT_KW,
            },
            "options": {
                "production_power": f"sensor.inverter_{INVERTER}_ac_power",
                "production_energy": f"sensor.inverter_{INVERTER}_lifetime_energy",
                "grid_import": f"{METER}_energy_import",
                "grid_export": f"{METER}_energy_export",
                "import_price": 0.30,
                "export_price": 0.08,
                "underperformance_threshold": 0.8,
            },
            "subentries": [
                {
                    "data": array,
                    "subentry_id": ulid_util.ulid_now(),
                    "subentry_type": "array",
                    "title": profile.ARRAY["name"],
                    "unique_id": None,
                }
            ],
        },
        "ev_charging": {
            **base,
            "title": "EV charging: Wallbox",
            "unique_id": "ev_charging_input_boolean.demo_wallbox",
            "data": {
                "kind": "ev_charging",
                "charger": "input_boolean.demo_wallbox",
                "current_entity": "input_number.demo_wallbox_current",
                "phases": "1",
                "voltage": 230.0,
                "grid_power": f"{METER}_net_grid_power",
                "grid_sign": "import_positive",
                "start_threshold": 0.0,
                "stop_threshold": 0.0,
                "start_delay": 60.0,
                "stop_delay": 180.0,
                "min_current": 6.0,
                "max_current": 16.0,
            },
            "options": {
                "min_on_time": 300.0,
                "min_off_time": 300.0,
                "phase_switch_delay": 300.0,
                "stale_timeout": 60.0,
            },
        },
    }


def say(text: str) -> None:
    """One line for the developer."""
    print(f"develop: {text}", file=sys.stderr)


async def _owner(hass: HomeAssistant, config_dir: Path) -> None:
    """The owner dev/dev (as onboarding's user step makes it) and the develop token."""
    hass.auth = await auth_manager_from_config(hass, [{"type": "homeassistant"}], [])
    provider = hass.auth.auth_providers[0]
    await provider.async_initialize()  # type: ignore[attr-defined]
    credentials = await provider.async_get_or_create_credentials({"username": USERNAME})
    if credentials.is_new:
        if not any(u["username"] == USERNAME for u in provider.data.users):  # type: ignore[attr-defined]
            await provider.async_add_auth(USERNAME, PASSWORD)  # type: ignore[attr-defined]
            credentials = await provider.async_get_or_create_credentials({"username": USERNAME})
        user = await hass.auth.async_create_user(USERNAME, group_ids=[GROUP_ID_ADMIN])
        await hass.auth.async_link_user(user, credentials)
        say(f"created user {USERNAME} (owner: {user.is_owner})")
    user = await hass.auth.async_get_user_by_credentials(credentials)
    token_file = config_dir / TOKEN_FILE
    if user is None or token_file.exists():
        return
    refresh = await hass.auth.async_create_refresh_token(
        user,
        client_name="scripts/develop",
        token_type=TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN,
        access_token_expiration=timedelta(days=3650),
    )
    token_file.write_text(hass.auth.async_create_access_token(refresh), encoding="utf-8")
    token_file.chmod(0o600)


async def _core(hass: HomeAssistant) -> None:
    """Onboarding done; the demo home's location, country, currency and time zone."""
    store: Store[dict[str, Any]] = Store(
        hass, onboarding.STORAGE_VERSION, onboarding.STORAGE_KEY, private=True
    )
    data = await store.async_load() or {"done": []}
    if set(data["done"]) != set(STEPS):
        data["done"] = list(dict.fromkeys([*data["done"], *STEPS]))
        await store.async_save(data)
    core_store: Store[dict[str, Any]] = Store(
        hass,
        core_config.CORE_STORAGE_VERSION,
        core_config.CORE_STORAGE_KEY,
        private=True,
        minor_version=core_config.CORE_STORAGE_MINOR_VERSION,
    )
    if await core_store.async_load() is None:
        await core_store.async_save(
            {
                "latitude": profile.LATITUDE,
                "longitude": profile.LONGITUDE,
                "elevation": profile.ELEVATION,
                "unit_system_v2": "metric",
                "location_name": "PV Monitor demo",
                "time_zone": str(profile.TIME_ZONE),
                "external_url": None,
                "internal_url": None,
                "currency": "EUR",
                "country": "NL",
                "language": "en",
                "radius": 100,
            }
        )


async def _entries(hass: HomeAssistant, listen_port: int, p1_port: int) -> None:
    """Add the demo entries that are missing; keep the ports of ours in step."""
    store = config_entries.ConfigEntryStore(hass)
    stored = await store.async_load() or {"entries": []}
    wanted = entries(listen_port, p1_port)
    changed = False
    for kind, entry in wanted.items():
        existing = [e for e in stored["entries"] if e["data"].get("kind") == kind]
        if not existing:
            now = dt_util.utcnow().isoformat()
            new = {"entry_id": ulid_util.ulid_now(), **entry, "created_at": now, "modified_at": now}
            stored["entries"].append(new)
            say(f"added the pv_monitor config entry {entry['title']!r}")
            changed = True
        elif kind in ("growatt_local", "dsmr"):
            for old in existing:  # ours: follow the ports of this run
                ours = old["unique_id"] == entry["unique_id"] or old["title"].startswith(
                    "Growatt datalogger (port "
                )
                if ours and old["data"].get("port") != entry["data"]["port"]:
                    old["data"] = {**old["data"], "port": entry["data"]["port"]}
                    old["title"], old["unique_id"] = entry["title"], entry["unique_id"]
                    changed = True
    if changed:
        await store.async_save(stored)


async def prepare(config_dir: Path, listen_port: int, p1_port: int) -> None:
    """Everything above, then save (a forced stop fires the delayed auth-store write)."""
    hass = HomeAssistant(str(config_dir))
    await _owner(hass, config_dir)
    await _core(hass)
    await _entries(hass, listen_port, p1_port)
    logging.getLogger("homeassistant.core").setLevel(logging.WARNING)
    await hass.async_stop(force=True)


if __name__ == "__main__":
    asyncio.run(prepare(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
