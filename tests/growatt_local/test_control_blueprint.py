"""The ``cap_export_low_price`` blueprint: caps an inverter control while the price is low.

Runs through Home Assistant's blueprint and automation integrations (helpers of
``tests/ev_charging/test_blueprints.py``). ``number.set_value`` is played by a service
that records the call and sets the number's state to the value, as the read-back of a
PV Monitor number does.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, ServiceCall

from tests.ev_charging.test_blueprints import blueprint_dir, use

__all__ = ["blueprint_dir"]  # the autouse fixture that puts the blueprints in place

RATE = "number.inverter_mlg0a12345_active_power_rate"
PRICE = "sensor.feed_in_price"


async def test_cap_export_low_price(hass: HomeAssistant) -> None:
    """Below 0: 0 %; at 0 or unknown: 100 %; no write when already there or unavailable."""
    written: list[float] = []

    async def set_value(call: ServiceCall) -> None:
        written.append(call.data["value"])
        for entity_id in call.data["entity_id"]:
            hass.states.async_set(entity_id, str(call.data["value"]))

    hass.services.async_register("number", "set_value", set_value)
    hass.states.async_set(PRICE, "0.05")
    hass.states.async_set(RATE, "100")
    await use(hass, "cap_export_low_price", {"price_entity": PRICE, "limit_entity": RATE})

    async def price(value: str) -> None:
        hass.states.async_set(PRICE, value)
        await hass.async_block_till_done()

    await price("0.04")
    assert written == []  # already 100 %
    await price("-0.02")
    assert written == [0.0]
    await price("-0.03")
    assert written == [0.0]
    await price("0")
    assert written == [0.0, 100.0]
    await price("-1")
    await price("unavailable")
    assert written == [0.0, 100.0, 0.0, 100.0]
    # An unavailable control is left alone; when it is back, it gets the wanted value.
    hass.states.async_set(RATE, "unavailable")
    await price("-1")
    assert len(written) == 4
    hass.states.async_set(RATE, "100")
    await hass.async_block_till_done()
    assert written[-1] == 0.0
