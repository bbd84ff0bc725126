"""Inverter control through the local listener: the glue-side safety rules.

One :class:`InverterControl` per Growatt local entry (``coordinator.control``). It reads
each inverter's controllable holding registers (:mod:`.protocol.holding`) once its family
is known, keeps their read-back values (the only values the entities ever show), and
writes a register only when every rule passes, in this order, before a byte is sent:

1. the register is on the family's allow-list (:data:`.protocol.holding.FAMILY_CONTROLS`);
2. the raw value is within the register document's range;
3. commands are available for the inverter (server mode, or proxy mode with the
   *Allow local commands* option, and its datalogger connected);
4. the same register was not written in the last :data:`WRITE_INTERVAL` (Home Assistant
   time, so a test drives it with ``freezer``).

Every write is logged at info level with the old and new value; a read-back that differs
from what was written raises a repair issue (``readback_mismatch``). Command failures
reach the caller as translated :class:`HomeAssistantError` s; the old state stays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Final, Protocol

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from ..common.log import LogOnce
from ..common.redact import redact_serial
from ..const import DOMAIN
from .protocol.command_queue import (
    CommandError,
    CommandRejected,
    CommandTimeout,
    CommandUnavailable,
)
from .protocol.holding import (
    Control,
    HoldingRegister,
    family_controls,
    find_control,
    read_allowed,
    read_blocks,
)
from .protocol.registers import InverterFamily

if TYPE_CHECKING:
    from .coordinator import GrowattLocalCoordinator

_LOGGER = logging.getLogger(__name__)

WRITE_INTERVAL: Final = timedelta(seconds=10)
"""Least time between two writes of one register of one inverter."""
READ_DELAY: Final = 30.0
"""Seconds from the record that makes an inverter known to the first read of its registers:
a datalogger that has just connected is busy with the server's clock set and configuration
queries and may replay its buffered records."""
READ_RETRY: Final = timedelta(minutes=15)
"""After a failed read of every control register, the next record retries after this."""


class ListenerCommands(Protocol):
    """The command methods of :class:`~.protocol.server.GrowattListener` used here."""

    async def async_read_registers(self, inverter: str, first: int, last: int) -> dict[int, int]:
        """Holding registers ``first``..``last`` (raw u16) of ``inverter``.

        Raises:
            CommandError: timeout, refusal, or commands not available.
        """

    async def async_write_register(self, inverter: str, register: int, value: int) -> int:
        """Write one holding register (0x06); returns the read-back raw value.

        Raises:
            CommandError: timeout, refusal, or commands not available.
        """

    def commands_available(self, inverter: str) -> bool:
        """Whether a command can be sent to ``inverter`` now."""


@dataclass(slots=True)
class InverterRegisters:
    """What is known of one inverter's control registers."""

    values: dict[int, int] = field(default_factory=dict)
    """Raw read-back values by register; a register is present once it answered a read."""
    reading: bool = False
    read_ok: bool = False
    failed_at: datetime | None = None
    last_write: dict[int, datetime] = field(default_factory=dict)
    read_failures: LogOnce = field(default_factory=lambda: LogOnce(_LOGGER), repr=False)


def _error(key: str, **placeholders: object) -> HomeAssistantError:
    """A translated command error (``exceptions.<key>`` in the translations)."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={k: str(v) for k, v in placeholders.items()},
    )


def _refusal(key: str, **placeholders: object) -> ServiceValidationError:
    """A translated refusal of the caller's input, raised before anything is sent."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={k: str(v) for k, v in placeholders.items()},
    )


COMMAND_ERRORS: Final[Sequence[tuple[type[CommandError], str]]] = (
    (CommandTimeout, "command_timeout"),
    (CommandRejected, "command_rejected"),
    (CommandUnavailable, "commands_unavailable"),
    (CommandError, "command_failed"),
)
"""Translation key of each command failure, most specific first."""


def command_error(err: CommandError, serial: str) -> HomeAssistantError:
    """The translated :class:`HomeAssistantError` of a failed command."""
    key = next(key for kind, key in COMMAND_ERRORS if isinstance(err, kind))
    return _error(key, inverter=serial, error=err)


