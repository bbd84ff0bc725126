"""Record -> family-resolved inverter reading: the one place a data record becomes values.

:func:`decode_record` takes a parsed data (0x04) or buffered (0x50) record and returns an
:class:`InverterReading`: its register map family (given, or detected from the record),
every value in SI / Home Assistant units, and the strings and phases the inverter does not
have left out. The glue merges the reading into its state; nothing goes back and forth.

Speed: a datalogger sends 125-250 registers per record, the maps need about 80 of them.
For every (family, group layout) seen, a *decode plan* is compiled once: one
``struct.Struct`` that unpacks exactly the needed registers from the payload (16- and
32-bit, signed where the document says so, skipping the rest as pad bytes), the divisors
that scale them, and their raw plausibility limits, generated into one straight-line
function per set of absent groups (:func:`_generate`). A record is then one ``unpack_from``
and one call of that function; only a record with an implausible value takes the general
path (:func:`.registers.decode_values`), which drops the bad register
block exactly as before. Both paths give identical values (tested on every capture).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
import math
from operator import itemgetter
import struct
from typing import Final

from .records import PayloadRegisters, Record
from .registers import (
    FAMILY_MAPS,
    STATUS_NAMES,
    STATUS_REGISTER,
    TL_XH_BATTERY_MAP,
    InverterFamily,
    RegisterSpec,
    add_code_texts,
    decode_values,
    family_of_ranges,
    limit_of,
)

type Value = float | int | str


@dataclass(slots=True)
class InverterReading:
    """What one data or buffered record says about its inverter.

    Attributes:
        family: the register map the values were decoded with; ``None`` when the record
            cannot be classified (a 0-134 record that reads neither as TL nor as SPF, such
            as a night record whose blocks are all implausible): then ``values`` is empty.
        values: ``{key: value}`` as :func:`.registers.decode_values` documents (W, VA, var,
            V, A, Hz, kWh, kvarh, degC, %, h; ``status`` text; codes ``int``), without the
            groups of absent strings and phases.
        detected: whether ``family`` was detected from this record (no override given).
    """

    family: InverterFamily | None
    values: dict[str, Value]
    detected: bool


OPTIONAL_GROUPS: Final[tuple[tuple[str, str], ...]] = (
    ("pv3_", "pv3_voltage"),
    ("pv4_", "pv4_voltage"),
    ("ac_l2_", "ac_l2_voltage"),
    ("ac_l3_", "ac_l3_voltage"),
    ("ac_rs_", "ac_l2_voltage"),
    ("ac_st_", "ac_l2_voltage"),
    ("ac_tr_", "ac_l3_voltage"),
)
"""Value groups that a register map always carries but many inverters do not have (third
and fourth PV string, second and third phase): ``(key prefix, key that proves it)``."""


def drop_absent_groups(values: dict[str, Value], known: Container[str]) -> dict[str, Value]:
    """Leave out the values of strings and phases the inverter does not have (in place).

    A group is absent while its proving voltage reads 0 and ``known`` (the keys the
    inverter has shown before) does not hold it; once seen it stays (a string at night
    still reads 0 V). Returns ``values``.
    """
    for proof, keys in _GROUP_KEYS:
        if proof in values and not values[proof] and proof not in known:
            for key in keys:
                values.pop(key, None)
    return values


def _group_keys() -> tuple[tuple[str, tuple[str, ...]], ...]:
    every = {spec.key for specs in FAMILY_MAPS.values() for spec in specs}
    by_proof: dict[str, list[str]] = {}
    for prefix, proof in OPTIONAL_GROUPS:
        by_proof.setdefault(proof, []).extend(k for k in sorted(every) if k.startswith(prefix))
    # The proving key goes last: the other groups of the same proof still see it.
    return tuple(
        (proof, tuple(sorted(keys, key=lambda k: k == proof))) for proof, keys in by_proof.items()
    )


_GROUP_KEYS: Final = _group_keys()
"""``(proving key, keys of its groups)``, from :data:`OPTIONAL_GROUPS` and the maps."""


# ---------------------------------------------------------------------------------------
# Family


SPF_MIN_BATTERY_VOLTAGE: Final = 5.0
"""Below this an SPF reading of register 17 is no battery (every SPF runs a 12-48 V bank)."""

_TL_STATES: Final = frozenset(STATUS_NAMES[InverterFamily.TL])


def classify_tl_range(registers: Mapping[int, int]) -> InverterFamily | None:
    """SPF, TL or undecidable (``None``) for a record of the shared 0-134 ranges.

    Both families use the same register ranges, so the values decide. SPF: the SPF map
    gives a known system state and a battery voltage of at least
    :data:`SPF_MIN_BATTERY_VOLTAGE`, while register 0 holds no TL state (0, 1, 3). TL:
    register 0 holds a TL state and the record does not read as SPF. On the captures this
    recognises the grott SPF records (states 2 and 12, 53 V battery) and every TL record;
    an SPF night record whose blocks are all implausible is undecidable.
    """
    if looks_like_spf(registers):
        return InverterFamily.SPF
    status = registers.get(0)
    if status is not None and status & 0xFFFF in _TL_STATES:
        tl = decode_values(registers, InverterFamily.TL)
        if tl.get("status", "unknown") != "unknown":
            return InverterFamily.TL
    return None


def looks_like_spf(registers: Mapping[int, int]) -> bool:
    """Whether a 0-134 record reads as an SPF off-grid inverter's (see :func:`classify_tl_range`)."""
    spf = decode_values(registers, InverterFamily.SPF)
    battery = spf.get("battery_voltage")
    if spf.get("status", "unknown") == "unknown" or not isinstance(battery, float):
        return False
    if battery < SPF_MIN_BATTERY_VOLTAGE:
        return False
    return decode_values(registers, InverterFamily.TL).get("status", "unknown") == "unknown"


