"""Skills: Claude Code's ``SKILL.md`` folders, listed in an agent's system prompt and read on demand.

A skill is a folder with a ``SKILL.md`` — front matter ``name`` (default: the folder's name) and
``description`` (default: the body's first paragraph), then instructions that may point at other files in
the folder. They come from the project's ``.claude/skills/NAME/`` (from the workspace up to the repository
root), the user's ``~/.claude/skills/NAME/`` and installed plugins (``plugin:NAME``); a personal skill wins
over a project one of the same name, so a repository cannot replace a skill its user installed.

Agents see each skill's name and description (:meth:`Skills.prompt_section`) and load the rest with the
``load_skill`` tool (:func:`read_skill`): the body, or one file of the folder. Reads are confined to the
skill's folder as workspace reads are to the workspace — no ``..``, no absolute path, no link that
leaves the folder, no secret file, no file with several hard links, nothing binary or over
``max_file_bytes`` — and secret values are redacted. Each read is recorded as ``skill:NAME/FILE`` with
the content's fingerprint, so a re-run reuses an answer only while the skill files it read are unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import os
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..redaction import redact
from ..settings import Settings
from ..workspace.paths import PathPolicy, ToolError
from .claude_config import home_folder, inside_project, project_folders
from .frontmatter import FrontMatterError, parse_front_matter, read_markdown
from .plugins import installed_plugins

SKILL_FILE = "SKILL.md"
ABSENT = "absent"
MAX_LISTED_SKILLS = 100
MAX_DESCRIPTION_CHARS = 300
MAX_LISTED_FILES = 50


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    origin: str  # "project" | "user" | "plugin"
    folder: Path

    @property
    def path(self) -> Path:
        return self.folder / SKILL_FILE


@dataclass(frozen=True)
class Skills:
    """A set of skills by name: everything visible from a workspace, or what one agent may use."""

    by_name: Mapping[str, Skill] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # SKILL.md files that could not be read: "path:line: problem"

    def __len__(self) -> int:
        return len(self.by_name)

    def names(self) -> list[str]:
        return sorted(self.by_name)

    def only(self, names: Iterable[str] | None) -> tuple[Skills, list[str]]:
        """These skills restricted to ``names`` (None: all of them), and the names that are not here."""
        if names is None:
            return self, []
        wanted = list(dict.fromkeys(names))
        kept = {n: self.by_name[n] for n in wanted if n in self.by_name}
        return Skills(kept, self.problems), [n for n in wanted if n not in self.by_name]

    @functools.cached_property
    def prompt_section(self) -> str:
        """The lines an agent's system prompt gets: each skill's name and description."""
        if not self.by_name:
            return ""
        lines = [f"- {name}: {_short(self.by_name[name].description)}" for name in self.names()[:MAX_LISTED_SKILLS]]
        if len(self.by_name) > MAX_LISTED_SKILLS:
            lines.append(f"- … and {len(self.by_name) - MAX_LISTED_SKILLS} more (load_skill with the exact name)")
        return ("Skills: instructions for particular kinds of task. When one fits your task, call load_skill with "
                "its name to read it, and with `file` to read a file its instructions point to.\n" + "\n".join(lines))

    @functools.cached_property
    def digest(self) -> str:
        """Changes when the list an agent is shown changes (names, descriptions, origins)."""
        text = "\n".join(f"{n}\0{s.origin}\0{s.description}" for n, s in sorted(self.by_name.items()))
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32] if text else ""


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DESCRIPTION_CHARS else text[:MAX_DESCRIPTION_CHARS - 1] + "…"


def load_skills(workspace: Path, home: Path | None = None) -> Skills:
    """Every skill visible from ``workspace``: project (closest wins) < plugin < user."""
    found: dict[str, Skill] = {}
    problems: list[str] = []

    def add(folders: Iterable[Path], origin: str, prefix: str = "") -> None:
        for folder in folders:
            skill = _load(folder, origin, prefix)
            if isinstance(skill, Skill):
                found[skill.name] = skill
            else:
                problems.append(skill)

    for root in reversed(project_folders(workspace, "skills", home)):
        for folder in _skill_folders(root):
            if inside_project(folder, root):
                add([folder], "project")
            else:
                problems.append(f"{folder}: a link that points outside the project; refused")
    for plugin in installed_plugins(workspace, home):
        add(plugin.skill_folders(), "plugin", plugin.name + ":")
    add(_skill_folders(home_folder(home) / "skills"), "user")
    return Skills(found, tuple(problems))


def _skill_folders(root: Path) -> list[Path]:
    try:
        return sorted(p for p in root.iterdir() if not p.name.startswith(".") and (p / SKILL_FILE).is_file())
    except OSError:
        return []


def _load(folder: Path, origin: str, prefix: str) -> Skill | str:
    path = folder / SKILL_FILE
    try:
        info = path.stat()
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror})"
    return _parse_cached(folder, origin, prefix, info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=2048)
def _parse_cached(folder: Path, origin: str, prefix: str, mtime_ns: int, size: int) -> Skill | str:
    path = folder / SKILL_FILE
    try:
        front = parse_front_matter(read_markdown(path), path, required=False)
    except FrontMatterError as exc:
        return str(exc)
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror})"
    name = front.data.get("name", folder.name)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name.strip()):
        return f"{path}:{front.line_of('name')}: name must be one word (letters, digits, '-'), not {name!r}"
    description = front.data.get("description")
    if not isinstance(description, str) or not description.strip():
        paragraphs = [p for p in re.split(r"\n\s*\n", front.body) if p.strip() and not p.lstrip().startswith("#")]
        description = paragraphs[0] if paragraphs else ""
    return Skill(prefix + name.strip(), " ".join(description.split()), origin, folder)


# -- reading (the load_skill tool) ------------------------------------------------------------------------


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]  # the same fingerprint workspace reads journal


def read_skill(skills: Skills, name: object, file: object, settings: Settings, reads: dict[str, str]) -> str:
    """``load_skill``: the body of skill ``name``, or ``file`` from its folder; ToolError says why not.
    Records what it read (or found missing) in ``reads``: ``"skill:NAME/FILE"`` → fingerprint."""
    if not isinstance(name, str) or name not in skills.by_name:
        available = ", ".join(skills.names()) or "none"
        raise ToolError(f"no skill {name!r} is available to this agent; its skills: {available}")
    skill = skills.by_name[name]
    rel = SKILL_FILE if file is None or (isinstance(file, str) and not file.strip()) else _relative(file)
    root = skill.folder.resolve()
    data = _read_confined(root, rel, settings, f"skill:{name}/{rel}", reads)
    text = redact(data.decode("utf-8", errors="replace"))
    if rel != SKILL_FILE:
        return text
    try:
        body = parse_front_matter(text, skill.path, required=False).body
    except FrontMatterError:  # edited since the run listed it: the whole text is still the instructions
        body = text
    files = [f for f in _files(root, settings) if f != SKILL_FILE]
    listing = (f"\n\n[files in this skill's folder (load_skill with name={name!r} and file=…): "
               f"{', '.join(files[:MAX_LISTED_FILES])}{' …' if len(files) > MAX_LISTED_FILES else ''}]" if files else "")
    return f"[skill {name} ({skill.origin}): {skill.path}]\n{body.strip()}{listing}"


def _relative(file: object) -> str:
    if not isinstance(file, str):
        raise ToolError("file must be a string: a path inside the skill's folder, like reference.md")
    text = file.strip().replace("\\", "/")
    if text.startswith(("/", "~")) or re.match(r"^[A-Za-z]:/", text):
        raise ToolError(f"{file!r} is not inside the skill's folder: give a path relative to it, like reference.md")
    rel = posixpath.normpath(text)
    if rel == ".." or rel.startswith("../"):
        raise ToolError(f"{file!r} leaves the skill's folder: '..' may not climb above it")
    if rel == ".":
        raise ToolError("give a file of the skill's folder, not the folder itself")
    return rel


def _read_confined(root: Path, rel: str, settings: Settings, key: str, reads: dict[str, str]) -> bytes:
    policy = PathPolicy(root, settings)
    target = root / rel
    resolved = target.resolve()
    if resolved != root and root not in resolved.parents:
        raise ToolError(f"{rel!r} is a link that points outside the skill's folder; refused")
    if policy.is_secret_path(rel) or policy.is_secret_path(resolved.relative_to(root).as_posix()):
        raise ToolError(f"{rel!r} is a secret file (matches secret_patterns) and is never read")
    try:
        info = resolved.stat()
    except OSError:
        reads.setdefault(key, ABSENT)
        files = ", ".join(_files(root, settings)) or "none"
        raise ToolError(f"the skill has no file {rel!r}; its files: {files}") from None
    if not resolved.is_file():
        raise ToolError(f"{rel!r} is a folder; its files: {', '.join(_files(root / rel, settings)) or 'none'}")
    policy.check_links(rel, info)
    if info.st_size > policy.max_bytes:
        raise ToolError(f"{rel!r} is {info.st_size:,} bytes, over the {policy.max_bytes:,}-byte limit for reading")
    data = resolved.read_bytes()
    reads.setdefault(key, content_digest(data))
    if b"\0" in data[:8192]:
        raise ToolError(f"{rel!r} is a binary file; only text files can be read")
    return data


def _files(root: Path, settings: Settings) -> list[str]:
    """The readable files of a skill's folder, relative to it (no links followed, no secrets)."""
    policy = PathPolicy(root, settings)
    out: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(folder).relative_to(root).as_posix()
        for name in sorted(files):
            rel = name if base == "." else f"{base}/{name}"
            if not name.startswith(".") and not policy.is_secret(rel) and not (Path(folder) / name).is_symlink():
                out.append(rel)
            if len(out) > MAX_LISTED_FILES:
                return out
    return out


def skill_fingerprint(settings: Settings, read: str) -> str:
    """What a ``skill:NAME/FILE`` read (``read`` = ``NAME/FILE``) looks like now, as :func:`read_skill`
    records it; a skill that is gone or moved is ``absent``."""
    name, _, rel = read.partition("/")
    skill = load_skills(settings.workspace).by_name.get(name)
    if skill is None:
        return ABSENT
    root = skill.folder.resolve()
    path = (root / rel).resolve()
    if path != root and root not in path.parents:
        return ABSENT
    try:
        return content_digest(path.read_bytes()) if path.is_file() else ABSENT
    except OSError:
        return ABSENT
