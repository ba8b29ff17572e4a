"""Freezing the start-up heap: what start-up left is out of the collector's sight, later garbage is not."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_the_startup_heap_is_frozen_and_later_cycles_are_still_collected() -> None:
    # in a child process: freezing is for the whole process, and this one runs the other tests
    program = textwrap.dedent("""
        import gc, weakref
        import workcrew.engine
        workcrew.engine.start, workcrew.engine.estimate, workcrew.engine.RunStore  # what a host loads (lazily)
        assert gc.get_freeze_count() == 0
        workcrew.engine.freeze_startup_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000, frozen  # the engine's imports

        class Node:
            pass

        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector can free it
        alive = weakref.ref(a)
        del a, b
        gc.collect()
        assert alive() is None, "a cycle made after start-up was not collected"
        print(frozen)
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 10_000
