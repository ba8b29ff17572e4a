"""Helpers for the cost tests: write a workflow, estimate it, run it for real on the simulated model."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from workcrew.engine import Workflow, load_workflow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def write_workflow(tmp_path: Path) -> Callable[..., Workflow]:
    def write(body: str, name: str = "wf", meta: str | None = None) -> Workflow:
        head = meta or f'meta = {{"name": "{name}", "description": "test workflow"}}'
        path = tmp_path / f"{name}.py"
        path.write_text(head + "\n" + textwrap.dedent(body))
        workflow = load_workflow(path)
        assert not workflow.problems, workflow.problems
        return workflow

    return write


FINDERS = """
BUGS = {"type": "object", "required": ["bugs"], "properties": {"bugs": {"type": "array", "items": {
    "type": "object", "required": ["line"], "properties": {"line": {"type": "integer"}}}}}}
VERDICT = {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}
phase("Find")
found = await parallel([agent(f"Find bugs in {f}", schema=BUGS, label=f"find {f}") for f in args["files"]])
phase("Verify")
checks = [agent(f"Refute bug at {f}:{b['line']}", schema=VERDICT, label=f"verify {f}")
          for f, r in zip(args["files"], found) if r for b in r["bugs"]]
votes = await parallel(checks)
return {"bugs": len(checks)}
"""
