"""Controller of EV charging on solar surplus (pure: time is injected, no I/O).

The controller is fed the net grid power (W, import positive) with the time it was
measured, optionally the home battery's state of charge, and is *ticked* with the present
time. Each tick returns a :class:`Command`: charge or not, at which current (A) and on how
many phases. It never acts itself.

State machine (surplus modes)::

    idle --enough surplus--> waiting_to_start --start_delay--> charging
    charging --shortfall--> waiting_to_stop --stop_delay--> idle
    waiting_to_start --surplus gone--> idle;  waiting_to_stop --surplus back--> charging

* *Surplus* available to the car = grid export + the car's own power when the grid power
  was measured (the current the controller had commanded x voltage x phases). The target current is that surplus divided
  by (voltage x phases), i.e. present current + export / (voltage x phases), rounded down to
  the current step and clamped to the minimum and maximum current.
* *Enough surplus* to start: surplus >= minimum charging power (minimum current x voltage x
  phases) + start threshold. *Shortfall* while charging: at the minimum current the grid
  import would exceed the stop threshold, i.e. surplus < minimum charging power - stop
  threshold. These are evcc's ``enable``/``disable`` thresholds, both 0 W by default.
* Minimum on and off times keep the relay from flapping: a stop waits until the charger has
  been on for ``min_on_time``, a start until it has been off for ``min_off_time``.
* Modes: ``off`` (never charge), ``solar`` (surplus only), ``min_solar`` (the minimum
  current always, more when there is surplus; it never stops for a shortfall) and ``fast``
  (maximum current on every phase, surplus ignored).
* Home-battery priority: while the battery's state of charge is below
  ``battery_priority_soc``, the car gets no surplus (solar mode does not start and stops
  after the stop delay; min_solar charges at the minimum current).
* Fail-safe: when the grid power is unavailable or older than ``stale_timeout``, charging
  stops at once in every mode (status ``stale_data``) and resumes through the normal start
  path when fresh data returns.
* Optional 1/3-phase switching (``phase_switching``): a start uses three phases when the
  surplus covers the three-phase minimum power; while charging, the controller goes to three
  phases when the surplus has covered that power (+ start threshold) for
  ``phase_switch_delay``, and back to one phase when it has fallen below it (- stop
  threshold) for that long (charging on at the three-phase minimum meanwhile). Only a
  surplus too small for one phase counts as a shortfall then.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import StrEnum
import math
from typing import Final

DEFAULT_BATTERY_PRIORITY_SOC: Final = 50.0
"""State of charge (%) below which the home battery charges first (half full)."""


class Mode(StrEnum):
    """What the controller may do (select entity ``mode``)."""

    OFF = "off"
    """Never charge."""
    SOLAR = "solar"
    """Charge on surplus only."""
    MIN_SOLAR = "min_solar"
    """Always charge at least at the minimum current; surplus on top."""
    FAST = "fast"
    """Charge at the maximum current on every phase, whatever the surplus."""


class ChargeState(StrEnum):
    """Where the state machine is."""

    IDLE = "idle"
    WAITING_TO_START = "waiting_to_start"
    CHARGING = "charging"
    WAITING_TO_STOP = "waiting_to_stop"


class Status(StrEnum):
    """The state with its reason (the "Controller state" enum sensor)."""

    DISABLED = "disabled"
    """The controller is switched off or in mode ``off``."""
    NO_SURPLUS = "no_surplus"
    """Idle: not enough surplus to start."""
    BATTERY_PRIORITY = "battery_priority"
    """Idle: the home battery is below its priority state of charge."""
    WAITING_TO_START = "waiting_to_start"
    """Enough surplus; the start delay runs."""
    MIN_OFF_TIME = "min_off_time"
    """Ready to start, but the charger has not been off for the minimum off time yet."""
    CHARGING_SURPLUS = "charging_surplus"
    """Charging on surplus."""
    CHARGING_MINIMUM = "charging_minimum"
    """Mode min_solar: charging at the minimum current without (enough) surplus."""
    CHARGING_FAST = "charging_fast"
    """Mode fast: charging at the maximum current."""
    WAITING_TO_STOP = "waiting_to_stop"
    """Shortfall; the stop delay runs (charging at the minimum current meanwhile)."""
    MIN_ON_TIME = "min_on_time"
    """Ready to stop, but the charger has not been on for the minimum on time yet."""
    STALE_DATA = "stale_data"
    """Grid power unavailable or older than the stale timeout: charging stopped."""


@dataclass(frozen=True, slots=True)
class ControllerSettings:
    """Settings of the controller (W, A, V, seconds, %).

    Raises:
        ValueError: from :meth:`validate` when a value is out of range.
    """

    voltage: float = 230.0
    """Phase voltage (V); nominal of the European low-voltage grid (EN 50160)."""
    phases: int = 1
    """Phases the charger uses (1 or 3); with ``phase_switching`` the most it may use."""
    phase_switching: bool = False
    """Switch between one and three phases (needs ``phases`` = 3)."""
    min_current: float = 6.0
    """Lowest charging current (A) a car accepts: IEC 61851-1's 6 A minimum PWM current."""
    max_current: float = 16.0
    """Highest charging current (A): the usual 16 A (11 kW three-phase) wallbox circuit."""
    current_step: float = 1.0
    """Resolution (A) of the charging current: IEC 61851 wallboxes take whole amperes."""
    start_threshold: float = 0.0
    """Export (W) beyond the minimum charging power needed to start (evcc ``enable.threshold``)."""
    stop_threshold: float = 0.0
    """Grid import (W) at minimum current tolerated before stopping (evcc ``disable.threshold``)."""
    start_delay: float = 60.0
    """Seconds of enough surplus before charging starts (evcc ``enable.delay`` = 1 min)."""
    stop_delay: float = 180.0
    """Seconds of shortfall before charging stops (evcc ``disable.delay`` = 3 min)."""
    min_on_time: float = 300.0
    """Minimum seconds the charger stays on once started (evcc's ``guardduration`` = 5 min)."""
    min_off_time: float = 300.0
    """Minimum seconds the charger stays off once stopped (evcc's ``guardduration`` = 5 min)."""
    phase_switch_delay: float = 300.0
    """Seconds a phase change must be justified before it happens; longer than the stop delay so
    that a passing cloud never switches phases."""
    stale_timeout: float = 60.0
    """Seconds after which the grid power counts as stale and charging stops."""
    battery_priority_soc: float | None = None
    """Home battery priority below this state of charge (%); None: no priority."""

    def validate(self) -> ControllerSettings:
        """Return ``self`` after checking every value.

        Raises:
            ValueError: voltage not positive, phases not 1 or 3, phase switching with one
                phase, currents not positive or minimum above maximum, step not positive, a
                delay or time negative, stale timeout not positive, priority SOC outside
                0-100 %.
        """
        if self.voltage <= 0:
            raise ValueError("voltage must be positive")
        if self.phases not in (1, 3):
            raise ValueError("phases must be 1 or 3")
        if self.phase_switching and self.phases != 3:
            raise ValueError("phase switching needs a three-phase charger")
        if self.min_current <= 0 or self.max_current < self.min_current:
            raise ValueError("need 0 < min_current <= max_current")
        if self.current_step <= 0:
            raise ValueError("current_step must be positive")
        delays = (
            self.start_delay,
            self.stop_delay,
            self.min_on_time,
            self.min_off_time,
            self.phase_switch_delay,
        )
        if min(delays) < 0:
            raise ValueError("delays and times must not be negative")
        if self.stale_timeout <= 0:
            raise ValueError("stale_timeout must be positive")
        if self.battery_priority_soc is not None and not 0 <= self.battery_priority_soc <= 100:
            raise ValueError("battery_priority_soc must be within 0-100 %")
        return self

    def min_power(self, phases: int) -> float:
        """Charging power (W) at the minimum current on ``phases`` phases."""
        return self.min_current * self.voltage * phases


