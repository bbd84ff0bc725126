"""PV production model and forecast: the pvlib chain, pure (no Home Assistant import).

Chain, every step a pvlib function (pvlib 0.16, https://pvlib-python.readthedocs.io):

1. Solar position: :func:`pvlib.solarposition.get_solarposition` (NREL SPA, numpy).
2. Clear sky: :func:`pvlib.clearsky.ineichen` (Ineichen and Perez 2002) with the Linke
   turbidity of :func:`pvlib.clearsky.lookup_linke_turbidity` (Remund et al. 2003 climatology,
   shipped with pvlib), relative air mass Kasten and Young 1989.
3. Cloud cover to GHI: the linear model of Larson, Nonnenmacher and Coimbra (2016), "Day-ahead
   forecasting of solar power output from photovoltaic plants in the American Southwest",
   Renewable Energy 91, 11-20, eq. 1: ``GHI = GHI_clear * (0.35 + 0.65 * (1 - cc))`` (the
   formula pvlib's former ``forecast.cloud_cover_to_ghi_linear`` implemented).
4. GHI decomposition into DNI and DHI: :func:`pvlib.irradiance.erbs` (Erbs, Klein and Duffie
   1982).
5. Transposition per array: :func:`pvlib.irradiance.get_total_irradiance`, Perez et al. 1990
   (all-sites composite), ground albedo 0.25 (pvlib's default).
6. Incidence angle modifier: :func:`pvlib.iam.physical` (De Soto et al. 2006), as pvlib's
   ``ModelChain.with_pvwatts``.
7. Cell temperature: :func:`pvlib.temperature.faiman` (Faiman 2008, u0 = 25 W/m2K,
   u1 = 6.84 W s/m3K, pvlib's defaults).
8. DC power per array: :func:`pvlib.pvsystem.pvwatts_dc` (PVWatts v5, Dobos 2014), then the
   array's system losses (a single PVWatts loss percentage).
9. AC power: :func:`pvlib.inverter.pvwatts_multi` on the summed DC, with the inverter's DC
   rating ``AC limit / 0.96`` so that its AC output clips at the configured AC limit
   (PVWatts v5 nominal efficiency 0.96).

Without a weather forecast for a step the forecast is the clear-sky power times a
climatological clear-sky index (learned from history by :mod:`.correction`; 1.0 before that).
pvlib, pandas and numpy are imported inside the functions: call them in an executor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
import math
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from .correction import Correction

    type FloatArray = NDArray[np.float64]

STEP: Final = timedelta(minutes=15)
"""Forecast resolution."""
STEP_HOURS: Final = STEP.total_seconds() / 3600
LARSON_OFFSET: Final = 0.35
"""Share of clear-sky GHI left under full cloud cover (Larson et al. 2016, eq. 1)."""
WEATHER_REACH: Final = timedelta(minutes=90)
"""A step farther than this from every weather forecast point has no weather."""
DEFAULT_TEMP_AIR: Final = 20.0
"""Air temperature (degC) when the weather gives none (pvlib ModelChain's default)."""
DEFAULT_WIND_SPEED: Final = 0.0
"""Wind speed (m/s) when the weather gives none (pvlib ModelChain's default)."""
ALBEDO: Final = 0.25
"""Ground albedo (pvlib's default)."""
ETA_INV_NOM: Final = 0.96
"""PVWatts v5 nominal inverter efficiency (Dobos 2014, NREL/TP-6A20-62641, pvlib default)."""


@dataclass(frozen=True, slots=True)
class PvArray:
    """One array (same orientation and modules).

    ``tilt`` degrees from horizontal; ``azimuth`` degrees clockwise from north (180 = south,
    pvlib's convention); ``kwp`` DC rating at STC in kW; ``gamma_pdc`` power temperature
    coefficient in %/K (typically -0.3 to -0.45); ``losses`` system losses in % (PVWatts
    default 14).
    """

    name: str
    tilt: float
    azimuth: float
    kwp: float
    gamma_pdc: float = -0.37
    losses: float = 14.0


@dataclass(frozen=True, slots=True)
class PvSite:
    """A PV system: location (degrees, metres above sea level), arrays and AC limit (kW)."""

    latitude: float
    longitude: float
    elevation: float
    arrays: tuple[PvArray, ...]
    ac_limit_kw: float

    @property
    def kwp(self) -> float:
        """Total DC rating in kWp."""
        return sum(array.kwp for array in self.arrays)


@dataclass(frozen=True, slots=True)
class WeatherPoint:
    """One hourly weather forecast point, for the hour starting at ``time`` (aware).

    ``cloud_coverage`` in %, ``temperature`` in degC, ``wind_speed`` in m/s; None = unknown.
    """

    time: datetime
    cloud_coverage: float | None = None
    temperature: float | None = None
    wind_speed: float | None = None


@dataclass(frozen=True, slots=True)
class Forecast:
    """A forecast on a 15-minute grid from ``start`` (aware, UTC).

    ``power_w[i]`` is the mean AC power (W) of step ``[start + i*STEP, start + (i+1)*STEP)``,
    ``poa_w_m2[i]`` the kWp-weighted plane-of-array irradiance (W/m2) of that step and
    ``weather[i]`` whether it came from the weather forecast (else clear sky x climatology),
    ``elevation_deg[i]`` the apparent solar elevation at the step's midpoint and
    ``clear_sky_w[i]`` the AC power at clear sky (with the applied correction, without the
    climatological index): the reference of the clear-sky index ``power_w / clear_sky_w``.
    ``trusted[i]`` is False where an applied correction never saw the sun's position (its
    shading there is unknown). These three are empty for forecasts made without them.
    """

    start: datetime
    power_w: tuple[float, ...]
    poa_w_m2: tuple[float, ...]
    weather: tuple[bool, ...]
    elevation_deg: tuple[float, ...] = ()
    clear_sky_w: tuple[float, ...] = ()
    trusted: tuple[bool, ...] = ()

    @property
    def end(self) -> datetime:
        """End of the last step."""
        return self.start + STEP * len(self.power_w)

    def _index(self, when: datetime) -> int | None:
        index = math.floor((when - self.start) / STEP)
        return index if 0 <= index < len(self.power_w) else None

    def power_at(self, when: datetime) -> float | None:
        """Mean AC power (W) of the step containing ``when``; None outside the forecast."""
        index = self._index(when)
        return None if index is None else self.power_w[index]

    def elevation_at(self, when: datetime) -> float | None:
        """Apparent solar elevation (deg) of the step containing ``when``; None if unknown."""
        index = self._index(when)
        return (
            None if index is None or index >= len(self.elevation_deg) else self.elevation_deg[index]
        )

    def clear_sky_at(self, when: datetime) -> float | None:
        """Clear-sky AC power (W) of the step containing ``when``; None if unknown."""
        index = self._index(when)
        return None if index is None or index >= len(self.clear_sky_w) else self.clear_sky_w[index]

    def trusted_at(self, when: datetime) -> bool:
        """Whether the model is trusted at ``when`` (True where nothing says otherwise)."""
        index = self._index(when)
        return index is None or index >= len(self.trusted) or self.trusted[index]

    def _integral(self, values: Sequence[float], start: datetime, end: datetime) -> float:
        total = 0.0
        first = max(0, math.floor((start - self.start) / STEP))
        for index in range(first, len(values)):
            step_start = self.start + STEP * index
            if step_start >= end:
                break
            overlap = min(end, step_start + STEP) - max(start, step_start)
            if overlap > timedelta(0):
                total += values[index] * overlap.total_seconds() / 3600
        return total

    def energy_wh(self, start: datetime, end: datetime) -> float:
        """Forecast AC energy (Wh) between ``start`` and ``end`` (parts of steps pro rata)."""
        return self._integral(self.power_w, start, end)

    def insolation_wh_m2(self, start: datetime, end: datetime) -> float:
        """Modelled plane-of-array insolation (Wh/m2) between ``start`` and ``end``."""
        return self._integral(self.poa_w_m2, start, end)

    def hourly_wh(self) -> dict[datetime, float]:
        """Energy (Wh) of every whole hour of the forecast, by hour start (UTC)."""
        hours: dict[datetime, float] = {}
        for index, power in enumerate(self.power_w):
            step_start = self.start + STEP * index
            hour = step_start.replace(minute=0, second=0, microsecond=0)
            hours[hour] = hours.get(hour, 0.0) + power * STEP_HOURS
        return hours

    def peak_time(self, start: datetime, end: datetime) -> datetime | None:
        """Start of the step with the highest power in ``[start, end)``; None if all zero."""
        best: tuple[float, datetime] | None = None
        for index, power in enumerate(self.power_w):
            step_start = self.start + STEP * index
            if start <= step_start < end and power > 0 and (best is None or power > best[0]):
                best = (power, step_start)
        return None if best is None else best[1]


def _times(start: datetime, steps: int) -> Any:
    """Pandas DatetimeIndex (UTC) of the step midpoints."""
    import pandas as pd  # noqa: PLC0415

    return pd.date_range(start.astimezone(UTC) + STEP / 2, periods=steps, freq=STEP, tz="UTC")


@lru_cache(maxsize=16)
def _linke_by_day(latitude: float, longitude: float) -> tuple[float, ...]:
    """Linke turbidity of every day of a leap year at a location (pvlib's climatology).

    The lookup reads pvlib's HDF5 file, so it is done once per location and cached.
    """
    import pandas as pd  # noqa: PLC0415
    import pvlib  # noqa: PLC0415

    days = pd.date_range("2020-01-01 12:00", periods=366, freq="D", tz="UTC")
    values = pvlib.clearsky.lookup_linke_turbidity(days, latitude, longitude)
    return tuple(float(value) for value in values)


def linke_turbidity(times: Any, latitude: float, longitude: float) -> FloatArray:
    """Linke turbidity for ``times`` (pandas DatetimeIndex) from pvlib's climatology."""
    import numpy as np  # noqa: PLC0415

    table = np.asarray(_linke_by_day(round(latitude, 2), round(longitude, 2)), dtype=float)
    result: FloatArray = table[np.asarray(times.dayofyear, dtype=int) - 1]
    return result


def solar_geometry(site: PvSite, times: Any, temp_air: Any = DEFAULT_TEMP_AIR) -> dict[str, Any]:
    """Solar position, air mass, extraterrestrial DNI and clear-sky irradiance at ``times``.

    Returns a dict of numpy arrays: ``apparent_zenith``, ``zenith``, ``azimuth`` (deg),
    ``airmass_relative``, ``airmass_absolute``, ``dni_extra``, ``ghi_clear``, ``dni_clear``,
    ``dhi_clear`` (W/m2).
    """
    import numpy as np  # noqa: PLC0415
    import pvlib  # noqa: PLC0415

    pressure = pvlib.atmosphere.alt2pres(site.elevation)
    solpos = pvlib.solarposition.get_solarposition(
        times,
        site.latitude,
        site.longitude,
        altitude=site.elevation,
        pressure=pressure,
        temperature=temp_air,
    )
    apparent_zenith = solpos["apparent_zenith"].to_numpy()
    airmass_relative = np.asarray(
        pvlib.atmosphere.get_relative_airmass(apparent_zenith, "kastenyoung1989")
    )
    airmass_absolute = np.asarray(pvlib.atmosphere.get_absolute_airmass(airmass_relative, pressure))
    dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(times))
    with np.errstate(divide="ignore", invalid="ignore"):  # night: zenith > 90 deg
        clear = pvlib.clearsky.ineichen(
            apparent_zenith,
            airmass_absolute,
            linke_turbidity(times, site.latitude, site.longitude),
            altitude=site.elevation,
            dni_extra=dni_extra,
        )
    return {
        "apparent_zenith": apparent_zenith,
        "zenith": solpos["zenith"].to_numpy(),
        "azimuth": solpos["azimuth"].to_numpy(),
        "airmass_relative": airmass_relative,
        "airmass_absolute": airmass_absolute,
        "dni_extra": dni_extra,
        "ghi_clear": np.nan_to_num(np.asarray(clear["ghi"], dtype=float)),
        "dni_clear": np.nan_to_num(np.asarray(clear["dni"], dtype=float)),
        "dhi_clear": np.nan_to_num(np.asarray(clear["dhi"], dtype=float)),
    }


