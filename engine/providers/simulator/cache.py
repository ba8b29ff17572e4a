"""Prompt-cache accounting the way the API bills it (reference §2 and checklist §7.3 item 6).

* An entry is keyed by the hash of the byte-exact prefix (model, then blocks in tools → system →
  messages order) up to a ``cache_control`` breakpoint; writes happen only at breakpoints.
* A read walks back up to 20 blocks from each breakpoint looking for an entry an earlier request wrote.
* An entry becomes readable only once the response that wrote it has started, so N cold requests
  sent at once each pay a write; entries expire after their TTL, refreshed on every hit.
* Prefixes shorter than the model's minimum cacheable length are silently not cached.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .wire import Block

LOOKBACK_BLOCKS = 20
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}


@dataclass
class _Entry:
    ready: bool
    expires: float
    ttl: str


@dataclass
class CacheResult:
    read_tokens: int = 0
    write_5m_tokens: int = 0
    write_1h_tokens: int = 0
    pending: tuple[str, ...] = ()  # keys this request writes; readable once its response starts

    @property
    def write_tokens(self) -> int:
        return self.write_5m_tokens + self.write_1h_tokens


class PromptCache:
    def __init__(self, minimum_tokens: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self.minimum_tokens = minimum_tokens
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def account(self, model: str, blocks: list[Block]) -> CacheResult:
        """Read and write the cache for one request; returns the token split."""
        digest = hashlib.sha256(model.encode("utf-8") + b"\0")
        keys: list[str] = []
        cumulative: list[int] = []
        total = 0
        for block in blocks:
            digest.update(block.canonical.encode("utf-8") + b"\0")
            keys.append(digest.copy().hexdigest())
            total += block.tokens
            cumulative.append(total)
        breakpoints = [i for i, b in enumerate(blocks) if b.cache_ttl is not None]
        if not breakpoints:
            return CacheResult()
        now = self.clock()
        result = CacheResult()
        with self._lock:
            self._expire(now)
            hit = -1
            for point in breakpoints:
                for position in range(point, max(-1, point - LOOKBACK_BLOCKS - 1), -1):
                    entry = self._entries.get(keys[position])
                    if entry is not None and entry.ready:
                        if position > hit:
                            hit = position
                        entry.expires = now + TTL_SECONDS[entry.ttl]
                        break
            read = cumulative[hit] if hit >= 0 else 0
            result.read_tokens = read
            written_up_to = read
            pending: list[str] = []
            for point in breakpoints:
                if point <= hit or cumulative[point] < self.minimum_tokens:
                    continue
                ttl = blocks[point].cache_ttl or "5m"
                fresh = cumulative[point] - written_up_to
                if ttl == "1h":
                    result.write_1h_tokens += fresh
                else:
                    result.write_5m_tokens += fresh
                written_up_to = cumulative[point]
                if keys[point] not in self._entries:
                    self._entries[keys[point]] = _Entry(False, now + TTL_SECONDS[ttl], ttl)
                    pending.append(keys[point])
            result.pending = tuple(pending)
        return result

    def started(self, result: CacheResult) -> None:
        """The writing response has begun: its entries become readable."""
        with self._lock:
            for key in result.pending:
                entry = self._entries.get(key)
                if entry is not None:
                    entry.ready = True

    def abandon(self, result: CacheResult) -> None:
        """The writing request failed before its response began: nothing was cached."""
        with self._lock:
            for key in result.pending:
                entry = self._entries.get(key)
                if entry is not None and not entry.ready:
                    del self._entries[key]

    def _expire(self, now: float) -> None:
        stale = [k for k, e in self._entries.items() if e.expires <= now]
        for key in stale:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
