"""Finding workflows by name: built-in < personal (~/.claude/workflows) < project (closest .claude/workflows)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import Problem, WorkcrewError, WorkflowNotFound
from .workflow import SUFFIXES, Workflow, load_workflow

ORIGIN_RANK = {"builtin": 0, "personal": 1, "project": 2}


@dataclass
class Entry:
    name: str
    origin: str
    path: Path
    workflow: Workflow
    warnings: list[str]

    @property
    def problems(self) -> list[Problem]:
        return self.workflow.problems

    @property
    def valid(self) -> bool:
        return not self.workflow.problems


def builtin_dir() -> Path:
    return Path(str(resources.files(__package__).joinpath("builtin_workflows")))


def personal_dir(home: Path | None = None) -> Path:
    return (home or Path.home()) / ".claude" / "workflows"


def repository_root(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        if (folder / ".git").exists():
            return folder
    return None


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
        warnings: list[str] = []
        name = workflow.meta.name if workflow.meta else path.stem
        if workflow.meta is not None and workflow.meta.name != path.stem:
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
    for folder in reversed(project_dirs(workspace)):
        found += _scan(folder, "project")
    winners: dict[str, Entry] = {}
    for entry in found:
        winners[entry.name] = entry  # later (higher rank, closer) wins
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
        return load_workflow(path)
    for entry in discover(workspace, home=home):
        if entry.name == name_or_path:
            return entry.workflow
    names = ", ".join(e.name for e in discover(workspace, home=home)) or "none"
    raise WorkflowNotFound(f"no workflow named {name_or_path!r}; known workflows: {names}")