def detect_record_family(record: Record) -> InverterFamily | None:
    """The family of a data record: by its register ranges, SPF and TL told apart by values."""
    family = family_of_ranges(record.groups)
    if family is not InverterFamily.TL:
        return family
    return classify_tl_range(record.registers)


# ---------------------------------------------------------------------------------------
# Decode plans


type _Decode = Callable[[tuple[int, ...]], dict[str, Value] | None]
"""A view's generated decoder: the raw fields -> the values, or None if one is implausible."""


@dataclass(slots=True)
class _Plan:
    """How to read one family's values from one group layout (see the module docstring)."""

    offset: int
    """Payload byte offset of the first unpacked field."""
    unpacker: struct.Struct
    raw_limits: tuple[float, ...]
    """Largest plausible absolute raw value of each field (``inf``: codes, status, probes)."""
    signed: tuple[bool, ...]
    """Whether each field is signed (then it must also stay above its negated limit)."""
    values: tuple[tuple[int, str, float], ...]
    """``(field index, key, divisor)`` of every value; divisor 1 keeps the raw ``int``."""
    proofs: tuple[tuple[int, str, tuple[str, ...]], ...]
    """``(field index, proving key, keys of its groups)`` of the optional groups present."""
    status: int | None
    """Field index of the status register."""
    status_mask: int
    status_names: dict[int, str]
    probes: tuple[int, ...]
    """Field indexes of the registers that announce a TL-XH battery (3118, 3169)."""
    probe: itemgetter[tuple[int, ...]]
    """Getter of the :attr:`probes` (read only when there are any)."""
    views: dict[int, _Decode]
    """Generated decoder by the bit mask of absent :attr:`proofs` (see :meth:`view`)."""

    def view(self, mask: int) -> _Decode:
        """The decoder publishing the values without the groups of the proofs in ``mask``."""
        view = self.views.get(mask)
        if view is None:
            absent = {
                k for bit, (_, _, keys) in enumerate(self.proofs) if mask >> bit & 1 for k in keys
            }
            view = _generate(self, [v for v in self.values if v[1] not in absent])
            self.views[mask] = view
        return view


