"""Proxy mode end to end: a dongle on loopback, the listener in HA, a fake Growatt server."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pv_monitor.const import DOMAIN
from custom_components.pv_monitor.growatt_local.protocol import messages, proxy
from custom_components.pv_monitor.growatt_local.protocol.framing import decode_frame
from tests.helpers import until

from .dongle import FakeDongle, FakeGrowattServer
from .fixtures import capture

SERIAL = "XGDABCDEFG"
"""Datalogger of the shine2mqtt capture (MIC 3000TL-X, protocol 6)."""


def raw(name: str) -> bytes:
    return capture(name).raw


def proxy_entry(port: int, upstream_port: int, **options: object) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id="01JPVMONITORPROXYENTRY0000",
        title="Growatt datalogger",
        unique_id=f"growatt_local_{port}",
        data={
            "kind": "growatt_local",
            "host": "127.0.0.1",
            "port": port,
            "mode": "proxy",
            "upstream_host": "127.0.0.1",
            "upstream_port": upstream_port,
        },
        options={
            "allowed_dataloggers": [],
            "allow_redirect": False,
            "inverter_families": {},
            **options,
        },
    )


async def test_proxy_relays_blocks_and_survives_upstream_outage(
    hass: HomeAssistant, free_port: int
) -> None:
    """Every frame relayed unchanged; re-point blocked; upstream down then back, nothing lost."""
    redirect = messages.set_config(9, 6, 1, SERIAL, messages.ConfigItem.SERVER_NAME, "evil.example")
    query = messages.get_config(10, 6, 1, SERIAL)
    upstream = FakeGrowattServer(commands=[redirect, query])
    await upstream.start()
    entry = proxy_entry(free_port, upstream.port)
    entry.add_to_hass(hass)
    with patch.object(proxy, "UPSTREAM_BACKOFF", (0.01,)):
        assert await hass.config_entries.async_setup(entry.entry_id)
        listener = entry.runtime_data.listener
        dongle = await FakeDongle.connect(free_port)
        # The upstream is opened only once the datalogger named itself (first ping,
        # echoed locally meanwhile).
        ping = raw("shine2mqtt_v6_0116_ping_1")
        await dongle.send(ping)
        await dongle.expect_raw(ping)
        await until(lambda: any(s.upstream_connected for s in listener.sessions))

        # The announce goes up; the answers come back from upstream unchanged; the
        # upstream's command that would re-point the datalogger is not relayed.
        announce = raw("shine2mqtt_v6_0103_announce_1")
        await dongle.send(announce)
        await dongle.expect_raw(messages.ack(decode_frame(announce)), query)
        assert listener.stats.commands_blocked == 1
        assert listener.stats.acks_sent == 0  # every ack so far was the upstream's

        data = [raw(f"shine2mqtt_v6_0104_data_{n}") for n in range(1, 6)]
        await dongle.send(data[0])
        await dongle.expect_raw(messages.ack(decode_frame(data[0])))

        # Upstream goes down hard: the listener acks locally, HA keeps getting records.
        await upstream.stop()
        await until(lambda: not any(s.upstream_connected for s in listener.sessions))
        await dongle.send(data[1], data[2])
        await dongle.expect_raw(*(messages.ack(decode_frame(d)) for d in data[1:3]))
        assert listener.stats.acks_sent == 2
        assert listener.stats.records_live == 3
        await hass.async_block_till_done()
        assert hass.states.get("sensor.inverter_mlg0a12345_pv_power").state != "unavailable"

        # Upstream back on the same port: the proxy reconnects and relays the backlog.
        await upstream.start(upstream.port)
        await until(lambda: upstream.connections == 2, rounds=200_000)
        await until(lambda: any(s.upstream_connected for s in listener.sessions))
        # The replayed announce makes the server send its commands again (its acks of
        # the replayed records are swallowed: the dongle has them already).
        await dongle.expect_raw(query)
        assert listener.stats.commands_blocked == 2
        await until(lambda: not listener.upstreams[SERIAL].backlog, rounds=200_000)
        await dongle.send(data[3])
        await dongle.expect_raw(messages.ack(decode_frame(data[3])))
        await until(lambda: sum(f.raw in data for f in upstream.received) == 4, rounds=200_000)
        got = [f.raw for f in upstream.received if f.function == 0x04]
        assert got == data[:4]  # every record reached the cloud, once, in order
        assert [f.raw for f in upstream.received].count(announce) == 2  # re-announced

        # The upstream stops acknowledging: the proxy acks after its timeout.
        upstream.ack = False
        with patch.object(proxy, "UPSTREAM_ACK_TIMEOUT", 0.01):
            await dongle.send(data[4])
            await dongle.expect_raw(messages.ack(decode_frame(data[4])))
        assert listener.stats.acks_sent == 3
        # No stray duplicate ack reached the dongle.
        assert dongle.inbox == []

        await dongle.close()
        assert await hass.config_entries.async_unload(entry.entry_id)
    await upstream.stop()


async def test_proxy_redirect_allowed(hass: HomeAssistant, free_port: int) -> None:
    """With the option set, the re-point command reaches the datalogger."""
    redirect = messages.set_config(9, 6, 1, SERIAL, messages.ConfigItem.SERVER_IP, "10.0.0.9")
    upstream = FakeGrowattServer(commands=[redirect])
    await upstream.start()
    entry = proxy_entry(free_port, upstream.port, allow_redirect=True)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    listener = entry.runtime_data.listener
    dongle = await FakeDongle.connect(free_port)
    ping = raw("shine2mqtt_v6_0116_ping_1")
    await dongle.send(ping)
    await dongle.expect_raw(ping)
    await until(lambda: any(s.upstream_connected for s in listener.sessions))
    announce = raw("shine2mqtt_v6_0103_announce_1")
    await dongle.send(announce)
    await dongle.expect_raw(messages.ack(decode_frame(announce)), redirect)
    assert listener.stats.commands_blocked == 0
    await dongle.close()
    assert await hass.config_entries.async_unload(entry.entry_id)
    await upstream.stop()


async def test_proxy_upstream_unreachable_from_start(hass: HomeAssistant, free_port: int) -> None:
    """No upstream at all: the datalogger is served locally and HA gets its records."""
    entry = proxy_entry(free_port, 9)  # discard port on loopback: connection refused
    entry.add_to_hass(hass)
    with patch.object(proxy, "UPSTREAM_BACKOFF", (0.01,)):
        assert await hass.config_entries.async_setup(entry.entry_id)
        listener = entry.runtime_data.listener
        dongle = await FakeDongle.connect(free_port)
        ping = raw("shine2mqtt_v6_0116_ping_2")
        await dongle.send(ping)
        await dongle.expect_raw(ping)
        await until(lambda: listener.stats.upstream_failures >= 2, rounds=200_000)
        data = raw("shine2mqtt_v6_0104_data_1")
        await dongle.send(ping, data)
        await dongle.expect_raw(ping, messages.ack(decode_frame(data)))
        assert listener.stats.records_live == 1
        await dongle.close()
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_proxy_upstream_flapping_loses_nothing(hass: HomeAssistant, free_port: int) -> None:
    """The Growatt server goes down and up five times during a session: every record is
    acked once to the datalogger, reaches Home Assistant, and reaches the server once."""
    upstream = FakeGrowattServer()
    await upstream.start()
    entry = proxy_entry(free_port, upstream.port)
    entry.add_to_hass(hass)
    data = [raw(f"shine2mqtt_v6_0104_data_{n}") for n in range(1, 6)]
    records = 0
    with patch.object(proxy, "UPSTREAM_BACKOFF", (0.01,)):
        assert await hass.config_entries.async_setup(entry.entry_id)
        listener = entry.runtime_data.listener
        dongle = await FakeDongle.connect(free_port)
        ping = raw("shine2mqtt_v6_0116_ping_1")
        await dongle.send(ping)
        await dongle.expect_raw(ping)
        for flap in range(5):
            await until(lambda: any(s.upstream_connected for s in listener.sessions), 200_000)
            await until(lambda: not listener.upstreams[SERIAL].backlog, 200_000)
            for frame in data[:2]:  # upstream up: its acks come through
                await dongle.send(frame)
                await dongle.expect_raw(messages.ack(decode_frame(frame)))
                records += 1
            await upstream.stop()
            await until(lambda: not any(s.upstream_connected for s in listener.sessions))
            for frame in data[2:]:  # upstream down: acked locally
                await dongle.send(frame)
                await dongle.expect_raw(messages.ack(decode_frame(frame)))
                records += 1
            await upstream.start(upstream.port)
            await until(lambda n=flap: upstream.connections == n + 2, 200_000)
        await until(lambda: any(s.upstream_connected for s in listener.sessions), 200_000)
        await until(lambda: sum(f.function == 0x04 for f in upstream.received) == records, 200_000)
        assert listener.stats.records_live == records == 25
        assert dongle.inbox == []  # no duplicate or stray ack
        assert listener.stats.acks_sent == 15  # the 3 records of each outage
        await dongle.close()
        assert await hass.config_entries.async_unload(entry.entry_id)
    await upstream.stop()
