"""Findings (design section 6): what a workflow reports, anchored by a snippet, with an optional fix."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import WorkcrewError

Severity = Literal["error", "warning", "info", "hint"]
Verdict = Literal["confirmed", "refuted", "unverified"]


class FindingError(WorkcrewError):
    pass


class Location(BaseModel):
    model_config = ConfigDict(extra="ignore")

    path: str
    start_line: int = Field(1, ge=1)
    end_line: int | None = None
    snippet: str | None = None

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        value = value.replace("\\", "/")
        while value.startswith("./"):
            value = value[2:]
        if not value or value.startswith("/") or ".." in value.split("/"):
            raise ValueError("must be a path inside the workspace, relative to its root")
        return value


class Evidence(BaseModel):
    model_config = ConfigDict(extra="ignore")

    path: str | None = None
    line: int | None = None
    note: str = ""


class Edit(BaseModel):
    """An exact-text replacement: ``old`` must occur once in the file (empty ``old`` creates the file)."""

    model_config = ConfigDict(extra="forbid")

    path: str
    old: str
    new: str


class Patch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    edits: list[Edit] = Field(default_factory=list)
    diff: str | None = None
    title: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)

    @property
    def files(self) -> list[str]:
        return sorted({e.path for e in self.edits})


class Votes(BaseModel):
    confirm: int = 0
    refute: int = 0
    missing: int = 0


class Finding(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = ""
    fingerprint: str = ""
    title: str
    message: str = ""
    severity: Severity = "warning"
    category: str = "finding"
    location: Location
    evidence: list[Evidence] = Field(default_factory=list)
    confidence: float | None = Field(None, ge=0, le=1)
    verdict: Verdict = "unverified"
    votes: Votes = Field(default_factory=Votes)
    fix: Patch | None = None
    run_id: str | None = None
    agent_id: str | None = None


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).lower()


def fingerprint(f: Finding) -> str:
    """Stable across runs and line moves: category, file, title and the snippet's text, not line numbers."""
    key = "\0".join([f.category, f.location.path, _norm(f.title), _norm(f.location.snippet)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def make_finding(data: Any, *, run_id: str | None = None) -> Finding:
    """Validate what a script passed to ``report()``; fills id and fingerprint."""
    if isinstance(data, BaseModel):
        data = data.model_dump()
    if not isinstance(data, dict):
        raise FindingError(f"report() takes a dict with at least 'title' and 'location.path', not {type(data).__name__}")
    data = dict(data)
    if isinstance(data.get("location"), str):
        data["location"] = {"path": data["location"]}
    if "location" not in data and "path" in data:
        data["location"] = {"path": data.pop("path"), "start_line": data.pop("line", 1)}
    try:
        finding = Finding.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise FindingError(f"invalid finding: {problems}") from None
    if finding.location.end_line is None or finding.location.end_line < finding.location.start_line:
        finding.location.end_line = finding.location.start_line
    finding.fingerprint = fingerprint(finding)
    finding.id = finding.id or "f_" + finding.fingerprint[:16]
    finding.run_id = run_id
    return finding