def cloud_cover_to_irradiance(
    geometry: Mapping[str, Any], times: Any, cloud_cover: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """GHI, DNI, DHI (W/m2) from cloud cover (%): Larson et al. 2016, then Erbs 1982."""
    import numpy as np  # noqa: PLC0415
    import pvlib  # noqa: PLC0415

    cover = np.clip(cloud_cover, 0.0, 100.0) / 100.0
    ghi = geometry["ghi_clear"] * (LARSON_OFFSET + (1 - LARSON_OFFSET) * (1 - cover))
    parts = pvlib.irradiance.erbs(ghi, geometry["zenith"], times)
    return (
        ghi,
        np.nan_to_num(np.asarray(parts["dni"], dtype=float)),
        np.nan_to_num(np.asarray(parts["dhi"], dtype=float)),
    )


def _simulate_array(
    array: PvArray,
    geometry: Mapping[str, Any],
    ghi: FloatArray,
    dni: FloatArray,
    dhi: FloatArray,
    temp_air: FloatArray | float,
    wind_speed: FloatArray | float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """POA global (W/m2), cell temperature (degC) and DC after losses (W) of one array.

    Perez transposition, physical IAM on the direct part, Faiman cell temperature, PVWatts
    DC (all pvlib); inputs as for :func:`simulate`.
    """
    import numpy as np  # noqa: PLC0415
    import pvlib  # noqa: PLC0415

    total = pvlib.irradiance.get_total_irradiance(
        array.tilt,
        array.azimuth,
        geometry["apparent_zenith"],
        geometry["azimuth"],
        dni,
        ghi,
        dhi,
        dni_extra=geometry["dni_extra"],
        airmass=geometry["airmass_relative"],
        albedo=ALBEDO,
        model="perez",
    )
    poa_global = np.nan_to_num(np.asarray(total["poa_global"], dtype=float))
    poa_direct = np.nan_to_num(np.asarray(total["poa_direct"], dtype=float))
    poa_diffuse = np.nan_to_num(np.asarray(total["poa_diffuse"], dtype=float))
    aoi = pvlib.irradiance.aoi(
        array.tilt, array.azimuth, geometry["apparent_zenith"], geometry["azimuth"]
    )
    effective = poa_direct * np.asarray(pvlib.iam.physical(aoi)) + poa_diffuse
    cell = np.asarray(pvlib.temperature.faiman(poa_global, temp_air, wind_speed))
    array_dc = np.asarray(
        pvlib.pvsystem.pvwatts_dc(effective, cell, array.kwp * 1000.0, array.gamma_pdc / 100.0),
        dtype=float,
    ) * (1 - array.losses / 100.0)
    return poa_global, cell, array_dc


def simulate(
    site: PvSite,
    geometry: Mapping[str, Any],
    ghi: FloatArray,
    dni: FloatArray,
    dhi: FloatArray,
    temp_air: FloatArray | float = DEFAULT_TEMP_AIR,
    wind_speed: FloatArray | float = DEFAULT_WIND_SPEED,
    *,
    scales: Sequence[float] | None = None,
    shade: FloatArray | None = None,
) -> dict[str, FloatArray]:
    """Run the PV chain from irradiance to AC power.

    ``geometry`` from :func:`solar_geometry`; irradiance in W/m2, ``temp_air`` degC,
    ``wind_speed`` m/s (arrays or scalars). ``scales`` (one per array) and ``shade`` (one
    factor per time) are the learned correction, applied to DC before the inverter.

    Returns numpy arrays: ``ac`` (W, total, clipped at the AC limit, >= 0), ``dc`` (W, per
    array, rows in array order, after losses), ``poa`` (W/m2, per array), ``temp_cell``
    (degC, per array).
    """
    import numpy as np  # noqa: PLC0415
    import pvlib  # noqa: PLC0415

    n_times = len(ghi)
    dc = np.zeros((len(site.arrays), n_times))
    poa = np.zeros((len(site.arrays), n_times))
    temp_cell = np.zeros((len(site.arrays), n_times))
    for row, array in enumerate(site.arrays):
        poa[row], temp_cell[row], dc[row] = _simulate_array(
            array, geometry, ghi, dni, dhi, temp_air, wind_speed
        )
        if scales is not None:
            dc[row] = dc[row] * scales[row]
    total_dc = dc.sum(axis=0)
    if shade is not None:
        total_dc = total_dc * shade
    ac = np.asarray(
        pvlib.inverter.pvwatts(total_dc, site.ac_limit_kw * 1000.0 / ETA_INV_NOM, ETA_INV_NOM),
        dtype=float,
    )
    return {
        "ac": np.maximum(np.nan_to_num(ac), 0.0),
        "dc": dc,
        "poa": poa,
        "temp_cell": temp_cell,
    }


def _weather_series(weather: Sequence[WeatherPoint], times: Any, attribute: str) -> FloatArray:
    """Values of one weather attribute interpolated to ``times``; NaN out of reach."""
    import numpy as np  # noqa: PLC0415

    targets = np.asarray(times.asi8, dtype=float) / 1e9
    points = sorted(
        (point.time.timestamp() + 1800.0, float(value))
        for point in weather
        if (value := getattr(point, attribute)) is not None and math.isfinite(value)
    )
    if not points:
        return np.full(len(targets), np.nan)
    xs = np.asarray([x for x, _ in points])
    ys = np.asarray([y for _, y in points])
    values = np.interp(targets, xs, ys)
    reach = WEATHER_REACH.total_seconds()
    distance = np.min(np.abs(targets[:, None] - xs[None, :]), axis=1)
    return np.where(distance <= reach, values, np.nan)


def forecast(
    site: PvSite,
    start: datetime,
    steps: int,
    weather: Sequence[WeatherPoint] = (),
    clear_sky_index: Mapping[int, float] | None = None,
    correction: Correction | None = None,
) -> Forecast:
    """Forecast AC power on the 15-minute grid of ``steps`` steps from ``start`` (aware).

    Steps with a cloud cover from ``weather`` go through Larson + Erbs; the others are clear
    sky times ``clear_sky_index[month]`` (1.0 when missing). An applied ``correction`` scales
    the arrays and shades the DC power.
    """
    import numpy as np  # noqa: PLC0415

    times = _times(start, steps)
    cloud = _weather_series(weather, times, "cloud_coverage")
    temp_air = np.nan_to_num(_weather_series(weather, times, "temperature"), nan=DEFAULT_TEMP_AIR)
    wind = np.nan_to_num(_weather_series(weather, times, "wind_speed"), nan=DEFAULT_WIND_SPEED)
    geometry = solar_geometry(site, times, temp_air)
    has_weather = ~np.isnan(cloud)
    ghi_w, dni_w, dhi_w = cloud_cover_to_irradiance(geometry, times, np.nan_to_num(cloud))
    ghi = np.where(has_weather, ghi_w, geometry["ghi_clear"])
    dni = np.where(has_weather, dni_w, geometry["dni_clear"])
    dhi = np.where(has_weather, dhi_w, geometry["dhi_clear"])
    scales: Sequence[float] | None = None
    shade: FloatArray | None = None
    trusted = np.ones(len(times), dtype=bool)
    if correction is not None and correction.applied:
        scales = correction.scales
        shade = correction.shade_factors(times, site.longitude, geometry)
        trusted = correction.seen_at(geometry)
    result = simulate(site, geometry, ghi, dni, dhi, temp_air, wind, scales=scales, shade=shade)
    clear = simulate(
        site,
        geometry,
        geometry["ghi_clear"],
        geometry["dni_clear"],
        geometry["dhi_clear"],
        temp_air,
        wind,
        scales=scales,
        shade=shade,
    )["ac"]
    index = clear_sky_index or {}
    climatology = np.asarray([index.get(int(month), 1.0) for month in times.month])
    power = np.where(has_weather, result["ac"], result["ac"] * climatology)
    weights = np.asarray([array.kwp for array in site.arrays]) / max(site.kwp, 1e-9)
    poa = (result["poa"] * weights[:, None]).sum(axis=0)
    poa = np.where(has_weather, poa, poa * climatology)
    return Forecast(
        start=start.astimezone(UTC),
        power_w=tuple(float(value) for value in power),
        poa_w_m2=tuple(float(value) for value in poa),
        weather=tuple(bool(value) for value in has_weather),
        elevation_deg=tuple(float(90.0 - value) for value in geometry["apparent_zenith"]),
        clear_sky_w=tuple(float(value) for value in clear),
        trusted=tuple(bool(value) for value in trusted),
    )


def clear_sky_hourly(site: PvSite, hour_starts: Sequence[datetime]) -> dict[str, FloatArray]:
    """Clear-sky model per array for whole hours (for fitting the correction).

    Each hour is modelled at its four quarter-hour midpoints and averaged, so the result is
    energy in Wh. Returns ``ac_by_array`` (Wh, arrays x hours: the AC energy split by the
    arrays' DC shares, before any correction), ``ac`` (Wh, total) and the sun's ``azimuth``
    and apparent ``elevation`` (deg) at each hour's middle.
    """
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    base = pd.DatetimeIndex([when.astimezone(UTC) for when in hour_starts])
    offsets = [pd.Timedelta(minutes=7.5 + 15 * quarter) for quarter in range(4)]
    times = pd.DatetimeIndex(np.concatenate([(base + offset).asi8 for offset in offsets]), tz="UTC")
    geometry = solar_geometry(site, times)
    result = simulate(
        site, geometry, geometry["ghi_clear"], geometry["dni_clear"], geometry["dhi_clear"]
    )
    count = len(base)
    dc = result["dc"]
    total_dc = dc.sum(axis=0)
    share = np.divide(dc, total_dc, out=np.zeros_like(dc), where=total_dc > 0)
    ac_by_array = (share * result["ac"]).reshape(len(site.arrays), 4, count).mean(axis=1)
    # The sun at the hour's middle: the mean of the second and third quarter midpoints.
    azimuth = geometry["azimuth"].reshape(4, count)[1:3].mean(axis=0)
    elevation = 90.0 - geometry["apparent_zenith"].reshape(4, count)[1:3].mean(axis=0)
    return {
        "ac_by_array": ac_by_array,
        "ac": ac_by_array.sum(axis=0),
        "azimuth": azimuth,
        "elevation": elevation,
    }
