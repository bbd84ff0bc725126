"""Growatt datalogger protocol: framing, records, register maps and the TCP listener.

Pure Python with no Home Assistant import, so it can be unit-tested, benchmarked and reused
on its own. Data flows one way: socket bytes -> :class:`framing.FrameDecoder` ->
:class:`framing.Frame` -> (acknowledgement out) -> :class:`records.Record` -> values by
register number.
"""
