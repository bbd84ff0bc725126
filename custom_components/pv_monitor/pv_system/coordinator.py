"""Runtime of a ``pv_system`` entry: forecast, correction, indicators, anomaly detection.

- Set-up never waits for pvlib: the entities appear at once (unknown until the first
  forecast), and the first forecast runs as a background task once Home Assistant has
  started (:func:`homeassistant.helpers.start.async_at_started`).
- Forecast: every 30 minutes, and when the weather entity changes and its hourly forecast
  (``weather.get_forecasts``) differs from the one last used, the pvlib chain of
  :mod:`.solar.forecast` runs in the executor for today and the next two days.
- Correction: once a day, the production energy sensor's hourly long-term statistics of the
  last year are read from the recorder (its executor) and :mod:`.solar.correction` is fitted.
- Every 5 minutes: the expected power now (forecast, scaled by the measured plane-of-array
  irradiance when a sensor exists) is compared with the measured power, and the arrays that
  have their own power sensor with each other (:mod:`.solar.anomaly`): an anomaly fires the
  ``pv_monitor_anomaly`` event at once and raises a repair issue once it has lasted the
  configured share of the day's daylight; today's indicators (:mod:`.solar.kpi`) are
  recomputed from the recorder's statistics (the temperature-corrected PR from the 5-minute
  statistics of energy, irradiance and module temperature, IEC 61724-1 per interval).

Daily energy and insolation (for the 7-day performance ratio) and the forecast of every
hour (for the forecast accuracy) are kept in a small store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
import logging
import math
from typing import Any, Final, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import UnitOfEnergy, UnitOfPower, UnitOfSpeed, UnitOfTemperature
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event, async_track_time_interval
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util, slugify
from homeassistant.util.unit_conversion import PowerConverter, SpeedConverter, TemperatureConverter

from ..common.issues import async_raise_issue
from ..const import DOMAIN
from .const import (
    ACCURACY_DAYS,
    EVENT_ANOMALY,
    FORECAST_DAYS,
    HISTORY_DAYS,
    ISSUE_ANOMALY_PREFIX,
    REFRESH_INTERVAL,
    SAMPLE_INTERVAL,
    Price,
    PvSystemSettings,
)
from .solar import kpi
from .solar.anomaly import (
    MIN_ELEVATION,
    AnomalyDetector,
    AnomalyEvent,
    AnomalyType,
    Sample,
    StringReading,
)
from .solar.correction import Correction
from .solar.forecast import STEP, Forecast, PvSite, WeatherPoint

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION: Final = 1
STORE_SAVE_DELAY: Final = 60.0
MIN_POA_FOR_SCALING: Final = 20.0
"""W/m2: below this modelled irradiance the measured one does not rescale the forecast."""
KWH: Final = UnitOfEnergy.KILO_WATT_HOUR
ORIENTATION_STEP: Final = 5.0
"""Degrees: arrays whose tilt and azimuth round to the same 5 deg are peers."""
MAX_NEGATIVE_LOAD: Final = -100.0
"""W: a house load below this is inconsistent readings, not a load (shown as unknown)."""
SHORT_TERM: Final = timedelta(minutes=5)
"""Period of the recorder's short-term statistics."""

type PvSystemConfigEntry = ConfigEntry[PvSystemCoordinator]


def _compute_forecast(
    site: PvSite,
    start: datetime,
    steps: int,
    weather: list[WeatherPoint],
    correction: Correction | None,
) -> Forecast:
    """Executor job: the forecast (imports pvlib on first use)."""
    from .solar.forecast import forecast  # noqa: PLC0415

    index = correction.clear_sky_index if correction is not None else None
    return forecast(site, start, steps, weather, index, correction)


def _fit(site: PvSite, hour_starts: list[datetime], measured: list[float | None]) -> Correction:
    """Executor job: model the history's hours at clear sky and fit the correction."""
    from .solar.correction import fit_correction  # noqa: PLC0415
    from .solar.forecast import clear_sky_hourly  # noqa: PLC0415

    model = clear_sky_hourly(site, hour_starts)
    return fit_correction(
        [hour.timestamp() for hour in hour_starts],
        measured,
        model["ac_by_array"],
        site.longitude,
        model["azimuth"],
        model["elevation"],
    )


