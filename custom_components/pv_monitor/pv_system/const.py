"""Constants of the ``pv_system`` kind: config keys, subentry type, defaults."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

CONF_LOCATION: Final = "location"
"""Form field (location selector) holding latitude and longitude."""
CONF_AC_LIMIT: Final = "ac_limit_kw"
"""Inverter AC limit in kW (the sum of the inverters' rated AC power)."""

CONF_PRODUCTION_POWER: Final = "production_power"
CONF_PRODUCTION_ENERGY: Final = "production_energy"
CONF_POA_IRRADIANCE: Final = "poa_irradiance"
CONF_MODULE_TEMPERATURE: Final = "module_temperature"
CONF_WEATHER: Final = "weather"
CONF_GRID_IMPORT: Final = "grid_import"
CONF_GRID_EXPORT: Final = "grid_export"
CONF_IMPORT_PRICE: Final = "import_price"
"""Fixed import price per kWh (used when no price entity is set)."""
CONF_IMPORT_PRICE_ENTITY: Final = "import_price_entity"
CONF_EXPORT_PRICE: Final = "export_price"
CONF_EXPORT_PRICE_ENTITY: Final = "export_price_entity"
CONF_GRID_POWER: Final = "grid_power"
"""Optional net grid power sensor (W or kW, positive while importing): gives the house load."""
CONF_REPAIR_SHARE: Final = "repair_share"
"""Option: share of the day's daylight an anomaly lasts before a repair issue is raised."""
CONF_STRING_POWER: Final = "power_sensor"
"""Optional power sensor of one array (a string or an inverter): for the string comparison."""
CONF_THRESHOLD: Final = "underperformance_threshold"
"""Option: measured / expected below which production is underperforming."""

SUBENTRY_ARRAY: Final = "array"
"""Config subentry type of one PV array."""
CONF_TILT: Final = "tilt"
CONF_AZIMUTH: Final = "azimuth"
CONF_KWP: Final = "kwp"
CONF_GAMMA: Final = "gamma_pdc"
CONF_LOSSES: Final = "losses"

DEFAULT_GAMMA: Final = -0.37
"""%/K: typical crystalline silicon module (PVWatts v5 standard module)."""
DEFAULT_LOSSES: Final = 14.0
"""%: PVWatts v5 default system losses (Dobos 2014)."""
DEFAULT_TILT: Final = 35.0
DEFAULT_AZIMUTH: Final = 180.0
DEFAULT_AC_LIMIT: Final = 5.0
"""kW: suggested AC limit (a common home inverter), never the selector's minimum."""

FORECAST_DAYS: Final = 3
"""Today and the next two days."""
REFRESH_INTERVAL: Final = timedelta(minutes=30)
SAMPLE_INTERVAL: Final = timedelta(minutes=5)
"""Anomaly detection and today's indicators are updated this often."""
HISTORY_DAYS: Final = 365
"""Hourly production history used for the correction fit."""
ACCURACY_DAYS: Final = 7

EVENT_ANOMALY: Final = "pv_monitor_anomaly"
ISSUE_ANOMALY_PREFIX: Final = "pv_system_anomaly"
"""Repair issue id: ``<prefix>_<anomaly type>_<entry id>``."""
CONF_MUTED_ANOMALIES: Final = "muted_anomalies"
"""Option: anomaly types whose repair issue is not raised (set by the issue's fix flow)."""
