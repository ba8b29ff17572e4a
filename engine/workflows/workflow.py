"""Loading workflow scripts of either dialect: ``load_workflow(path | source) -> Workflow``."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from ..errors import Problem, ScriptError, WorkcrewError
from .meta import WorkflowMeta

Dialect = Literal["python", "javascript"]
MAX_SCRIPT_BYTES = 512 * 1024
SUFFIXES: dict[str, Dialect] = {".py": "python", ".js": "javascript"}


def dialect_module(dialect: Dialect) -> ModuleType:
    """The module implementing a dialect.

    It provides ``read_meta(source, path) -> (meta | None, problems)`` (all problems, sandbox rules
    included), ``compile_body(source, path)`` and ``async execute(compiled, ctx: ScriptContext)``.
    """
    if dialect == "python":
        from .dialects import python

        return python
    try:
        return importlib.import_module(".dialects.javascript", __package__)
    except ImportError as exc:
        raise WorkcrewError(
            f"JavaScript workflows need the embedded JS engine: pip install 'workcrew[js]' ({exc})"
        ) from None


@dataclass
class Workflow:
    source: str
    dialect: Dialect
    path: Path | None = None
    meta: WorkflowMeta | None = None
    problems: list[Problem] = field(default_factory=list)
    origin: str = "file"  # builtin | personal | project | file | inline
    # what runs but is worth knowing (keys that are ignored): shown by `workcrew check`, logged once per run
    warnings: list[Problem] = field(default_factory=list)
    _compiled: Any = field(default=None, repr=False)

    @property
    def name(self) -> str:
        if self.meta is not None:
            return self.meta.name
        return self.path.stem if self.path else "inline"

    @property
    def display_path(self) -> str:
        return str(self.path) if self.path else "<inline>"

    def check(self) -> list[Problem]:
        """Every problem that would stop this script from running (empty when it can run)."""
        return list(self.problems)

    def compiled(self) -> Any:
        """The dialect's compiled form; raises :class:`ScriptError` when the script has problems."""
        if self.problems:
            raise ScriptError(self.problems)
        if self._compiled is None:
            self._compiled = dialect_module(self.dialect).compile_body(self.source, self.display_path)
        return self._compiled


_JS_META = re.compile(r"^\s*(?:(?://[^\n]*\n|/\*.*?\*/)\s*)*export\s+const\s+meta\b", re.S)


def detect_dialect(source: str, path: Path | None) -> Dialect:
    if path is not None and path.suffix in SUFFIXES:
        return SUFFIXES[path.suffix]
    # leading comments are skipped so a JS script that opens with a comment block is still JS
    return "javascript" if _JS_META.search(source) else "python"


def load_workflow(
    target: str | Path,
    *,
    source: str | None = None,
    dialect: Dialect | None = None,
    origin: str = "file",
    max_bytes: int = MAX_SCRIPT_BYTES,
) -> Workflow:
    """Load a script from a path (or from ``source`` text with ``target`` as its display name) and check it.

    Problems (syntax, meta, sandbox rules) are collected on ``Workflow.problems``, never raised, so a
    listing can show broken scripts with their problem.
    """
    path = Path(target) if source is None or target != "<inline>" else None
    display = str(target)
    if source is None:
        assert path is not None
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise WorkcrewError(f"cannot read workflow {path}: {exc.strerror}") from None
        if path.suffix not in SUFFIXES:
            return Workflow("", "python", path, None,
                            [Problem(display, 1, 1, "file-type", f"workflow files end in .py or .js, not {path.suffix!r}")],
                            origin)
        if len(raw) > max_bytes:
            return Workflow("", SUFFIXES[path.suffix], path, None,
                            [Problem(display, 1, 1, "script-size",
                                     f"the script is {len(raw):,} bytes; the limit is {max_bytes:,}")], origin)
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Workflow("", SUFFIXES[path.suffix], path, None,
                            [Problem(display, 1, 1, "encoding", f"not UTF-8: {exc.reason}")], origin)
    elif len(source.encode("utf-8")) > max_bytes:
        return Workflow(source, dialect or "python", path, None,
                        [Problem(display, 1, 1, "script-size", f"the script is over {max_bytes:,} bytes")], origin)
    chosen = dialect or detect_dialect(source, path)
    try:
        module = dialect_module(chosen)
    except WorkcrewError as exc:
        return Workflow(source, chosen, path, None, [Problem(display, 1, 1, "dialect", str(exc))], origin)
    meta, found = module.read_meta(source, display)  # every problem: syntax, meta and sandbox rules
    problems = sorted((p for p in found if p.severity != "warning"), key=lambda p: (p.line, p.col))
    warnings = sorted((p for p in found if p.severity == "warning"), key=lambda p: (p.line, p.col))
    return Workflow(source, chosen, path, meta, problems, origin, warnings=warnings)
