"""Which event loop the script host child runs on: uvloop for a run (less CPU per call), asyncio's loop for a
child that reports idle — a dry run's virtual clock reads "nothing else is ready" from asyncio's ready queue,
which uvloop does not show, so on uvloop an estimate would see idle too early and count waves wrong."""

from __future__ import annotations

import asyncio

import pytest
from workcrew.engine.runtime.scripthost.child_loop import loop_factory


def test_a_child_that_reports_idle_keeps_asyncios_loop() -> None:
    assert loop_factory({"report_idle": True}) is None
    assert loop_factory({}) is None  # the default is to report idle


def test_a_run_child_uses_uvloop_where_installed() -> None:
    uvloop = pytest.importorskip("uvloop")  # a dependency on Linux and macOS (pyproject.toml)
    factory = loop_factory({"report_idle": False})
    assert factory is uvloop.new_event_loop
    loop = factory()
    try:
        assert isinstance(loop, asyncio.AbstractEventLoop) and not hasattr(loop, "_ready")
    finally:
        loop.close()
