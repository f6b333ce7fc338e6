"""Which work item the code on this thread is running (None outside one): the Admin API writes it begins are
tagged with it, so a retry of an item that a dead worker left knows what it already changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[int | None] = ContextVar("work_item", default=None)


def current_item() -> int | None:
    """The id of the work item being run here, if any."""
    return _current.get()


@contextmanager
def running_item(item_id: int) -> Iterator[None]:
    """Mark the body as the run of work item `item_id`."""
    token = _current.set(item_id)
    try:
        yield
    finally:
        _current.reset(token)