SETTING_DEFAULTS: Final[dict[str, float]] = {
    **{
        setting.name: setting.default
        for setting in fields(ControllerSettings)
        if isinstance(setting.default, float)
    },
    "battery_priority_soc": DEFAULT_BATTERY_PRIORITY_SOC,
}
"""Default of every numeric setting by :class:`ControllerSettings` field name, which is also
its config-entry key (``const.CONF_*``): the flow's defaults and the entry's fallbacks."""


@dataclass(frozen=True, slots=True)
class Command:
    """What the charger should do: on/off, current (A, 0 when off) and phases (1 or 3)."""

    charging: bool
    current: float
    phases: int


class SurplusController:
    """Decides charger on/off, current and phases from grid power and time.

    All times are seconds on one monotonic-enough clock chosen by the caller (e.g. a UNIX
    timestamp). Feed :meth:`update_grid` (W, import positive) and :meth:`update_battery`,
    change :attr:`mode`, :attr:`enabled` or :attr:`settings`, then call :meth:`tick`.
    """

    def __init__(
        self,
        settings: ControllerSettings,
        *,
        now: float,
        mode: Mode = Mode.SOLAR,
        enabled: bool = True,
        charging: bool = False,
        current: float | None = None,
        phases: int | None = None,
    ) -> None:
        """Create the controller at time ``now``.

        ``charging``/``current``/``phases`` describe the charger as found (e.g. on at start-up):
        a charger found on counts as just switched on.

        Raises:
            ValueError: ``settings`` are invalid.
        """
        self._settings = settings.validate()
        self.mode = mode
        self.enabled = enabled
        start_phases = phases if phases in (1, 3) else settings.phases
        self._command = Command(
            charging=charging,
            current=self._clamp(current if current is not None else settings.min_current)
            if charging
            else 0.0,
            phases=start_phases if settings.phase_switching else settings.phases,
        )
        self._state = ChargeState.CHARGING if charging else ChargeState.IDLE
        self._status = Status.DISABLED
        self._switched_at: float | None = now if charging else None
        self._start_since: float | None = None
        self._stop_since: float | None = None
        self._phase_since: float | None = None
        self._grid: float | None = None
        self._car_at_reading = 0.0
        self._previous_car = 0.0
        self._command_at: float | None = None
        self._grid_at: float | None = None
        self._soc: float | None = None
        self._surplus: float | None = None
        self._last_tick = now
        self.energy_today_wh = 0.0
        """Energy (Wh) from solar delivered to the car since :meth:`reset_energy`."""
        self.toggles = 0
        """Charger switch-ons and switch-offs commanded so far."""

    # -- inputs ------------------------------------------------------------------------------
    @property
    def settings(self) -> ControllerSettings:
        """The present settings."""
        return self._settings

    @settings.setter
    def settings(self, settings: ControllerSettings) -> None:
        """Replace the settings (taken into account at the next tick).

        Raises:
            ValueError: ``settings`` are invalid.
        """
        self._settings = settings.validate()
        if not settings.phase_switching and self._command.phases != settings.phases:
            self._command = replace(self._command, phases=settings.phases)

    def update_grid(self, power: float | None, at: float) -> None:
        """Net grid power ``power`` (W, import positive; None = unavailable) measured at ``at``.

        The reading includes the car at the power of the command in effect when it was
        measured (a reading measured at or before the last command change counts with the
        previous command); the surplus stays that of this reading until the next one, so a
        new current never counts twice.
        """
        self._grid = power
        self._grid_at = at if power is not None else None
        changed = self._command_at is not None and at <= self._command_at
        self._car_at_reading = self._previous_car if changed else self._car_power()

    def update_battery(self, soc: float | None) -> None:
        """Home battery state of charge (%), None when unknown (no priority then)."""
        self._soc = soc

    def reset_energy(self) -> None:
        """Start a new day of :attr:`energy_today_wh`."""
        self.energy_today_wh = 0.0

    # -- outputs -----------------------------------------------------------------------------
    @property
    def command(self) -> Command:
        """The last command returned by :meth:`tick`."""
        return self._command

    @property
    def state(self) -> ChargeState:
        """State machine position after the last tick."""
        return self._state

    @property
    def status(self) -> Status:
        """State with its reason after the last tick."""
        return self._status

    @property
    def surplus(self) -> float | None:
        """Power (W) available to the car at the last tick; None while the data is stale."""
        return self._surplus

    @property
    def grid_power(self) -> float | None:
        """Last net grid power (W, import positive), None when unavailable."""
        return self._grid

    def is_stale(self, now: float) -> bool:
        """Whether the grid power is unavailable or at least ``stale_timeout`` old at ``now``."""
        return self._grid_at is None or now - self._grid_at >= self._settings.stale_timeout

    def next_deadline(self) -> float | None:
        """Earliest time at which a tick may change the command without any new input.

        That is the end of a running delay, minimum on/off time or the moment the grid power
        turns stale; None when nothing is pending.
        """
        s = self._settings
        candidates: list[float] = []
        if self._grid_at is not None and self._status != Status.STALE_DATA:
            candidates.append(self._grid_at + s.stale_timeout)
        if self._start_since is not None:
            candidates.append(self._start_since + s.start_delay)
        if self._stop_since is not None:
            candidates.append(self._stop_since + s.stop_delay)
        if self._phase_since is not None:
            candidates.append(self._phase_since + s.phase_switch_delay)
        if self._switched_at is not None:
            if self._status == Status.MIN_OFF_TIME:
                candidates.append(self._switched_at + s.min_off_time)
            elif self._status == Status.MIN_ON_TIME:
                candidates.append(self._switched_at + s.min_on_time)
        future = [t for t in candidates if t > self._last_tick]
        return min(future) if future else None

    # -- decision ----------------------------------------------------------------------------
    def tick(self, now: float) -> Command:
        """Account the energy since the last tick, then decide the command at ``now``."""
        self._account(now)
        self._last_tick = now
        command = self._decide(now)
        if command.charging != self._command.charging:
            self._switched_at = now
            self.toggles += 1
        if command != self._command:
            self._previous_car = self._car_power()
            self._command_at = now
        self._command = command
        return command

    def _account(self, now: float) -> None:
        """Add the solar energy the car took since the last tick (grid import counts first)."""
        dt = now - self._last_tick
        command = self._command
        if dt <= 0 or not command.charging or self._grid is None or self.is_stale(now):
            return
        solar = max(0.0, self._car_power() - max(0.0, self._grid))
        self.energy_today_wh += solar * dt / 3600

    def _clamp(self, current: float) -> float:
        s = self._settings
        stepped = math.floor(current / s.current_step + 1e-9) * s.current_step
        return min(max(stepped, s.min_current), s.max_current)

    def _set(self, state: ChargeState, status: Status) -> None:
        self._state = state
        self._status = status

    def _off(self, state: ChargeState, status: Status) -> Command:
        self._set(state, status)
        return Command(charging=False, current=0.0, phases=self._command.phases)

    def _reset_timers(self) -> None:
        self._start_since = None
        self._stop_since = None
        self._phase_since = None

    def _decide(self, now: float) -> Command:
        s = self._settings
        if not self.enabled or self.mode == Mode.OFF:
            self._reset_timers()
            self._surplus = None if self.is_stale(now) else self._available()
            return self._off(ChargeState.IDLE, Status.DISABLED)
        if self.is_stale(now):
            self._reset_timers()
            self._surplus = None
            return self._off(ChargeState.IDLE, Status.STALE_DATA)
        surplus = self._available()
        self._surplus = surplus
        if self.mode == Mode.FAST:
            self._reset_timers()
            self._set(ChargeState.CHARGING, Status.CHARGING_FAST)
            return Command(charging=True, current=s.max_current, phases=s.phases)
        held = self._battery_holds()
        usable = 0.0 if held else surplus
        idle_status = Status.BATTERY_PRIORITY if held else Status.NO_SURPLUS
        if not self._command.charging:
            return self._decide_start(now, usable, idle_status)
        return self._decide_running(now, usable, idle_status)

    def _car_power(self) -> float:
        """Power (W) the car takes at the present command."""
        command = self._command
        if not command.charging:
            return 0.0
        return command.current * self._settings.voltage * command.phases

    def _available(self) -> float:
        """Surplus (W) for the car: export plus what the car took at the last reading."""
        assert self._grid is not None
        return self._car_at_reading - self._grid

    def _battery_holds(self) -> bool:
        priority = self._settings.battery_priority_soc
        return priority is not None and self._soc is not None and self._soc < priority

    def _start_phases(self, usable: float) -> int:
        s = self._settings
        if not s.phase_switching:
            return s.phases
        return 3 if usable >= s.min_power(3) + s.start_threshold else 1

    def _decide_start(self, now: float, usable: float, idle_status: Status) -> Command:
        s = self._settings
        self._stop_since = None
        self._phase_since = None
        phases = self._start_phases(usable)
        minimum = self.mode == Mode.MIN_SOLAR
        enough = usable >= s.min_power(phases) + s.start_threshold
        if not minimum and not enough:
            self._start_since = None
            return self._off(ChargeState.IDLE, idle_status)
        if minimum:
            self._start_since = None  # min_solar charges at once
        else:
            if self._start_since is None:
                self._start_since = now
            if now - self._start_since < s.start_delay:
                return self._off(ChargeState.WAITING_TO_START, Status.WAITING_TO_START)
        if self._switched_at is not None and now - self._switched_at < s.min_off_time:
            return self._off(ChargeState.WAITING_TO_START, Status.MIN_OFF_TIME)
        self._start_since = None
        current = self._clamp(usable / (s.voltage * phases))
        status = Status.CHARGING_SURPLUS if enough else Status.CHARGING_MINIMUM
        self._set(ChargeState.CHARGING, status)
        return Command(charging=True, current=current, phases=phases)

    def _decide_running(self, now: float, usable: float, idle_status: Status) -> Command:
        s = self._settings
        self._start_since = None
        phases = self._next_phases(now, usable)
        target = usable / (s.voltage * phases)
        # With phase switching, too little for three phases is a reason to switch down, not
        # to stop: only too little for one phase is a shortfall.
        fewest = 1 if s.phase_switching else phases
        shortfall = usable < s.min_power(fewest) - s.stop_threshold
        if self.mode == Mode.MIN_SOLAR or not shortfall:
            self._stop_since = None
            status = (
                Status.CHARGING_SURPLUS
                if usable >= s.min_power(phases) - s.stop_threshold
                else Status.CHARGING_MINIMUM
            )
            self._set(ChargeState.CHARGING, status)
            return Command(charging=True, current=self._clamp(target), phases=phases)
        if self._stop_since is None:
            self._stop_since = now
        keep_on = Command(charging=True, current=s.min_current, phases=phases)
        if now - self._stop_since < s.stop_delay:
            self._set(ChargeState.WAITING_TO_STOP, Status.WAITING_TO_STOP)
            return keep_on
        assert self._switched_at is not None
        if now - self._switched_at < s.min_on_time:
            self._set(ChargeState.WAITING_TO_STOP, Status.MIN_ON_TIME)
            return keep_on
        self._reset_timers()
        return self._off(ChargeState.IDLE, idle_status)

    def _next_phases(self, now: float, usable: float) -> int:
        """Phases while charging, switching after ``phase_switch_delay`` when justified."""
        s = self._settings
        phases = self._command.phases
        if not s.phase_switching:
            return s.phases
        if phases == 1:
            wanted = usable >= s.min_power(3) + s.start_threshold
        else:
            wanted = usable < s.min_power(3) - s.stop_threshold
        if not wanted:
            self._phase_since = None
            return phases
        if self._phase_since is None:
            self._phase_since = now
        if now - self._phase_since < s.phase_switch_delay:
            return phases
        self._phase_since = None
        return 3 if phases == 1 else 1
