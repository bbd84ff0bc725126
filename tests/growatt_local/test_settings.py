"""The typed settings of a Growatt local entry (``const.GrowattLocalSettings``).

The stored keys are written out as literals, exactly as entries hold them (the shapes that
``test_flow.py`` asserts the config and options flows save, and ``fixtures.make_entry``'s
entry of an earlier version), so a renamed ``CONF_*`` constant fails here rather than
silently reading a default. The defaults are the documented ones: Growatt's own server
``server.growatt.com:5279`` upstream, 64 connections, 8 dataloggers, 8 inverters each
(the limits' sources at ``protocol/server.py``), every command policy off.
"""

from __future__ import annotations

from types import MappingProxyType

import pytest

from custom_components.pv_monitor.growatt_local.const import GrowattLocalSettings
from custom_components.pv_monitor.growatt_local.protocol.registers import InverterFamily
from custom_components.pv_monitor.growatt_local.protocol.server import ListenerConfig

DATA = {"kind": "growatt_local", "host": "0.0.0.0", "port": 5279, "mode": "server"}


def test_every_field_is_read_from_its_key() -> None:
    """Address, mode and upstream from the data; policies, limits, families from the options."""
    data = {
        **DATA,
        "host": "192.0.2.10",
        "port": 5280,
        "mode": "proxy",
        "upstream_host": "server-api.growatt.com",
        "upstream_port": 5281,
    }
    options = {
        "allowed_dataloggers": ["XGD5BF42MX", "ABC1234567"],
        "allow_redirect": True,
        "allow_commands": True,
        "local_commands": True,
        "max_connections": 200,
        "max_dataloggers": 2,
        "max_inverters": 3,
        "inverter_families": {"1VZG8211B7": "spf", "QMB2B4200A": "tl3_x"},
    }

    settings = GrowattLocalSettings.from_mapping(data, options)

    assert settings.listener == ListenerConfig(
        host="192.0.2.10",
        port=5280,
        proxy=True,
        upstream_host="server-api.growatt.com",
        upstream_port=5281,
        allowed_dataloggers=frozenset({"XGD5BF42MX", "ABC1234567"}),
        allow_redirect=True,
        allow_commands=True,
        local_commands=True,
        max_connections=200,
        max_dataloggers=2,
        max_inverters=3,
    )
    assert settings.inverter_families == {
        "1VZG8211B7": InverterFamily.SPF,
        "QMB2B4200A": InverterFamily.TL3_X,
    }


@pytest.mark.parametrize(
    "options",
    [
        {},
        # What the config flow saved before the limits and command options existed.
        {"allowed_dataloggers": [], "allow_redirect": False, "inverter_families": {}},
    ],
)
def test_an_old_entry_gets_the_defaults(options: dict[str, object]) -> None:
    """Options the entry does not have take their defaults; no upstream in the data either."""
    settings = GrowattLocalSettings.from_mapping(DATA, options)

    assert settings.listener == ListenerConfig(
        host="0.0.0.0",
        port=5279,
        proxy=False,
        upstream_host="server.growatt.com",
        upstream_port=5279,
        allowed_dataloggers=frozenset(),
        allow_redirect=False,
        allow_commands=False,
        local_commands=False,
        max_connections=64,
        max_dataloggers=8,
        max_inverters=8,
    )
    assert settings.inverter_families == {}


def test_serials_are_normalised_and_numbers_typed() -> None:
    """An allow-list typed by hand is stripped and uppercased; the selectors' floats are ints."""
    options = {
        "allowed_dataloggers": [" xgd5bf42mx ", "XGD5BF42MX", "", "  "],
        "max_connections": 10.0,
    }
    listener = GrowattLocalSettings.from_mapping({**DATA, "port": 5279.0}, options).listener
    assert listener.allowed_dataloggers == frozenset({"XGD5BF42MX"})
    assert isinstance(listener.max_connections, int)
    assert listener.max_connections == 10
    assert isinstance(listener.port, int)


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError, match="'abc'"):
        GrowattLocalSettings.from_mapping(DATA, {"inverter_families": {"1VZG8211B7": "abc"}})
    for missing in ("host", "port", "mode"):
        data = {key: value for key, value in DATA.items() if key != missing}
        with pytest.raises(KeyError, match=missing):
            GrowattLocalSettings.from_mapping(data, {})


def test_settings_are_frozen() -> None:
    settings = GrowattLocalSettings.from_mapping(DATA, {})
    with pytest.raises(AttributeError):
        settings.listener = settings.listener  # type: ignore[misc]
    assert isinstance(settings.inverter_families, MappingProxyType)
