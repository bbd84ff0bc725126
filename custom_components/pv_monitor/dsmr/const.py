"""Config-entry keys and defaults of the DSMR P1 source."""

from __future__ import annotations

from typing import Final

CONF_CONNECTION_TYPE: Final = "connection_type"
"""``serial`` or ``network`` (:class:`.reader.ConnectionType`)."""
CONF_SERIAL_PATH: Final = "path"
CONF_DSMR_VERSION: Final = "dsmr_version"
CONF_ENCRYPTION_KEY: Final = "encryption_key"
CONF_AUTHENTICATION_KEY: Final = "authentication_key"
CONF_POWER_INTERVAL: Final = "power_interval"
"""Option: seconds between power-sensor state writes (0 = every telegram)."""
CONF_RECONNECT_INTERVAL: Final = "reconnect_interval"
"""Option: longest wait between reconnection attempts, seconds."""

CONF_MAX_POWER_KW: Final = "max_power_kw"
"""Option: the grid connection's largest power (kW), the bound of the energy counters."""

DEFAULT_POWER_INTERVAL: Final = 30.0
"""Core Home Assistant's dsmr integration writes its sensors at most every 30 s."""
DEFAULT_RECONNECT_INTERVAL: Final = 30.0
"""Core Home Assistant's dsmr integration also retries every 30 s."""
DEFAULT_NETWORK_PORT: Final = 2323
"""Port that ser2net set-ups and many P1 WiFi dongles serve the P1 stream on (e.g.
SmartGateways, ser2net examples); any port can be entered."""
FIRST_RETRY_DELAY: Final = 1.0
"""First reconnection delay, doubled after each failure up to the reconnect interval."""
STALE_AFTER: Final = 35.0
"""Seconds without a valid telegram after which the meter's sensors are unavailable and the
link is re-opened, counted from the moment the link opened or the last valid telegram:
three telegram periods of DSMR 2.2/3/4 meters (10 s) plus margin; DSMR 5 sends every second."""
GAS_MAX_FLOW_M3_H: Final = 16.0
"""Bound of a gas meter's counter (m³/h): Qmax of a G10 meter (EN 1359 diaphragm meters),
the largest size in common household use (G4: 6 m³/h, G6: 10 m³/h)."""
WATER_MAX_FLOW_M3_H: Final = 10.0
"""Bound of a water meter's counter (m³/h): 2.5 x the Q3 of the common Q3 = 4 household
meter (EN ISO 4064 / MID), i.e. its overload flow Q4 = 5 m³/h with a factor 2 to spare."""
HEAT_MAX_POWER_KW: Final = 100.0
"""Bound of a heat meter's counter (kW): a generous household district-heating connection
(typical 10-30 kW); converted to the meter's unit (GJ, MJ, kWh, MWh) per hour."""
FIRST_TELEGRAM_WAIT: Final = 12.0
"""Set-up waits this long for the first telegram, so entities are created from it."""
TEST_TELEGRAM_TIMEOUT: Final = 15.0
"""The config flow's test read waits this long for one valid telegram (DSMR 2.2-4: 10 s)."""
HISTORY_KEEP: Final = 600
"""Readings kept for in-process consumers (10 minutes of DSMR 5 telegrams)."""
