"""PV system kind: pvlib forecast, IEC 61724-1 performance analytics, anomaly detection.

- :mod:`.solar`: pure pvlib chain, correction, KPIs, anomaly detection.
- :mod:`.coordinator`, :mod:`.sensor`, :mod:`.binary_sensor`, :mod:`.flow`; the forecast
  reaches the Energy dashboard through the root ``energy.py``.
"""
