"""EV charging on solar surplus kind.

- :mod:`.controller`: pure state machine (time injected), no Home Assistant import.
- :mod:`.coordinator` feeds it sensor states and carries out its commands on the charger's
  entities; :mod:`.switch`, :mod:`.select`, :mod:`.number`, :mod:`.sensor`; :mod:`.flow`.
"""
