"""An `AdminGateway` built on first use: the acking process never calls the Admin API on most paths, and the
SDK it would load costs about 75 MB of its idle memory (README: Operations, workers)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from bot.anthropic_admin.client import AdminGateway


class _LazyGateway:
    """Forwards every attribute to the gateway, built (once, thread-safe) the first time one is asked for."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self._kwargs = kwargs
        self._real: AdminGateway | None = None
        self._lock = threading.Lock()

    def _gateway(self) -> AdminGateway:
        if self._real is None:
            with self._lock:
                if self._real is None:
                    from bot.anthropic_admin.client import AdminGateway

                    self._real = AdminGateway(**self._kwargs)
        return self._real

    def build(self) -> None:
        """Build the gateway now (a worker process does, before it claims anything: loading the SDK takes more
        than a second)."""
        self._gateway()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gateway(), name)

    def close(self) -> None:
        """Close the gateway if it was ever built."""
        if self._real is not None:
            self._real.close()

    def __repr__(self) -> str:
        return "<AdminGateway (built on first use)>" if self._real is None else repr(self._real)


def lazy_gateway(**kwargs: Any) -> AdminGateway:
    """An AdminGateway(**kwargs) that loads the SDK and builds itself only when first used."""
    return cast("AdminGateway", _LazyGateway(kwargs))
