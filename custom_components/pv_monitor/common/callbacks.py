"""A list of callbacks that consumers add and remove: the one listener rule of every kind.

Pure: no Home Assistant import (the remover it returns fits ``CALLBACK_TYPE``).
"""

from __future__ import annotations

from collections.abc import Callable


class Callbacks[**P]:
    """Callbacks called in the order they were added, each with the same arguments.

    A callback may remove itself (or another) while being called: :meth:`fire` calls the
    callbacks present when it started. Removing twice is harmless.
    """

    __slots__ = ("_callbacks",)

    def __init__(self) -> None:
        """Start with no callback."""
        self._callbacks: list[Callable[P, None]] = []

    def add(self, callback: Callable[P, None]) -> Callable[[], None]:
        """Add ``callback``; returns the function that removes it again."""
        self._callbacks.append(callback)

        def remove() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return remove

    def fire(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call every callback with ``args`` and ``kwargs``."""
        for callback in list(self._callbacks):
            callback(*args, **kwargs)

    def __len__(self) -> int:
        """How many callbacks there are."""
        return len(self._callbacks)
