"""DSMR P1 smart meter kind, on dsmr-parser.

- :mod:`.p1`: pure wrapper around dsmr-parser (specs, mapping, reader, publish).
- :mod:`.coordinator`, :mod:`.sensor`, :mod:`.binary_sensor`, :mod:`.flow`.
"""
