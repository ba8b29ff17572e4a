"""The simulated model's answers for the e2e run: the orchestrator writes a review workflow, the finder
reports average()'s division by zero with a fix, and both skeptics fail to refute it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BUGGY_LINE = "    return sum(values) / len(values)"
FIXED_LINE = "    return sum(values) / len(values) if values else 0.0"
FINDING_TITLE = "average() divides by zero on an empty list"


def scenario() -> dict[str, Any]:
    script = (FIXTURES / "review_selection.workflow.txt").read_text("utf-8")
    bug = {"line": 6, "title": FINDING_TITLE, "old": BUGGY_LINE.strip(), "new": FIXED_LINE.strip()}
    return {"rules": [
        {"match": {"role": "orchestrator"}, "respond": {"text": f"```python\n{script}```"}},
        {"match": {"label": "^find "}, "respond": {"json": {"bugs": [bug]}}, "latency_ms": 400},
        {"match": {"label": "^verify "}, "respond": {"json": {"refuted": False, "why": "average([]) raises ZeroDivisionError"}},
         "latency_ms": 400},
    ]}


def write_scenario(path: Path) -> Path:
    path.write_text(json.dumps(scenario(), indent=2), "utf-8")
    return path
