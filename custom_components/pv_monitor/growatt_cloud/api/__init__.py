"""Asyncio client of the Growatt cloud (ShinePhone API and OpenAPI V1); no Home Assistant import.

:mod:`.client` talks HTTP through an injected :class:`aiohttp.ClientSession`, :mod:`.models`
holds the typed results, :mod:`.errors` the typed failures and :mod:`.budget` the rolling
24-hour request budget.
"""
