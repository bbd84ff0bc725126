"""Pure core of EV charging on solar surplus: the controller, with no Home Assistant import.

:mod:`.controller` decides, from the grid power and the time, whether the car charges and
at which current; the Home Assistant glue (``ev_coordinator.py``) feeds it sensor states
and carries out its commands on the charger's entities.
"""
