"""Growatt cloud kind: polls the ShinePhone API or OpenAPI V1 for an account's plants.

- :mod:`.api`: pure aiohttp client (models, errors, request budget).
- :mod:`.account` (one shared client, session and budget per account, persisted),
  :mod:`.coordinator`, :mod:`.energy` (pure: plant power and lifetime from the finest
  source), :mod:`.sensor`, :mod:`.statistics` (resumable history import), :mod:`.flow`.
"""
