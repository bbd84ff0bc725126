"""The shared callback list (common/callbacks.py): order, removal during a call, double removal."""

from __future__ import annotations

from custom_components.pv_monitor.common.callbacks import Callbacks


def test_fire_in_order_and_remove() -> None:
    """Callbacks run in the order added, with the fired arguments; a remover removes one."""
    calls: list[tuple[str, float | None]] = []
    callbacks: Callbacks[[float | None]] = Callbacks()
    remove_a = callbacks.add(lambda value: calls.append(("a", value)))
    callbacks.add(lambda value: calls.append(("b", value)))
    callbacks.fire(1.5)
    assert calls == [("a", 1.5), ("b", 1.5)]
    remove_a()
    remove_a()  # a second removal changes nothing
    callbacks.fire(None)
    assert calls[2:] == [("b", None)]
    assert len(callbacks) == 1


def test_callback_removing_itself_while_called() -> None:
    """A callback that removes itself during fire() does not stop the others of that call."""
    calls: list[str] = []
    callbacks: Callbacks[[]] = Callbacks()

    def once() -> None:
        calls.append("once")
        remove_once()

    remove_once = callbacks.add(once)
    callbacks.add(lambda: calls.append("always"))
    callbacks.fire()
    callbacks.fire()
    assert calls == ["once", "always", "always"]