@dataclass(slots=True)
class PvSystemData:
    """What the entities show: the forecast and the latest indicators."""

    forecast: Forecast
    computed_at: datetime
    kpis: dict[str, float | None] = field(default_factory=dict)
    expected_power: float | None = None


class PvSystemCoordinator(DataUpdateCoordinator[PvSystemData]):
    """Runtime of one PV system entry (the ``KindRuntime`` of kind ``pv_system``)."""

    config_entry: PvSystemConfigEntry

    def __init__(self, hass: HomeAssistant, entry: PvSystemConfigEntry) -> None:
        """Prepare the runtime; nothing runs before :meth:`async_setup`."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"PV system {entry.title}",
            update_interval=REFRESH_INTERVAL,
        )
        self.settings = settings = PvSystemSettings.from_mapping(
            entry.data,
            entry.options,
            [(sub.subentry_type, sub.title, sub.data) for sub in entry.subentries.values()],
        )
        """The entry's site, arrays and options (a reload renews them)."""
        self.site = settings.site
        self.detector = AnomalyDetector(
            kwp=self.site.kwp,
            threshold=settings.options.threshold,
            repair_share=settings.options.repair_share,
        )
        self.strings = [
            (
                item.array.name,
                f"{_snap(item.array.tilt)}/{_snap(item.array.azimuth)}",
                item.power_sensor,
                item.array.kwp,
            )
            for item in settings.array_sensors
        ]
        self.correction: Correction | None = None
        self.correction_day: str | None = None
        self.forecast_accuracy: float | None = None
        self.last_events: list[dict[str, Any]] = []
        self._weather: list[WeatherPoint] = []
        self._weather_key: tuple[Any, ...] | None = None
        self._forecast_day: str | None = None
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.pv_system.{entry.entry_id}"
        )
        self._stored: dict[str, Any] = {"days": {}, "hours": {}, "issues": []}
        self._unsubs: list[Callable[[], None]] = []
        self._weather_warned = False

    @property
    def has_forecast(self) -> bool:
        """Whether the first forecast exists (the entities are unknown before it)."""
        return cast("PvSystemData | None", self.data) is not None

    # --- KindRuntime -------------------------------------------------------------------

    async def async_setup(self) -> None:
        """Load the store; the first forecast is left to :meth:`async_start`."""
        stored = await self._store.async_load()
        if stored:
            self._stored = {"days": stored.get("days", {}), "hours": stored.get("hours", {})}
            issues = stored.get("issues", [])
            self.detector.restore_issues(
                [
                    (str(item[0]), None if len(item) < 2 or item[1] is None else str(item[1]))
                    for item in issues
                    if isinstance(item, list) and item
                ]
            )

    async def async_start(self) -> None:
        """Start sampling, follow the weather entity, forecast once HA has started."""
        self._unsubs.append(
            async_track_time_interval(self.hass, self._async_sample, SAMPLE_INTERVAL)
        )
        if weather := self.settings.options.weather:
            self._unsubs.append(
                async_track_state_change_event(self.hass, weather, self._async_weather_changed)
            )
        self._unsubs.append(async_at_started(self.hass, self._async_started))

    @callback
    def _async_started(self, _hass: HomeAssistant) -> None:
        """Home Assistant runs: compute the first forecast in the background."""
        self.config_entry.async_create_background_task(
            self.hass, self._async_first_forecast(), f"{DOMAIN} first forecast"
        )

    async def _async_first_forecast(self) -> None:
        """The first forecast (pvlib imported in the executor), then the first sample."""
        await self.async_refresh()
        await self._async_sample()

    async def async_stop(self) -> None:
        """Stop timers and listeners and save the store."""
        while self._unsubs:
            self._unsubs.pop()()
        await self.async_shutdown()
        await self._store.async_save(self._stored)

    def diagnostics(self) -> dict[str, Any]:
        """Model inputs (location rounded to 0.1 deg), correction, last forecast."""
        data = self.data
        forecast = None if data is None else data.forecast
        site = {
            "latitude": round(self.site.latitude, 1),
            "longitude": round(self.site.longitude, 1),
            "elevation": round(self.site.elevation),
            "ac_limit_kw": self.site.ac_limit_kw,
            "arrays": [
                {
                    "tilt": a.tilt,
                    "azimuth": a.azimuth,
                    "kwp": a.kwp,
                    "gamma_pdc": a.gamma_pdc,
                    "losses": a.losses,
                }
                for a in self.site.arrays
            ],
        }
        return {
            "site": site,
            "options": asdict(self.settings.options),
            "weather_points": len(self._weather),
            "correction": None if self.correction is None else self.correction.as_dict(),
            "forecast": None
            if forecast is None
            else {
                "start": forecast.start.isoformat(),
                "computed_at": data.computed_at.isoformat(),
                "weather_steps": sum(forecast.weather),
                "hourly_wh": {
                    hour.isoformat(): round(wh, 1) for hour, wh in forecast.hourly_wh().items()
                },
            },
            "kpis": None if data is None else data.kpis,
            "forecast_accuracy": self.forecast_accuracy,
            "anomalies": {kind.value: self.detector.figures(kind) for kind in AnomalyType},
            "last_events": self.last_events,
        }

    # --- forecast ----------------------------------------------------------------------

    async def _async_update_data(self) -> PvSystemData:
        """Refresh weather and (daily) correction; recompute the forecast when needed."""
        now = dt_util.utcnow()
        today = dt_util.start_of_local_day()
        day_key = today.date().isoformat()
        if self.correction_day != day_key and self._recorder_ready():
            await self._async_refit(today)
            self.correction_day = day_key
        weather = await self._async_fetch_weather()
        weather_key = tuple((p.time, p.cloud_coverage) for p in weather)
        if (
            self.data is not None
            and self._forecast_day == day_key
            and weather_key == self._weather_key
            and now - self.data.computed_at < REFRESH_INTERVAL - timedelta(minutes=5)
        ):
            return self.data
        end = dt_util.start_of_local_day(today + timedelta(days=FORECAST_DAYS, hours=12))
        steps = math.ceil((end - today) / STEP)
        try:
            result = await self.hass.async_add_executor_job(
                _compute_forecast, self.site, today, steps, weather, self.correction
            )
        except (ValueError, ArithmeticError, OSError) as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="pv_system_forecast_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        self._weather, self._weather_key, self._forecast_day = weather, weather_key, day_key
        kpis = self.data.kpis if self.data is not None else {}
        expected = self.data.expected_power if self.data is not None else None
        return PvSystemData(result, now, kpis, expected)

    async def _async_fetch_weather(self) -> list[WeatherPoint]:
        """The weather entity's hourly forecast; empty without entity or on failure."""
        entity_id = self.settings.options.weather
        if not entity_id:
            return []
        try:
            response = await self.hass.services.async_call(
                "weather",
                "get_forecasts",
                {"entity_id": entity_id, "type": "hourly"},
                blocking=True,
                return_response=True,
            )
            items = cast(dict[str, Any], response)[entity_id]["forecast"]
        except (HomeAssistantError, KeyError, TypeError) as err:
            if not self._weather_warned:
                _LOGGER.warning(
                    "No hourly forecast from %s (%s); using clear sky x climatology",
                    entity_id,
                    err,
                )
                self._weather_warned = True
            return []
        self._weather_warned = False
        state = self.hass.states.get(entity_id)
        attributes = state.attributes if state is not None else {}
        temp_unit = attributes.get("temperature_unit", UnitOfTemperature.CELSIUS)
        wind_unit = attributes.get("wind_speed_unit", UnitOfSpeed.METERS_PER_SECOND)
        points: list[WeatherPoint] = []
        for item in items:
            when = dt_util.parse_datetime(str(item.get("datetime", "")))
            if when is None:
                continue
            temperature = _number(item.get("temperature"))
            wind = _number(item.get("wind_speed"))
            points.append(
                WeatherPoint(
                    time=when,
                    cloud_coverage=_number(item.get("cloud_coverage")),
                    temperature=None
                    if temperature is None
                    else TemperatureConverter.convert(
                        temperature, temp_unit, UnitOfTemperature.CELSIUS
                    ),
                    wind_speed=None
                    if wind is None
                    else SpeedConverter.convert(wind, wind_unit, UnitOfSpeed.METERS_PER_SECOND),
                )
            )
        return points

    @callback
    def _async_weather_changed(self, event: Event[EventStateChangedData]) -> None:
        """The weather entity updated: refresh (debounced); unchanged forecasts are reused."""
        self.hass.async_create_task(self.async_request_refresh(), eager_start=False)

    # --- history and correction ---------------------------------------------------------

    def _recorder_ready(self) -> bool:
        return "recorder" in self.hass.config.components

    async def _async_hourly(
        self, statistic_id: str, start: datetime, end: datetime
    ) -> dict[float, float]:
        """Hourly energy change (Wh) of a statistic by hour start (epoch s)."""
        return await self._async_periods(
            statistic_id, start, end, "hour", "change", UnitOfEnergy.WATT_HOUR
        )

    async def _async_refit(self, today: datetime) -> None:
        """Fit the correction on the last year of hourly production; update accuracy."""
        energy = self.settings.options.production_energy
        if not energy or not self.site.arrays:
            return
        start = today - timedelta(days=HISTORY_DAYS)
        measured = await self._async_hourly(energy, start, today)
        if not measured:
            return
        first = dt_util.utc_from_timestamp(min(measured))
        hours = [
            first + timedelta(hours=h) for h in range(int((today - first) / timedelta(hours=1)))
        ]
        values = [measured.get(hour.timestamp()) for hour in hours]
        self.correction = await self.hass.async_add_executor_job(_fit, self.site, hours, values)
        _LOGGER.debug("Correction for %s: %s", self.config_entry.title, self.correction.as_dict())
        self.forecast_accuracy = self._accuracy(measured, today)

    def _accuracy(self, measured: dict[float, float], today: datetime) -> float | None:
        """NMAE (%) of the stored hourly forecasts over the last days' measured hours."""
        since = (today - timedelta(days=ACCURACY_DAYS)).timestamp()
        hours: dict[str, float] = self._stored["hours"]
        errors = 0.0
        total = 0.0
        for key, forecast_wh in hours.items():
            when = dt_util.parse_datetime(key)
            if when is None or not since <= when.timestamp() < today.timestamp():
                continue
            if (actual := measured.get(when.timestamp())) is None:
                continue
            errors += abs(forecast_wh - actual)
            total += actual
        return 100.0 * errors / total if total > 0 else None

    # --- sampling, anomalies and indicators -------------------------------------------

    def _state_value(self, entity_id: str | None) -> tuple[float, str | None] | None:
        """A sensor's number and unit; None without sensor or with a non-numeric state."""
        if not entity_id or (state := self.hass.states.get(entity_id)) is None:
            return None
        value = _number(state.state)
        if value is None:
            return None
        return value, state.attributes.get("unit_of_measurement")

    def _measured_power(self) -> float | None:
        """Production power now in W."""
        reading = self._state_value(self.settings.options.production_power)
        if reading is None:
            return None
        value, unit = reading
        if unit in PowerConverter.VALID_UNITS and unit != UnitOfPower.WATT:
            return PowerConverter.convert(value, unit, UnitOfPower.WATT)
        return value

    def _poa_scaled(self, now: datetime) -> tuple[float | None, bool]:
        """Modelled power now (W) and whether a measured POA irradiance rescaled it."""
        forecast = self.data.forecast
        expected = forecast.power_at(now)
        if expected is None:
            return None, False
        poa = self._state_value(self.settings.options.poa_irradiance)
        index = math.floor((now - forecast.start) / STEP)
        modelled = forecast.poa_w_m2[index]
        if poa is not None and modelled >= MIN_POA_FOR_SCALING:
            return expected * max(poa[0], 0.0) / modelled, True
        return expected, False

    def expected_power(self, now: datetime) -> float | None:
        """Modelled power now (W), rescaled by measured plane-of-array irradiance if given."""
        return self._poa_scaled(now)[0]

    def _power(self, entity_id: str) -> float | None:
        """A power sensor's state in W (W or kW and the like), None when not a number."""
        if (state := self.hass.states.get(entity_id)) is None:
            return None
        value = _number(state.state)
        unit = state.attributes.get("unit_of_measurement")
        if value is not None and unit in PowerConverter.VALID_UNITS and unit != UnitOfPower.WATT:
            return PowerConverter.convert(value, unit, UnitOfPower.WATT)
        return value

    def house_load(self) -> float | None:
        """House load power (W): production + net grid power (import positive).

        None without a grid power sensor, with an unknown reading, or when the sum is
        more negative than :data:`MAX_NEGATIVE_LOAD` (readings taken at different moments).
        """
        grid_id = self.settings.options.grid_power
        production_id = self.settings.options.production_power
        if not grid_id or not production_id:
            return None
        grid, production = self._power(grid_id), self._power(production_id)
        if grid is None or production is None:
            return None
        load = production + grid
        return None if load < MAX_NEGATIVE_LOAD else max(load, 0.0)

    def _sample(self, now: datetime) -> Sample:
        """What the anomaly detector judges now."""
        forecast = self.data.forecast
        expected, poa_measured = self._poa_scaled(now)
        clear = forecast.clear_sky_at(now)
        index = math.floor((now - forecast.start) / STEP)
        has_weather = 0 <= index < len(forecast.weather) and forecast.weather[index]
        today = dt_util.start_of_local_day()
        steps = [
            elevation >= MIN_ELEVATION
            for i, elevation in enumerate(forecast.elevation_deg)
            if today <= forecast.start + STEP * i < today + timedelta(days=1)
        ]
        return Sample(
            when=now,
            measured_w=self._measured_power(),
            expected_w=expected,
            elevation_deg=forecast.elevation_at(now),
            clear_sky_w=clear,
            forecast_csi=(forecast.power_at(now) or 0.0) / clear if has_weather and clear else None,
            poa_measured=poa_measured,
            model_trusted=forecast.trusted_at(now),
            daylight_hours=sum(steps) * STEP.total_seconds() / 3600,
            strings=[
                StringReading(name, group, self._power(entity_id), kwp)
                for name, group, entity_id, kwp in self.strings
            ],
        )

    async def _async_sample(self, _now: datetime | None = None) -> None:
        """Every 5 minutes: anomaly detection, hour forecasts, indicators."""
        if not self.has_forecast:
            return
        now = dt_util.utcnow()
        sample = self._sample(now)
        for event in self.detector.update(sample):
            self._async_anomaly(event)
        self._sync_issues()
        self._remember_hours(now)
        kpis = await self._async_kpis(now)
        self.data.kpis = kpis
        self.data.expected_power = sample.expected_w
        self._store.async_delay_save(lambda: self._stored, STORE_SAVE_DELAY)
        self.async_update_listeners()

    def _remember_hours(self, now: datetime) -> None:
        """Keep the latest forecast of the current and every later hour (for the accuracy)."""
        hours: dict[str, float] = self._stored["hours"]
        for hour, wh in self.data.forecast.hourly_wh().items():
            if hour > now - timedelta(hours=1) and hour >= now.replace(minute=0, second=0):
                hours[hour.isoformat()] = round(wh, 1)
        horizon = now - timedelta(days=ACCURACY_DAYS + 1)
        for key in [k for k in hours if (t := dt_util.parse_datetime(k)) and t < horizon]:
            del hours[key]

    @callback
    def _async_anomaly(self, event: AnomalyEvent) -> None:
        """Fire the ``pv_monitor_anomaly`` event with the anomaly's figures."""
        data = {"entry_id": self.config_entry.entry_id, "name": self.config_entry.title}
        data |= event.as_dict()
        self.last_events = [*self.last_events[-9:], {**data, "time": event.time.isoformat()}]
        self.hass.bus.async_fire(EVENT_ANOMALY, data)

    def _issue_id(self, kind: AnomalyType, subject: str | None) -> str:
        suffix = "" if subject is None else f"_{slugify(subject)}"
        return f"{ISSUE_ANOMALY_PREFIX}_{kind.value}_{self.config_entry.entry_id}{suffix}"

    @callback
    def _sync_issues(self) -> None:
        """Raise the repair issues the detector says are due; delete the others."""
        due = self.detector.issues()
        self._stored["issues"] = [[kind.value, subject] for kind, subject in due]
        muted = self.settings.options.muted_anomalies
        due = {key: track for key, track in due.items() if key[0].value not in muted}
        for kind in AnomalyType:
            subjects = [None, *(name for name, *_ in self.strings)]
            for subject in subjects:
                if (kind, subject) not in due:
                    ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(kind, subject))
        for (kind, subject), track in due.items():
            ratio = track.measured_wh / track.expected_wh if track.expected_wh > 0 else None
            async_raise_issue(
                self.hass,
                self._issue_id(kind, subject),
                f"pv_system_{kind.value}",
                fixable=True,
                data={"entry_id": self.config_entry.entry_id, "anomaly": kind.value},
                severity=ir.IssueSeverity.ERROR
                if kind is AnomalyType.NO_PRODUCTION
                else ir.IssueSeverity.WARNING,
                placeholders={
                    "name": self.config_entry.title,
                    "string": subject or "",
                    "minutes": f"{track.duration.total_seconds() / 60:.0f}",
                    "measured": f"{track.measured_wh / 1000:.2f}",
                    "expected": f"{track.expected_wh / 1000:.2f}",
                    "ratio": "-" if ratio is None else f"{ratio * 100:.0f}",
                },
            )

    async def _async_statistic(
        self, entity_id: str | None, start: datetime, end: datetime, types: set[str], units: Any
    ) -> dict[str, Any]:
        """One statistic of a sensor between two times ({} without sensor or recorder)."""
        if not entity_id or not self._recorder_ready():
            return {}
        from homeassistant.components.recorder.statistics import statistic_during_period  # noqa: PLC0415
        from homeassistant.helpers.recorder import get_instance  # noqa: PLC0415

        result: dict[str, Any] = await get_instance(self.hass).async_add_executor_job(
            statistic_during_period, self.hass, start, end, entity_id, types, units
        )
        return result

    async def _async_change(
        self, entity_id: str | None, start: datetime, end: datetime
    ) -> float | None:
        """Energy change (kWh) of an energy sensor's statistics between two times."""
        change = (
            await self._async_statistic(entity_id, start, end, {"change"}, {"energy": KWH})
        ).get("change")
        return None if change is None else float(change)

    async def _async_mean(
        self, entity_id: str | None, start: datetime, end: datetime
    ) -> float | None:
        """Time-weighted mean of a measurement sensor's statistics between two times."""
        mean = (await self._async_statistic(entity_id, start, end, {"mean"}, None)).get("mean")
        return None if mean is None else float(mean)

    def _price(self, price: Price) -> float | None:
        """The price entity's present value, else the fixed price (None: neither)."""
        if (reading := self._state_value(price.entity)) is not None:
            return reading[0]
        return price.fixed

    async def _async_intervals(
        self, start: datetime, end: datetime
    ) -> tuple[list[float], list[float], list[float], float] | None:
        """Per interval: energy (kWh), in-plane irradiance (kW/m2), module temp, hours.

        From the recorder's 5-minute statistics (hourly ones where no 5-minute ones exist)
        of the production energy sensor (change), the POA irradiance sensor (mean; the
        model's irradiance without one) and the module temperature sensor (mean); intervals
        missing any of them are left out. None without the sensors or the recorder.
        """
        options = self.settings.options
        energy_id, temp_id = options.production_energy, options.module_temperature
        if not energy_id or not temp_id or not self._recorder_ready():
            return None
        poa_id = options.poa_irradiance
        period, length = "5minute", SHORT_TERM
        energy = await self._async_periods(energy_id, start, end, period, "change", KWH)
        if not energy:
            period, length = "hour", timedelta(hours=1)
            energy = await self._async_periods(energy_id, start, end, period, "change", KWH)
        temps = await self._async_periods(temp_id, start, end, period, "mean", None)
        poa = await self._async_periods(poa_id, start, end, period, "mean", None) if poa_id else {}
        forecast = self.data.forecast
        hours = length.total_seconds() / 3600
        rows: tuple[list[float], list[float], list[float], float] = ([], [], [], hours)
        for at, kwh in sorted(energy.items()):
            begin = dt_util.utc_from_timestamp(at)
            irradiance = (
                poa.get(at) if poa_id else forecast.insolation_wh_m2(begin, begin + length) / hours
            )
            if irradiance is None or (temp := temps.get(at)) is None:
                continue
            rows[0].append(kwh)
            rows[1].append(max(irradiance, 0.0) / 1000)
            rows[2].append(temp)
        return rows

    async def _async_periods(
        self,
        entity_id: str,
        start: datetime,
        end: datetime,
        period: Any,
        kind: str,
        energy_unit: str | None,
    ) -> dict[float, float]:
        """A statistic's values (``change`` or ``mean``) by period start (epoch s).

        ``energy_unit`` (e.g. kWh) converts energy statistics; None leaves units as stored.
        """
        from homeassistant.components.recorder.statistics import statistics_during_period  # noqa: PLC0415
        from homeassistant.helpers.recorder import get_instance  # noqa: PLC0415

        stats = await get_instance(self.hass).async_add_executor_job(
            statistics_during_period,
            self.hass,
            start,
            end,
            {entity_id},
            period,
            {"energy": energy_unit} if energy_unit else None,
            {kind},
        )
        return {
            float(row["start"]): float(cast(float, value))
            for row in stats.get(entity_id, [])
            if (value := row.get(kind)) is not None
        }

    async def _async_insolation(self, today: datetime, now: datetime) -> float:
        """Today's in-plane insolation (kWh/m2): measured when a sensor exists, else model."""
        insolation = self.data.forecast.insolation_wh_m2(today, now) / 1000
        if self._state_value(self.settings.options.poa_irradiance) is not None:
            # IEC 61724-1: measured in-plane irradiance when available (recorder mean).
            measured_mean = await self._async_mean(self.settings.options.poa_irradiance, today, now)
            if measured_mean is not None:
                insolation = measured_mean * (now - today).total_seconds() / 3600 / 1000
        return insolation

    def _week(self, today: datetime, pv: float | None, insolation: float) -> float | None:
        """Remember today; the performance ratio of the last 7 days."""
        days: dict[str, dict[str, float | None]] = self._stored["days"]
        days[today.date().isoformat()] = {"energy_kwh": pv, "insolation_kwh_m2": insolation}
        for old in sorted(days)[:-ACCURACY_DAYS]:
            del days[old]
        week = [
            days[key]
            for key in sorted(days)[-7:]
            if key >= (today - timedelta(days=6)).date().isoformat()
        ]
        week_energy = sum(d["energy_kwh"] or 0.0 for d in week)
        week_insolation = sum(d["insolation_kwh_m2"] or 0.0 for d in week)
        return kpi.performance_ratio(week_energy if week else None, self.site.kwp, week_insolation)

    async def _async_kpis(self, now: datetime) -> dict[str, float | None]:
        """Today's (and the last 7 days') indicators; implausible values are None."""
        today = dt_util.start_of_local_day()
        p0 = self.site.kwp
        options = self.settings.options
        pv = await self._async_change(options.production_energy, today, now)
        imported = await self._async_change(options.grid_import, today, now)
        exported = await self._async_change(options.grid_export, today, now)
        insolation = await self._async_insolation(today, now)
        hours = (now - today).total_seconds() / 3600
        gamma = sum(a.gamma_pdc * a.kwp for a in self.site.arrays) / p0 / 100 if p0 > 0 else 0.0
        corrected = None
        if (intervals := await self._async_intervals(today, now)) is not None:
            energy, irradiance, temps, length = intervals
            corrected = kpi.temperature_corrected_pr(
                energy, irradiance, temps, [length] * len(energy), p0, gamma
            )
        capacity = kpi.plausible(kpi.capacity_factor(pv, p0, hours), kpi.CAPACITY_FACTOR_RANGE)
        import_price = self._price(options.import_price)
        export_price = self._price(options.export_price)
        pr_range = kpi.PERFORMANCE_RATIO_RANGE
        return {
            "production_today": pv,
            "performance_ratio_today": _percent(
                kpi.plausible(kpi.performance_ratio(pv, p0, insolation), pr_range)
            ),
            "performance_ratio_7d": _percent(
                kpi.plausible(self._week(today, pv, insolation), pr_range)
            ),
            "temperature_corrected_pr_today": _percent(kpi.plausible(corrected, pr_range)),
            "specific_yield_today": None if capacity is None else kpi.specific_yield(pv, p0),
            "capacity_factor_today": _percent(capacity),
            "self_consumption_ratio_today": _percent(kpi.self_consumption_ratio(pv, exported)),
            "self_sufficiency_today": _percent(kpi.self_sufficiency(pv, exported, imported)),
            "direct_consumption_today": kpi.direct_consumption(pv, exported),
            "house_consumption_today": kpi.consumption(pv, exported, imported),
            "grid_cost_today": kpi.grid_cost(imported, exported, import_price, export_price),
            "savings_today": kpi.savings(pv, exported, import_price, export_price),
        }


def _number(value: Any) -> float | None:
    """A finite float from a state or attribute, else None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _snap(degrees: float) -> int:
    """Degrees rounded to :data:`ORIENTATION_STEP` (the orientation group of an array)."""
    return round(degrees / ORIENTATION_STEP) * int(ORIENTATION_STEP)


def _percent(value: float | None) -> float | None:
    return None if value is None else value * 100.0
