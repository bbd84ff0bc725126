"""End to end: real captured datalogger sessions over loopback TCP into Home Assistant."""

from __future__ import annotations

from datetime import timedelta
import json
import logging
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.growatt_local.protocol import messages
from custom_components.pv_monitor.growatt_local.protocol.framing import decode_frame
from custom_components.pv_monitor.growatt_local.sensor import INVERTER_SENSORS, LISTENER_SENSORS
from tests.helpers import only_platforms, until

from .dongle import FakeDongle
from .fixtures import CLOCK, capture, make_entry, setup_entry


def raw(name: str) -> bytes:
    return capture(name).raw


async def play_growattmonitor(hass: HomeAssistant, port: int) -> FakeDongle:
    """The GrowattMonitor protocol-5 session (ShineWiFi-S JPC492227A, TL inverter)."""
    dongle = await FakeDongle.connect(port)
    await dongle.send(raw("gm_data1_v5_0116_ping_both_echo_01"))
    await dongle.expect_raw(raw("gm_data1_v5_0116_ping_both_echo_01"))
    await dongle.send(raw("gm_data1_v5_0103_announce_from_logger_04"))
    # The server's ack, clock set and config query, byte for byte as captured.
    await dongle.expect_raw(
        raw("gm_data1_v5_0103_ack_from_server_05"),
        raw("gm_data1_v5_0118_config_item1f_from_server_27"),
        messages.get_config(2, 5, 1, "JPC492227A"),
    )
    answers = (
        "gm_data1_v5_0119_identify_item04_from_logger_03",
        "gm_data1_v5_0119_identify_item15_from_logger_22",
        "gm_data1_v5_0119_identify_item0e_from_logger_15",
        "gm_data1_v5_0118_config_from_logger_30",
    )
    await dongle.send(*(raw(a) for a in answers))
    await dongle.send(raw("gm_data1_v5_0150_data2_from_logger_28"))
    await dongle.expect_raw(raw("gm_data1_v5_0150_ack_from_server_31"))
    await dongle.send(
        raw("gm_data1_v5_0104_data_from_logger_23"), raw("gm_data1_v5_0104_data_from_logger_26")
    )
    await dongle.expect_raw(
        raw("gm_data1_v5_0104_ack_from_server_25"), raw("gm_data1_v5_0104_ack_from_server_29")
    )
    await hass.async_block_till_done()
    return dongle


async def play_records(port: int, *names: str) -> FakeDongle:
    """Send records (split and glued) and check one ack per record, in order."""
    dongle = await FakeDongle.connect(port)
    frames = [raw(n) for n in names]
    await dongle.send(*frames)
    expected = []
    for f in frames:
        frame = decode_frame(f)
        if frame.function == 0x16:
            expected.append(f)
        else:
            expected.append(messages.ack(frame))
            if frame.function == 0x03:
                expected.append(
                    messages.set_clock(
                        1, frame.protocol, frame.unit, frame.payload[:10].decode(), CLOCK
                    )
                )
                expected.append(
                    messages.get_config(2, frame.protocol, frame.unit, frame.payload[:10].decode())
                )
    await dongle.expect_raw(*expected)
    return dongle


SHINE2MQTT = (
    "shine2mqtt_v6_0116_ping_1",
    "shine2mqtt_v6_0103_announce_1",
    "shine2mqtt_v6_0150_buffered_data_1",
    "shine2mqtt_v6_0150_buffered_data_2",
    "shine2mqtt_v6_0104_data_1",
    "shine2mqtt_v6_0104_data_2",
    "shine2mqtt_v6_0104_data_3",
)


