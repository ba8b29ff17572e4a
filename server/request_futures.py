"""pygls's table of pending requests, made to forget what has finished.

pygls keeps a future per message in ``protocol._request_futures`` and removes it when it answers the request.
But the inner steps of its built-in handlers (``workspace/executeCommand`` calls our command as a second
step; ``didOpen``/``didChange``/``didClose`` and every async notification handler run the same way) are
stored under a fresh uuid that nothing ever removes: each command or notification left its future behind,
and with it the result or the exception, its traceback, and the request's arguments (issue #19: ~7.7 KB per
unknown ``cancelRun``, 2 MB per 2 MB argument, never released). This table drops an entry once its future is
done; an entry still pending (a request the client may cancel, a response the server awaits) stays.
"""

from __future__ import annotations

from functools import partial
from typing import Any


class SettledFuturesDropped(dict[Any, Any]):
    def __setitem__(self, key: Any, future: Any) -> None:
        super().__setitem__(key, future)
        add_done_callback = getattr(future, "add_done_callback", None)
        if add_done_callback is not None:
            add_done_callback(partial(self._settled, key))

    def _settled(self, key: Any, future: Any) -> None:
        if self.get(key) is future:  # not a newer future under the same id
            del self[key]

    # pygls cancels the pending futures while iterating over the table (shutdown), and a cancelled
    # concurrent future runs its callbacks at once: iterate over a snapshot so removing one is safe
    def items(self) -> list[tuple[Any, Any]]:  # type: ignore[override]
        return list(super().items())

    def values(self) -> list[Any]:  # type: ignore[override]
        return list(super().values())

    def keys(self) -> list[Any]:  # type: ignore[override]
        return list(super().keys())


def install(protocol: Any) -> None:
    """Swap the protocol's table for one that forgets finished futures (keeping any pending ones)."""
    table = SettledFuturesDropped()
    for key, future in dict(protocol._request_futures).items():
        table[key] = future
    protocol._request_futures = table
