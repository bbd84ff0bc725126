"""Pure core of the DSMR P1 smart-meter source (no Home Assistant import).

- :mod:`.specs`: the DSMR versions offered, each a dsmr-parser telegram specification with
  its serial settings.
- :mod:`.mapping`: parsed dsmr-parser telegrams to our sensor keys, values and units, with
  M-Bus devices grouped by channel and typed by their device type.
- :mod:`.reader`: dsmr-parser's asyncio protocol, extended to count (not log) dropped
  telegrams, and the serial / TCP connection helpers.
- :mod:`.publish`: which sensor states to write for a telegram (recorder load control).

Telegrams are framed and parsed by dsmr-parser only; this package never parses OBIS lines.
"""