async def test_server_session_states(
    hass: HomeAssistant,
    free_port: int,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    entity_registry_enabled_by_default: None,
) -> None:
    """Three real dataloggers (protocols 2, 5, 6; TL, TL-X, SPF) into sensor states."""
    entry = make_entry(free_port, inverter_families={"GYH2BLL080": "spf"})
    with only_platforms("growatt_local", Platform.SENSOR):
        await setup_entry(hass, entry)
        gm = await play_growattmonitor(hass, free_port)
        s2m = await play_records(free_port, *SHINE2MQTT)
        spf = await play_records(free_port, "grott_test_v6_0104_spf_valid")
        v2 = await play_records(free_port, "vromans_v2_0103_announce_02", "vromans_v2_0104_data_19")
        # Listener counters write at most once per 10 s: let the trailing write happen.
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
        await hass.async_block_till_done()
        await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)

        # Devices: inverter via its datalogger, firmware from the config answers.
        logger = device_registry.async_get_device(identifiers={(DOMAIN, "JPC492227A")})
        inverter = device_registry.async_get_device(identifiers={(DOMAIN, "1VZG8211B7")})
        assert logger is not None
        assert inverter is not None
        assert inverter.via_device_id == logger.id
        # Model from the announce: device type code (holding 43; 210 = "002xx", two trackers,
        # single phase, TL in the V3.14 table, as the capture's source describes it) and
        # nominal power (holding 6-7).
        assert (inverter.model, inverter.model_id) == ("TL single-phase, 2 MPPT, 3,000 VA", "210")
        # DTC 2131 is in no published table: the family and nominal power.
        vromans = device_registry.async_get_device(identifiers={(DOMAIN, "OP24510017")})
        assert vromans is not None
        assert (vromans.model, vromans.model_id) == ("TL (protocol II), 7,000 VA", "2131")
        # A MIC 3000TL-X (the capture's source) announces 5200, "MIC 600-3300TL-X/X2 ...;
        # MIN 2500-6000TL-X/X2 ..." in table 3-1 of Growatt's VPP protocol V2.03.
        mic = device_registry.async_get_device(identifiers={(DOMAIN, "MLG0A12345")})
        assert mic is not None
        assert (mic.model, mic.model_id) == (
            "MIC 600-3300TL-X / MIN 2500-6000TL-X, 3,000 VA",
            "5200",
        )
        assert logger.sw_version == "1.7.6.8"
        coordinator = entry.runtime_data
        assert coordinator.data.dataloggers["JPC492227A"].data_interval == 60
        # Buffered records are counted and kept, never live states.
        assert coordinator.listener.stats.records_buffered == 3
        assert coordinator.data.inverters["1VZG8211B7"].buffered_total == 1
        for dongle in (gm, s2m, spf, v2):
            await dongle.close()
        # Unloaded inside the narrowed kind: outside it, the kind may be unknown when no
        # earlier test loaded the real one.
        assert await hass.config_entries.async_unload(entry.entry_id)
        assert entry.state is ConfigEntryState.NOT_LOADED


async def test_connectivity_goes_stale_and_recovers(
    hass: HomeAssistant,
    free_port: int,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Three missed data intervals turn the datalogger off and live values unavailable;
    energy counters keep their value; a new record brings everything back. Going offline
    and coming back are logged once each, at INFO, with the serial redacted."""
    caplog.set_level(logging.INFO, logger="custom_components.pv_monitor.growatt_local")

    def presence_lines() -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.INFO and r.getMessage().startswith("Datalogger ")
        ]

    entry = make_entry(free_port)
    await setup_entry(hass, entry)
    dongle = await play_growattmonitor(hass, free_port)
    connectivity = "binary_sensor.datalogger_jpc492227a_connectivity"
    power = "sensor.inverter_1vzg8211b7_pv_power"
    energy = "sensor.inverter_1vzg8211b7_lifetime_energy"
    assert hass.states.get(connectivity).state == STATE_ON
    assert hass.states.get(power).state != STATE_UNAVAILABLE
    total = hass.states.get(energy).state

    # Data interval is 1 minute (config item 0x04): stale after 3 minutes.
    freezer.tick(timedelta(minutes=3, seconds=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(connectivity).state == STATE_OFF
    assert hass.states.get(power).state == STATE_UNAVAILABLE
    assert hass.states.get(energy).state == total
    freezer.tick(timedelta(minutes=3))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert presence_lines() == [
        "Datalogger JPC******* is offline (disconnected, or no data record for 180 s)"
    ]

    await dongle.send(raw("gm_data1_v5_0104_data_from_logger_26"))
    await dongle.expect_raw(raw("gm_data1_v5_0104_ack_from_server_29"))
    await hass.async_block_till_done()
    assert hass.states.get(connectivity).state == STATE_ON
    assert hass.states.get(power).state != STATE_UNAVAILABLE
    assert presence_lines()[1:] == ["Datalogger JPC******* is back online (1 occurrences)"]

    # The datalogger goes away: disconnected at once.
    await dongle.close()
    await until(lambda: hass.states.get(connectivity).state == STATE_OFF)
    assert len(presence_lines()) == 3
    assert "JPC492227A" not in caplog.text
    assert await hass.config_entries.async_unload(entry.entry_id)


def test_every_sensor_has_translations() -> None:
    """Each value a register map can yield has an entity name in en, nl and de."""
    folder = Path(__file__).parents[2] / "custom_components" / "pv_monitor" / "translations"
    for lang in ("en", "nl", "de"):
        sensors = json.loads((folder / f"{lang}.json").read_text())["entity"]["sensor"]
        for key in [*INVERTER_SENSORS, *(d.key for d in LISTENER_SENSORS)]:
            assert sensors[key]["name"], (lang, key)
        states = sensors["status"]["state"]
        assert set(INVERTER_SENSORS["status"].options or []) <= set(states), lang
        for key in ("fault", "warning"):
            states = sensors[key]["state"]
            assert set(INVERTER_SENSORS[key].options or []) == set(states), (lang, key)
