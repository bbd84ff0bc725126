"""Pure core: mapping of real telegrams, drop counting, encrypted framing, publisher."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dlms_cosem.security import SecurityControlField, encrypt
from dsmr_parser import telegram_specifications
from dsmr_parser.parsers import TelegramParser
import pytest
from syrupy.assertion import SnapshotAssertion

from custom_components.pv_monitor.dsmr.p1.mapping import (
    Medium,
    MeterReading,
    decode_identifier,
    reading_from_telegram,
)
from custom_components.pv_monitor.dsmr.p1.publish import StatePublisher
from custom_components.pv_monitor.dsmr.p1.reader import (
    ConnectionType,
    DropReason,
    EncryptedFrameBuffer,
    P1Protocol,
    P1Settings,
)
from custom_components.pv_monitor.dsmr.p1.specs import DSMR_VERSIONS, is_valid_key

from .fixtures import TELEGRAMS, telegram


def parse(name: str) -> Any:
    spec = DSMR_VERSIONS[TELEGRAMS[name]].specification
    return TelegramParser(spec).parse(telegram(name).decode("ascii"))


@pytest.mark.parametrize("name", list(TELEGRAMS))
def test_mapping_of_every_telegram(name: str, snapshot: SnapshotAssertion) -> None:
    """Each real telegram maps to our keys and units (snapshot)."""
    reading = reading_from_telegram(parse(name))
    assert reading.equipment_id
    assert reading.values == snapshot(name="values")
    assert {
        ch: (d.medium, d.value, d.unit, d.equipment_id) for ch, d in reading.mbus.items()
    } == snapshot(name="mbus")


def test_mapping_details() -> None:
    """Units, net power, totals, tariff, M-Bus grouping by device type."""
    v5 = reading_from_telegram(parse("v5"))
    assert v5.values["power_import"] == 244.0
    assert v5.net_power_w == 244.0
    assert v5.values["energy_import_total"] == round(4.426 + 2.399, 3)
    assert v5.values["active_tariff"] == "tariff_2"
    assert v5.version == "50"
    assert v5.timestamp is not None
    assert decode_identifier(v5.equipment_id or "") == "K8EG004046395507"
    fluvius = reading_from_telegram(parse("fluvius_v171"))
    assert fluvius.mbus[1].medium is Medium.GAS
    assert fluvius.mbus[2].medium is Medium.WATER
    assert fluvius.values["peak_demand_month"] == 2589.0
    iskra = reading_from_telegram(parse("iskra_ie"))
    assert iskra.net_power_w == -100.0
    assert dict(iskra.states())["net_power"] == -100.0


def test_decode_identifier() -> None:
    assert decode_identifier("4B38") == "K8"
    assert decode_identifier("ZZ") == "ZZ"
    assert decode_identifier("00") == "00"
    assert decode_identifier("123") == "123"
    assert decode_identifier("FF") == "FF"


class Recorder:
    """A P1Listener that records what it gets."""

    def __init__(self) -> None:
        self.telegrams: list[Any] = []
        self.dropped: list[DropReason] = []
        self.lost: list[Exception | None] = []

    def telegram_received(self, telegram: Any, raw: str) -> None:
        self.telegrams.append(telegram)

    def telegram_dropped(self, reason: DropReason, error: str) -> None:
        self.dropped.append(reason)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.append(exc)


def protocol(version: str = "5", **keys: str) -> tuple[P1Protocol, Recorder]:
    recorder = Recorder()
    settings = P1Settings(ConnectionType.NETWORK, version, host="h", port=1, **keys)
    return P1Protocol(None, settings, recorder), recorder  # type: ignore[arg-type]


def test_protocol_counts_drops() -> None:
    """Byte-wise delivery works; CRC errors, cut telegrams and garbage are counted."""
    proto, rec = protocol()
    data = telegram("v5")
    for i in range(0, len(data), 7):
        proto.data_received(data[i : i + 7])
    assert len(rec.telegrams) == 1
    proto.data_received(data.replace(b"!6EEE", b"!0000"))
    assert rec.dropped == [DropReason.CRC]
    proto.data_received(data[: len(data) // 2] + data)
    assert rec.dropped == [DropReason.CRC, DropReason.TRUNCATED]
    assert len(rec.telegrams) == 2
    proto.data_received(b"/AB\xff\r\n!1234\r\n")
    assert rec.dropped[-1] is DropReason.INVALID
    proto.data_received(data[:100])
    proto.connection_lost(None)
    assert rec.dropped[-1] is DropReason.TRUNCATED
    assert rec.lost == [None]
    proto2, rec2 = protocol()
    proto2.connection_lost(OSError("x"))
    assert rec2.dropped == []


KEY = "000102030405060708090A0B0C0D0E0F"
AUTH_KEY = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"


def encrypted_frame(plain: bytes, counter: int = 1) -> bytes:
    """A general-global-cipher frame as a Sagemcom T210-D sends it (AES-128-GCM)."""
    security = SecurityControlField(security_suite=0, authenticated=True, encrypted=True)
    title = b"SAGgp\x00\x00\x01"
    cipher = encrypt(security, title, counter, bytes.fromhex(KEY), plain, bytes.fromhex(AUTH_KEY))
    body = security.to_bytes() + counter.to_bytes(4, "big") + cipher
    length = bytes([len(body)]) if len(body) < 0x80 else b"\x82" + len(body).to_bytes(2, "big")
    return b"\xdb\x08" + title + length + body


SAGEMCOM_PLAIN = (
    b"/EST5\\253710000_A\r\n\r\n1-3:0.2.8(50)\r\n0-0:1.0.0(190214123000W)\r\n"
    b"1-0:1.8.0(000000.123*kWh)\r\n1-0:1.7.0(00.456*kW)\r\n!"
)


def with_crc(text: bytes) -> bytes:
    return text + b"%04X\r\n" % TelegramParser.crc16(text.decode("ascii"))


def test_encrypted_meter() -> None:
    """Sagemcom T210-D: frames found in the byte stream, decrypted with the keys."""
    proto, rec = protocol("SAGEMCOM_T210_D", encryption_key=KEY, authentication_key=AUTH_KEY)
    frame = encrypted_frame(with_crc(SAGEMCOM_PLAIN))
    proto.data_received(b"\x00\x01" + frame[:10])
    proto.data_received(frame[10:] + frame)
    assert len(rec.telegrams) == 2
    assert rec.dropped == [DropReason.TRUNCATED]
    reading = reading_from_telegram(rec.telegrams[0])
    assert reading.values["energy_import_total"] == 0.123
    assert reading.values["power_import"] == 456.0
    # Wrong key: not decryptable, dropped as invalid.
    bad, bad_rec = protocol("SAGEMCOM_T210_D", encryption_key=AUTH_KEY, authentication_key=KEY)
    bad.data_received(frame)
    assert bad_rec.dropped == [DropReason.INVALID]
    bad.data_received(frame[:20])
    bad.connection_lost(None)
    assert bad_rec.dropped[-1] is DropReason.TRUNCATED


def test_frame_buffer_garbage() -> None:
    """Announced lengths that cannot be a frame resynchronise on the next tag."""
    dropped: list[int] = []
    buffer = EncryptedFrameBuffer(lambda: dropped.append(1))
    assert buffer.append(b"\xdb") == []
    assert buffer.append(b"\x08" + b"T" * 8) == []
    assert buffer.append(b"\x82\x00") == []
    assert buffer.append(b"\x05" + b"x" * 5) == [
        b"\xdb\x08" + b"T" * 8 + b"\x82\x00\x05" + b"x" * 5
    ]
    assert buffer.append(b"\xdb\x08" + b"T" * 8 + b"\xff") == []
    assert dropped
    assert buffer.append(b"\xdb\x07" + b"T" * 7 + b"\x01z") == []
    assert not buffer.has_partial or buffer.append(b"") == []


def test_keys_and_versions() -> None:
    assert is_valid_key(KEY)
    assert not is_valid_key("00")
    assert not is_valid_key("Z" * 32)
    names = {id(v.specification) for v in DSMR_VERSIONS.values()}
    specs = {
        id(getattr(telegram_specifications, n))
        for n in (
            "V2_2",
            "V4",
            "V5",
            "BELGIUM_FLUVIUS",
            "LUXEMBOURG_SMARTY",
            "SWEDEN",
            "Q3D",
            "SAGEMCOM_T210_D_R",
            "ISKRA_IE",
            "EON_HUNGARY",
        )
    }
    assert specs <= names


def test_publisher_throttles_power_writes() -> None:
    """Power at the interval, voltage at 30 s, counters at 60 s, unchanged again at 20 s."""
    publisher = StatePublisher(5)
    states = {"power_import": 100.0, "voltage_l1": 230.0, "energy_import_total": 1.0}
    assert publisher.publish(0, states.items()) == list(states)
    states = {"power_import": 110.0, "voltage_l1": 231.0, "energy_import_total": 1.001}
    assert publisher.publish(1, states.items()) == []
    assert publisher.publish(5, states.items()) == ["power_import"]
    assert publisher.written["power_import"] == 110.0
    assert publisher.publish(19, states.items()) == []
    # 20 s after their last write, voltage and counter are written again, unchanged.
    assert publisher.publish(20, states.items()) == ["voltage_l1", "energy_import_total"]
    assert publisher.written["voltage_l1"] == 230.0
    assert publisher.written["energy_import_total"] == 1.0
    assert publisher.publish(25, states.items()) == ["power_import"]
    assert publisher.publish(30, states.items()) == ["voltage_l1"]
    assert publisher.written["voltage_l1"] == 231.0
    assert publisher.publish(40, states.items()) == ["energy_import_total"]
    assert publisher.written["energy_import_total"] == 1.0
    assert publisher.publish(60, states.items()) == list(states)  # rewrites and the counter
    assert publisher.written["energy_import_total"] == 1.001
    publisher.reset()
    assert publisher.publish(61, states.items()) == list(states)
    every = StatePublisher(0)
    assert every.measurement_interval == every.counter_interval == 0
    assert every.publish(0, states.items()) == list(states)
    assert every.publish(0.5, {"power_import": 1.0}.items()) == ["power_import"]
    # A key never published is not rewritten.
    assert StatePublisher(5).publish(0, []) == []


class Fake:
    """A dsmr-parser object or M-Bus device stand-in: attributes given as keywords."""

    def __init__(self, **attributes: Any) -> None:
        self.__dict__.update(attributes)


class FakeTelegram:
    def __init__(self, items: list[tuple[str, Any]]) -> None:
        self.items = items

    def __iter__(self) -> Any:
        return iter(self.items)


def test_mapping_edge_cases() -> None:
    """Heat meters, unknown types, W/Wh units, odd values; history lists are skipped."""
    devices = [
        Fake(
            channel_id=1,
            MBUS_DEVICE_TYPE=Fake(value=4),
            MBUS_EQUIPMENT_IDENTIFIER=Fake(value="48454154"),
            MBUS_METER_READING=Fake(value=Decimal("12.5"), unit="GJ", datetime=None),
        ),
        Fake(channel_id=2, MBUS_DEVICE_TYPE=Fake(value=99), MBUS_METER_READING=Fake(value=1)),
        Fake(channel_id=3, MBUS_DEVICE_TYPE=Fake(value="x"), MBUS_METER_READING=Fake(value=1)),
        Fake(channel_id=4, MBUS_DEVICE_TYPE=Fake(value=3)),
        Fake(channel_id=5, MBUS_METER_READING=Fake(value=None)),
        Fake(channel_id=6, GAS_METER_READING=Fake(value="7.5", unit=None)),
        Fake(channel_id=7, MBUS_DEVICE_TYPE=Fake(value=7), MBUS_METER_READING=Fake(value=2)),
    ]
    telegram_ = FakeTelegram(
        [
            ("Q3D_EQUIPMENT_IDENTIFIER", Fake(value="ESY1")),
            ("CURRENT_ELECTRICITY_USAGE", Fake(value=Decimal(1500), unit="W")),
            ("ELECTRICITY_IMPORTED_TOTAL", Fake(value=Decimal(2500), unit="Wh")),
            ("ELECTRICITY_ACTIVE_TARIFF", Fake(value="0009", unit=None)),
            ("SHORT_POWER_FAILURE_COUNT", Fake(value="n/a", unit=None)),
            ("LONG_POWER_FAILURE_COUNT", Fake(value=True, unit=None)),
            ("BELGIUM_MAXIMUM_DEMAND_13_MONTHS", [Fake(value=1)]),
            ("MBUS_DEVICES", devices),
        ]
    )
    reading = reading_from_telegram(telegram_)
    assert reading.equipment_id == "ESY1"
    assert reading.values == {
        "power_import": 1500.0,
        "energy_import_total": 2.5,
        "net_power": 1500.0,
    }
    assert {ch: (d.medium, d.value, d.unit) for ch, d in reading.mbus.items()} == {
        1: (Medium.HEAT, 12.5, "GJ"),
        6: (Medium.GAS, 7.5, "m³"),
        7: (Medium.WATER, 2.0, "m³"),
    }
    assert reading.mbus[1].key == "mbus1_heat"
    assert reading.mbus[1].equipment_id == "48454154"
    assert MeterReading().net_power_w is None


async def test_read_one_telegram_errors() -> None:
    """Connection closed before a telegram, and a connection that cannot be made in time."""
    import asyncio
    from unittest.mock import patch as mock_patch

    from custom_components.pv_monitor.dsmr.p1 import reader

    settings = P1Settings(ConnectionType.NETWORK, "5", host="127.0.0.1", port=1)

    async def closes(loop: Any, _settings: Any, listener: Any) -> Any:
        loop.call_soon(listener.connection_lost, None)
        return Fake(close=lambda: None), None

    with mock_patch.object(reader, "async_connect", closes), pytest.raises(ConnectionError):
        await reader.async_read_one_telegram(settings, 1)

    async def hangs(*_args: Any) -> Any:
        await asyncio.Event().wait()  # never connects: the read's own timeout ends it

    with (
        mock_patch.object(reader, "async_connect", hangs),
        pytest.raises(OSError, match="timed out"),
    ):
        await reader.async_read_one_telegram(settings, 0.01)

    async def serial_error(*_args: Any) -> Any:
        raise reader.SerialException("busy")

    with (
        mock_patch.object(reader, "async_connect", serial_error),
        pytest.raises(OSError, match="busy"),
    ):
        await reader.async_read_one_telegram(settings, 1)
