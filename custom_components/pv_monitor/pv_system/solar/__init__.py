"""Pure solar core of the ``pv_system`` kind: no Home Assistant import.

- :mod:`.forecast`: the pvlib model chain (solar position, clear sky, cloud cover to
  irradiance, transposition, cell temperature, PVWatts DC/AC) and the 15-minute forecast.
- :mod:`.correction`: learned per-array scale, shading profile and climatological
  clear-sky index, fitted with numpy on hourly measured production.
- :mod:`.kpi`: IEC 61724-1 performance ratio and the energy/economy indicators.
- :mod:`.anomaly`: underperformance and no-production detection.

pvlib, pandas and numpy are imported lazily inside the functions that need them (they run
in Home Assistant's executor), so importing this package costs nothing.
"""