def _generate(plan: _Plan, values: list[tuple[int, str, float]]) -> _Decode:
    """Compile the decoder of ``values`` (a subset of ``plan.values``) into a function.

    The function unpacks the raw fields into locals, compares each against its limit and
    builds the values in one dict display: straight-line bytecode with constants, about
    twice as fast as the same work through ``map``/``zip`` over per-field tuples (the
    technique of :mod:`dataclasses` and :func:`collections.namedtuple`). The source holds
    only numbers and :func:`repr` of the register maps' own keys, never anything received.
    A raw value is an ``int``, so ``raw > limit`` is ``raw > floor(limit)``: the limits are
    written as integers. Scaled values come first, then the raw ``int`` ones, as the general
    path orders them; a scale that is not a power of ten (hours) is rounded to 3 decimals.
    """
    checks = []
    for index, limit in enumerate(plan.raw_limits):
        if limit != _INF:
            checks.append(f"v{index} > {math.floor(limit)}")
            if plan.signed[index]:
                checks.append(f"v{index} < {math.ceil(-limit)}")
    items = []
    for index, key, divisor in sorted(values, key=lambda v: v[2] == 1.0):
        value = f"v{index}" if divisor == 1.0 else f"v{index} / {divisor!r}"
        if divisor not in (1.0, 10.0, 100.0, 1000.0):
            value = f"round({value}, 3)"
        items.append(f"{key!r}: {value}")
    fields = "".join(f"v{index}, " for index in range(len(plan.raw_limits)))
    source = (
        f"def decode(raws):\n    {fields}= raws\n"
        f"    if {' or '.join(checks) or 'False'}:\n        return None\n"
        f"    return {{{', '.join(items)}}}\n"
    )
    namespace: dict[str, _Decode] = {}
    exec(compile(source, "<growatt decode plan>", "exec"), {"round": round}, namespace)
    return namespace["decode"]


_Layout = tuple[tuple[int, int, int], ...]
_Field = tuple[int, RegisterSpec | int]
"""``(payload offset, spec)``, or ``(payload offset, register)`` of a status or probe."""

_BATTERY_PROBES: Final = (3118, 3169)
"""TL-XH: BDC connect state and battery voltage; either non-zero means a battery."""
_CODES: Final = {(1, False): "H", (1, True): "h", (2, False): "I", (2, True): "i"}
"""``struct`` codes of 16/32-bit unsigned/signed big-endian values."""
_MAX_PLANS: Final = 64
_plans: dict[tuple[InverterFamily, bool, _Layout], _Plan | None] = {}
_INF: Final = float("inf")


def _locate(layout: _Layout, register: int, words: int) -> int | None:
    """Byte offset of ``register`` (and its low word) in the payload, if one group holds it."""
    for start, end, offset in layout:
        if start <= register and register + words - 1 <= end:
            return offset + 2 * (register - start)
    return None


def _format(fields: list[_Field]) -> str | None:
    """``struct`` format reading ``fields`` (sorted by offset); None if two overlap."""
    fmt, pos = [">"], fields[0][0]
    for at, what in fields:
        if at < pos:
            return None
        if at > pos:
            fmt.append(f"{at - pos}x")
        words, signed = (1, False) if isinstance(what, int) else (what.words, what.signed)
        fmt.append(_CODES[words, signed])
        pos = at + 2 * words
    return "".join(fmt)


def _compile_plan(family: InverterFamily, battery: bool, layout: _Layout) -> _Plan | None:
    """The decode plan of the family's map (or its TL-XH battery map) for ``layout``.

    None when no value is present or the layout needs the general path (a 32-bit value
    split over two groups, overlapping fields).
    """
    specs = TL_XH_BATTERY_MAP if battery else FAMILY_MAPS[family]
    fields: list[_Field] = []
    for spec in specs:
        at = _locate(layout, spec.register, spec.words)
        if at is not None:
            fields.append((at, spec))
        elif _locate(layout, spec.register, 1) is not None:
            return None  # a 32-bit value across a group boundary
    if not fields:
        return None
    extra = () if battery else (STATUS_REGISTER[family][0], *_probes(family))
    for register in extra:
        at = _locate(layout, register, 1)
        if at is not None:
            fields.append((at, register))
    fields.sort(key=lambda item: item[0])
    fmt = _format(fields)
    return None if fmt is None else _assemble(struct.Struct(fmt), fields, family)


def _probes(family: InverterFamily) -> tuple[int, ...]:
    return _BATTERY_PROBES if family is InverterFamily.TL_X else ()


