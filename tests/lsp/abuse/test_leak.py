"""10,000 bad requests over one connection leave the server's memory where it was.

A mix of bad frames, bad JSON, 2 MB arguments, unknown methods and cancelRun for runs that do not exist,
each answered with one error. The same mix runs once first (warm-up: caches, code paths, allocator pools);
then RSS (VmRSS) is read, the flood sent, a cheap request answered, and RSS read again, in the same run.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from .rawclient import RawServer, frame, request

FLOOD = 10_000
WARM_UP = 1_000
BIG_EVERY = 100  # one request in a hundred carries a 2 MB argument
MAX_GROWTH_KB = 10 * 1024
BIG = "x" * (2 * 1024 * 1024)


def cancel_run(request_id: int, run_id: str) -> bytes:
    return frame(request(request_id, "workspace/executeCommand",
                         {"command": "workcrew.cancelRun", "arguments": [{"runId": run_id}]}))


def unknown(request_id: int) -> dict:
    return request(request_id, "workcrew/noSuchMethod", {"n": request_id})


KINDS: list[Callable[[int], bytes]] = [
    lambda i: frame(json.dumps(unknown(i)).encode(), b"Content-Length: abc\r\n\r\n"),  # a bad header
    lambda i: frame(b'{"jsonrpc": "2.0", "id": %d, "method": "x", "params": {' % i),  # JSON cut short
    lambda i: frame(json.dumps(unknown(i)).encode().replace(b'"n"', b'"\xff"')),  # not UTF-8
    lambda i: frame(b'{"jsonrpc": "2.0", "id": %d, "method": "x", "params": %s}' % (i, b"[" * 3000 + b"]" * 3000)),
    lambda i: frame(json.dumps(unknown(i)).encode(), b"Content-Length: 100000000000000\r\n\r\n"),  # "100 TB"
    lambda i: frame([unknown(i)]),  # a batch
    lambda i: frame({**unknown(i), "jsonrpc": "1.0"}),
    lambda i: frame(unknown(i)),  # an unknown method
    lambda i: cancel_run(i, f"wf_no_such_run_{i}"),
]


def message(i: int) -> bytes:
    if i % BIG_EVERY == 0:
        return cancel_run(i, BIG)
    return KINDS[i % len(KINDS)](i)


def send_and_count(server: RawServer, first: int, count: int) -> None:
    """Write ``count`` bad requests while another thread reads their answers, until each had its one error
    (commands answer from a worker thread, so not always in order)."""
    expected = {*range(first, first + count), -1}
    answered: list[int] = []
    failure: list[BaseException] = []

    def drain() -> None:
        try:
            while len(answered) < len(expected):
                reply = server.message(60)
                if "method" not in reply:  # a response (the server's own notifications are not counted)
                    assert "error" in reply, reply
                    answered.append(reply["id"])
        except BaseException as exc:  # reported from the main thread
            failure.append(exc)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    for i in range(first, first + count):
        server.write(message(i))
    server.write(frame(unknown(-1)))  # ends the last fault's resynchronisation
    reader.join(120)
    assert not failure and not reader.is_alive(), failure
    assert sorted(answered) == sorted(expected) and server.alive()


def test_ten_thousand_bad_requests_do_not_grow_memory(tmp_path: Path) -> None:
    server = RawServer.started(tmp_path)
    try:
        send_and_count(server, 1, WARM_UP)
        server.errors_then_answer("warm")
        before = server.rss_kb()
        send_and_count(server, WARM_UP + 1, FLOOD)
        server.errors_then_answer("flooded")
        after = server.rss_kb()
        print(f"\nRSS before the flood {before / 1024:.1f} MB, after {FLOOD:,} bad requests {after / 1024:.1f} MB, "
              f"growth {(after - before) / 1024:+.1f} MB")
        assert after - before < MAX_GROWTH_KB
    finally:
        server.stop()
