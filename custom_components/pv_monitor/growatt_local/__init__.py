"""Growatt datalogger (local) kind: Home Assistant answers or relays the datalogger.

- :mod:`.protocol`: pure core (framing, records, register maps, listener, backfill).
- :mod:`.coordinator`: runs the listener, merges decoded readings, wakes entities.
- :mod:`.sensor`, :mod:`.binary_sensor`, :mod:`.entity`: the entities.
- :mod:`.flow`: config, options and reconfigure steps; :mod:`.statistics`: backfill import.
"""