def _assemble(unpacker: struct.Struct, fields: list[_Field], family: InverterFamily) -> _Plan:
    values: list[tuple[int, str, float]] = []
    limits: list[float] = []
    signed: list[bool] = []
    status, probes = None, []
    for index, (_, what) in enumerate(fields):
        if isinstance(what, int):
            if what == STATUS_REGISTER[family][0]:
                status = index
            else:
                probes.append(index)
            limits.append(_INF)
            signed.append(False)
            continue
        limit = limit_of(what, family)
        divisor = round(1 / what.scale, 6)
        values.append((index, what.key, divisor))
        limits.append(_INF if limit is None else limit * divisor)
        signed.append(what.signed)
    index_of = {key: index for index, key, _ in values}
    return _Plan(
        offset=fields[0][0],
        unpacker=unpacker,
        raw_limits=tuple(limits),
        signed=tuple(signed),
        values=tuple(values),
        proofs=tuple(
            (index_of[proof], proof, keys) for proof, keys in _GROUP_KEYS if proof in index_of
        ),
        status=status,
        status_mask=STATUS_REGISTER[family][1],
        status_names=STATUS_NAMES[family],
        probes=tuple(probes),
        # The first probe twice: a tuple even for one probe, and any() is unchanged.
        probe=itemgetter(*probes, probes[0]) if probes else itemgetter(0, 0),
        views={},
    )


def _plan(family: InverterFamily, battery: bool, layout: _Layout) -> _Plan | None:
    key = (family, battery, layout)
    try:
        return _plans[key]
    except KeyError:
        pass
    plan = _compile_plan(family, battery, layout)
    if len(_plans) >= _MAX_PLANS:  # hostile layouts must not grow the cache without bound
        _plans.clear()
    _plans[key] = plan
    return plan


def _run(
    plan: _Plan, payload: bytes, known: Container[str]
) -> tuple[tuple[int, ...], dict[str, Value]] | None:
    """The raw fields and the plan's values; None if a value is implausible.

    Dividing by 10 / 100 gives the same float as rounding ``raw * 0.1`` to 3 decimals
    (both are the double nearest to the decimal value), without a Python call per value.
    Groups whose proving voltage reads 0 and whose key ``known`` lacks are left out.
    """
    raws: tuple[int, ...] = plan.unpacker.unpack_from(payload, plan.offset)
    mask = 0
    for bit, (index, proof, _) in enumerate(plan.proofs):
        if not raws[index] and proof not in known:
            mask |= 1 << bit
    out = plan.view(mask)(raws)
    return None if out is None else (raws, out)


def _fast_values(
    family: InverterFamily, registers: PayloadRegisters, known: Container[str]
) -> dict[str, Value] | None:
    """The family's values by its decode plan; None when the general path must decide."""
    layout = registers.layout
    plan = _plans.get((family, False, layout)) or _plan(family, False, layout)
    if plan is None:
        return None
    run = _run(plan, registers.payload, known)
    if run is None:
        return None
    raws, out = run
    if plan.status is not None:
        code = raws[plan.status]
        out["status"] = plan.status_names.get(code & plan.status_mask, "unknown")
        out["status_code"] = code
    if plan.probes and any(plan.probe(raws)):
        battery = _plan(family, True, layout)
        # No battery plan: a battery value split over two groups (or none present): the
        # general path decides, as it does for an implausible battery value.
        battery_run = None if battery is None else _run(battery, registers.payload, known)
        if battery_run is None:
            return None
        out.update(battery_run[1])
    add_code_texts(family, out)
    return out


def decode_family_values(
    registers: Mapping[int, int], family: InverterFamily, known: Container[str] = ()
) -> dict[str, Value]:
    """Values of ``registers`` read with ``family``'s map, absent groups left out.

    The same as ``drop_absent_groups(decode_values(registers, family), known)``, by a decode
    plan where the registers allow it (a parsed record whose values are all plausible).
    """
    if isinstance(registers, PayloadRegisters):
        values = _fast_values(family, registers, known)
        if values is not None:
            return values
    return drop_absent_groups(decode_values(registers, family), known)


def decode_record(
    record: Record, family_override: InverterFamily | None, known: Container[str] = ()
) -> InverterReading:
    """Decode a data (0x04) or buffered (0x50) record into a family-resolved reading.

    Args:
        record: a parsed record (announces carry holding registers: use
            :func:`.registers.decode_device_info` for those).
        family_override: the inverter's family if already known (the user's option, or the
            family remembered from earlier records); None detects it from this record
            (:func:`detect_record_family`).
        known: value keys the inverter has shown before (keeps its idle strings/phases).

    Returns:
        The reading; never raises for any register contents.
    """
    family = family_override
    if family is None:
        family = detect_record_family(record)
        if family is None:
            return InverterReading(None, {}, detected=True)
    registers = record.registers
    values = (
        _fast_values(family, registers, known) if isinstance(registers, PayloadRegisters) else None
    )
    if values is None:
        values = drop_absent_groups(decode_values(registers, family), known)
    return InverterReading(family, values, family_override is None)