class InverterControl:
    """Read-back values and safe writes of the control registers of one entry's inverters."""

    def __init__(self, hass: HomeAssistant, coordinator: GrowattLocalCoordinator) -> None:
        """Attach to ``coordinator``; commands go through its listener."""
        self.hass = hass
        self.coordinator = coordinator
        self.commands: ListenerCommands = coordinator.listener
        self.inverters: dict[str, InverterRegisters] = {}
        self._timers: dict[str, CALLBACK_TYPE] = {}
        coordinator.config_entry.async_on_unload(self._cancel_timers)

    @callback
    def _cancel_timers(self) -> None:
        """Cancel the reads still waiting for :data:`READ_DELAY` (the entry unloads)."""
        for cancel in self._timers.values():
            cancel()
        self._timers.clear()

    # -- state ------------------------------------------------------------------------
    def family(self, serial: str) -> InverterFamily | None:
        """The inverter's family (None until a record or the option decides it)."""
        inverter = self.coordinator.data.inverters.get(serial)
        return inverter.family if inverter is not None else None

    def value(self, serial: str, register: int) -> int | None:
        """The last read-back raw value of ``register``; None if it never answered."""
        state = self.inverters.get(serial)
        return state.values.get(register) if state is not None else None

    def registers(self, serial: str) -> dict[int, int]:
        """Every read-back raw value of the inverter, by register (diagnostics)."""
        state = self.inverters.get(serial)
        return dict(state.values) if state is not None else {}

    def available(self, serial: str) -> bool:
        """Whether the inverter's control entities can be used now."""
        return self.commands.commands_available(serial)

    def items(self, control: Control) -> list[tuple[str, int]]:
        """``(serial, register)`` of the present registers shown as ``control``."""
        return [
            (serial, reg.register)
            for serial, state in self.inverters.items()
            for reg in family_controls(self.family(serial))
            if reg.control is control and reg.register in state.values
        ]

    def register(self, serial: str, register: int) -> HoldingRegister | None:
        """The allow-listed register ``register`` of the inverter's family."""
        return find_control(self.family(serial), register)

    # -- reading ----------------------------------------------------------------------
    @callback
    def inverter_seen(self, serial: str) -> None:
        """A record of ``serial`` arrived: read its registers :data:`READ_DELAY` s later.

        Only once per connection (and again :data:`READ_RETRY` after a read that failed).
        """
        if not family_controls(self.family(serial)) or not self.available(serial):
            return
        state = self.inverters.setdefault(serial, InverterRegisters())
        if state.reading or state.read_ok:
            return
        if state.failed_at is not None and dt_util.utcnow() - state.failed_at < READ_RETRY:
            return
        state.reading = True

        @callback
        def _read(_now: datetime) -> None:
            self._timers.pop(serial, None)
            if not self.available(serial):  # gone meanwhile: its next connection reads
                state.reading = False
                return
            self.coordinator.config_entry.async_create_background_task(
                self.hass, self.async_refresh(serial), f"pv_monitor read controls {serial}"
            )

        self._timers[serial] = async_call_later(self.hass, READ_DELAY, _read)

    @callback
    def datalogger_connected(self, inverters: set[str]) -> None:
        """A datalogger (re)connected: read its inverters' registers at their next record.

        Settings may have changed meanwhile (on the inverter's display, in the app).
        """
        for serial in inverters:
            if (state := self.inverters.get(serial)) is not None:
                state.read_ok = False
                state.failed_at = None

    async def async_refresh(self, serial: str) -> bool:
        """Read every control register of the inverter's family; True if any answered.

        A block that fails (timeout, refusal) leaves the values it had; its registers
        only gain entities once a read of them succeeds. New registers add entities.
        """
        state = self.inverters.setdefault(serial, InverterRegisters())
        registers = family_controls(self.family(serial))
        wanted = {reg.register for reg in registers}
        before = dict(state.values)
        answered = False
        try:
            for first, last in read_blocks(registers):
                try:
                    values = await self.commands.async_read_registers(serial, first, last)
                except CommandError as err:
                    state.read_failures.problem(
                        "Inverter %s: reading holding registers %d-%d failed (%s); its "
                        "controls appear once a read succeeds",
                        redact_serial(serial),
                        first,
                        last,
                        err,
                    )
                    continue
                answered = True
                state.values.update({r: v for r, v in values.items() if r in wanted})
        finally:
            state.reading = False
        state.read_ok = answered
        state.failed_at = None if answered else dt_util.utcnow()
        if answered:
            state.read_failures.recovered(
                "Inverter %s: holding registers read", redact_serial(serial)
            )
        self._publish(serial, before)
        return answered

    @callback
    def _publish(self, serial: str, before: Mapping[int, int]) -> None:
        """Wake the control entities whose read-back differs from ``before``.

        Registers that answered for the first time get their entities (the platforms add
        them). A read that changed nothing, or failed, wakes no entity; the inverter's
        measurement entities are never woken here (their values come from records).
        """
        values = self.inverters[serial].values
        if set(values) - set(before):
            self.coordinator.async_new_control_registers()
        changed = {
            reg.key
            for number, value in values.items()
            if before.get(number) != value and (reg := self.register(serial, number)) is not None
        }
        if changed:
            self.coordinator.async_update_values(serial, changed)

    async def async_read(self, serial: str, first: int, last: int) -> dict[int, int]:
        """Raw holding registers ``first``..``last`` for the ``read_registers`` action.

        Raises:
            ServiceValidationError: the range is outside the family's documented groups.
            HomeAssistantError: the command failed (timeout, refusal, not available).
        """
        family = self.family(serial)
        if not read_allowed(family, first, last):
            raise _refusal("read_not_allowed", first=first, last=last, family=family or "-")
        if not self.available(serial):
            raise _error("commands_unavailable", inverter=serial, error="-")
        try:
            return await self.commands.async_read_registers(serial, first, last)
        except CommandError as err:
            raise command_error(err, serial) from err

    # -- writing ----------------------------------------------------------------------
    def check_write(self, serial: str, register: int, raw: int) -> HoldingRegister:
        """The allow-listed register, if ``raw`` may be written to it now.

        Raises:
            ServiceValidationError: not on the family's allow-list, out of its range, or
                written less than :data:`WRITE_INTERVAL` ago.
            HomeAssistantError: commands are not available for the inverter.
        """
        family = self.family(serial)
        reg = find_control(family, register)
        if reg is None:
            raise _refusal("register_not_allowed", register=register, family=family or "-")
        if not reg.allows(raw):
            raise _refusal(
                "value_out_of_range",
                register=register,
                value=raw,
                minimum=reg.minimum,
                maximum=reg.maximum,
            )
        if not self.available(serial):
            raise _error("commands_unavailable", inverter=serial, error="-")
        state = self.inverters.setdefault(serial, InverterRegisters())
        last = state.last_write.get(register)
        now = dt_util.utcnow()
        if last is not None and now - last < WRITE_INTERVAL:
            wait = (WRITE_INTERVAL - (now - last)).total_seconds()
            raise _refusal("write_rate_limited", register=register, seconds=f"{wait:.0f}")
        return reg

    async def async_write(self, serial: str, register: int, raw: int) -> int:
        """Write ``raw`` to ``register`` of inverter ``serial``; returns the read-back.

        Checks every rule first (:meth:`check_write`), logs the change at info level,
        raises the ``readback_mismatch`` repair issue when the read-back differs, then
        reads the family's registers again (a failure of that read is only logged).

        Raises:
            ServiceValidationError: a rule refused the write (nothing was sent).
            HomeAssistantError: the command failed; the old value stays.
        """
        reg = self.check_write(serial, register, raw)
        state = self.inverters.setdefault(serial, InverterRegisters())
        state.last_write[register] = dt_util.utcnow()
        before = dict(state.values)
        old = before.get(register)
        try:
            readback = await self.commands.async_write_register(serial, register, raw)
        except CommandError as err:
            _LOGGER.warning(
                "Inverter %s: writing %s (holding %d) = %d failed: %s",
                redact_serial(serial),
                reg.key,
                register,
                raw,
                err,
            )
            raise command_error(err, serial) from err
        _LOGGER.info(
            "Inverter %s: %s (holding %d) changed from %s to %d (read back %d)",
            redact_serial(serial),
            reg.key,
            register,
            old,
            raw,
            readback,
        )
        state.values[register] = readback
        self._check_readback(serial, reg, raw, readback)
        self._publish(serial, before)
        await self.async_refresh(serial)
        return readback

    def _check_readback(self, serial: str, reg: HoldingRegister, raw: int, readback: int) -> None:
        """Raise (or clear) the repair issue of a read-back that differs from the write."""
        entry_id = self.coordinator.config_entry.entry_id
        issue_id = f"readback_mismatch_{serial}_{reg.register}_{entry_id}"
        if readback == raw:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        _LOGGER.warning(
            "Inverter %s: %s (holding %d) reads back %d after writing %d",
            redact_serial(serial),
            reg.key,
            reg.register,
            readback,
            raw,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="readback_mismatch",
            translation_placeholders={
                "inverter": serial,
                "register": str(reg.register),
                "written": str(raw),
                "readback": str(readback),
            },
        )
