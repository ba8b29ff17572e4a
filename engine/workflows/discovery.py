"""Finding workflows by name: built-in < personal (~/.claude/workflows) < project (closest .claude/workflows)."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import Problem, WorkcrewError, WorkflowNotFound
from ..workspace.ignore import repository_root
from .dialects import python as python_dialect
from .workflow import SUFFIXES, Workflow, load_workflow

ORIGIN_RANK = {"builtin": 0, "personal": 1, "project": 2}


@dataclass
class Entry:
    name: str
    origin: str
    path: Path
    workflow: Workflow
    warnings: list[str]
    shadowed: list[Entry] = field(default_factory=list)  # same-named entries this one hides, lowest rank first

    @property
    def problems(self) -> list[Problem]:
        return self.workflow.problems

    @property
    def valid(self) -> bool:
        return not self.workflow.problems


def builtin_dir() -> Path:
    return Path(str(resources.files(__package__).joinpath("builtin")))


def personal_dir(home: Path | None = None) -> Path:
    return (home or Path.home()) / ".claude" / "workflows"


def project_dirs(workspace: Path) -> list[Path]:
    """Every ``.claude/workflows`` from the workspace up to the repository root, closest first."""
    start = workspace.resolve()
    root = repository_root(start)
    out: list[Path] = []
    for folder in [start, *start.parents]:
        candidate = folder / ".claude" / "workflows"
        if candidate.is_dir():
            out.append(candidate)
        if root is None or folder == root:
            break
    return out


def _scan(folder: Path, origin: str) -> list[Entry]:
    entries: list[Entry] = []
    if not folder.is_dir():
        return entries
    for path in sorted(folder.iterdir()):
        if path.suffix not in SUFFIXES or not path.is_file() or path.name.startswith((".", "_")):
            continue
        try:
            workflow = load_workflow(path, origin=origin)
        except WorkcrewError as exc:
            workflow = Workflow("", SUFFIXES[path.suffix], path, None,
                                [Problem(str(path), 1, 1, "read", str(exc))], origin)
        warnings = [f"{w.line}:{w.col}: {w.message}" for w in workflow.warnings]
        name = workflow.meta.name if workflow.meta else path.stem
        # built-in modules cannot have '-' in their file names (skill_audit.py is "skill-audit")
        stem = path.stem.replace("_", "-") if origin == "builtin" else path.stem
        if workflow.meta is not None and workflow.meta.name != stem:
            warnings.append(f"{path.name}: file stem {path.stem!r} differs from meta.name {workflow.meta.name!r}; "
                            f"run it as {workflow.meta.name!r}")
        entries.append(Entry(name, origin, path, workflow, warnings))
    return entries


def discover(workspace: Path, *, home: Path | None = None) -> list[Entry]:
    """All workflows visible from ``workspace``, winners first per name (project > personal > built-in).

    Shadowed entries are dropped; invalid ones are kept so they can be listed with their problem.
    """
    found: list[Entry] = list(_scan(builtin_dir(), "builtin"))
    found += _scan(personal_dir(home), "personal")
    # farthest project folder first so the closest one wins
    personal = personal_dir(home).resolve()
    for folder in reversed(project_dirs(workspace)):
        if folder.resolve() != personal:  # a home folder inside the repository: scanned once, as personal
            found += _scan(folder, "project")
    winners: dict[str, Entry] = {}
    for entry in found:
        previous = winners.get(entry.name)
        if previous is not None:  # later (higher rank, closer) wins; say what it hides, never silently
            entry.shadowed = [*previous.shadowed, previous]
            entry.warnings.append(f"overrides the {previous.origin} workflow {entry.name!r} at {previous.path}")
        winners[entry.name] = entry
    return sorted(winners.values(), key=lambda e: (e.name))


def resolve(name_or_path: str, workspace: Path, *, home: Path | None = None) -> Workflow:
    """A workflow by path (anything with a suffix or a slash) or by name."""
    candidate = Path(name_or_path)
    if candidate.suffix in SUFFIXES or "/" in name_or_path or candidate.is_file():
        path = candidate if candidate.is_absolute() else (Path.cwd() / candidate)
        if not path.is_file():
            alt = workspace / candidate
            if alt.is_file():
                path = alt
            else:
                raise WorkflowNotFound(f"no workflow file at {name_or_path}")
        # a built-in named by its path (the editor's Saved Workflows view sends paths) is still the built-in:
        # its origin decides whether a run given no files defaults to the workspace's scope
        builtin = path.resolve().parent == builtin_dir().resolve()
        return load_workflow(path, origin="builtin" if builtin else "file")
    for entry in discover(workspace, home=home):
        if entry.name == name_or_path:
            return entry.workflow
    names = ", ".join(e.name for e in discover(workspace, home=home)) or "none"
    raise WorkflowNotFound(f"no workflow named {name_or_path!r}; known workflows: {names}")


# -- saving ----------------------------------------------------------------------------------------


class SaveError(WorkcrewError):
    pass


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.strip().lower()).strip("-._")
    if not slug:
        raise SaveError(f"{name!r} has no letters or digits to make a workflow name from; pass --name")
    return slug[:100]


def save_target(workspace: Path, *, personal: bool = False, home: Path | None = None) -> Path:
    """Where a saved workflow goes: ~/.claude/workflows, or the closest existing project folder up to the
    repository root, else ``<workspace>/.claude/workflows``."""
    if personal:
        return personal_dir(home)
    existing = project_dirs(workspace)
    return existing[0] if existing else workspace.resolve() / ".claude" / "workflows"


def rename_meta(source: str, dialect: str, old: str, new: str) -> str:
    """The script with its ``meta`` name changed from ``old`` to ``new`` (only inside the meta literal)."""
    if old == new:
        return source
    if dialect == "python":
        tree = python_dialect.parse(source, "<save>").tree
        if tree is not None:
            function = tree.body[0]
            first = function.body[0] if isinstance(function, ast.AsyncFunctionDef) and function.body else None
            if isinstance(first, ast.Assign) and isinstance(first.value, ast.Dict):
                for key, value in zip(first.value.keys, first.value.values, strict=True):
                    if (isinstance(key, ast.Constant) and key.value == "name" and isinstance(value, ast.Constant)
                            and value.lineno == value.end_lineno):
                        lines = source.splitlines(keepends=True)
                        index = value.lineno - 2  # the dialect wraps the body: one line and 4 columns added
                        line = lines[index].encode("utf-8")
                        start, end = value.col_offset - 4, (value.end_col_offset or 0) - 4
                        lines[index] = (line[:start] + repr(new).encode("utf-8") + line[end:]).decode("utf-8")
                        return "".join(lines)
    match = re.search(r"""(\bname\s*[:=]\s*)(['"])""" + re.escape(old) + r"\2", source)
    if match is None:
        raise SaveError(f"cannot find the name {old!r} in the script's meta to rename it")
    return source[: match.start()] + match.group(1) + json.dumps(new) + source[match.end():]


@dataclass
class Saved:
    path: Path
    name: str
    unchanged: bool  # the same script was already saved there
    shadows: list[Entry]


def save_workflow(source: str, dialect: str, workspace: Path, *, name: str | None = None, personal: bool = False,
                  force: bool = False, home: Path | None = None) -> Saved:
    """Save a run's script as ``<slug>.py`` (or ``.js``) where discovery finds it by name."""
    suffix = next(s for s, d in SUFFIXES.items() if d == dialect)
    current = load_workflow("<inline>", source=source, dialect=dialect)  # type: ignore[arg-type]
    if current.meta is None:
        raise SaveError("the run's script has no valid meta, so it cannot be saved by name: "
                        + "; ".join(str(p) for p in current.problems))
    slug = slugify(name or current.meta.name)
    source = rename_meta(source, dialect, current.meta.name, slug)
    folder = save_target(workspace, personal=personal, home=home)
    for part in (folder.parent, folder):
        if part.is_symlink():
            raise SaveError(f"{part} is a symbolic link; refusing to write through it")
    target = folder / f"{slug}{suffix}"
    if target.exists():
        if target.read_text("utf-8", errors="replace") == source:
            return Saved(target, slug, True, [])
        if not force:
            raise SaveError(f"{target} already exists with a different script; save under another name with "
                            "--name NAME, or replace it with --force")
    checked = load_workflow(target, source=source, dialect=dialect)  # type: ignore[arg-type]
    if checked.problems:
        raise SaveError("the script would not load after saving: " + "; ".join(str(p) for p in checked.problems))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(source, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        raise SaveError(f"cannot write {target}: {exc.strerror}") from None
    shadows = []
    for entry in discover(workspace, home=home):
        if entry.name == slug:
            shadows = [e for e in entry.shadowed if e.path != target]
    return Saved(target, slug, False, shadows)
