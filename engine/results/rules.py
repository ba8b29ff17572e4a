"""Project review rules: ``.claude/workcrew-rules.md``, what this project's maintainers taught Workcrew.

A rule is one ``## `` section of a Markdown file that lives in the repository, so it is reviewed like
code. A dismissed finding (false positive, intended) becomes a rule written for its CLASS of finding;
``workcrew rules add`` writes one by hand. Every agent of a later run is shown the rules
(``runtime/agent_setup.py``), and a reported finding that a rule covers is counted as suppressed instead
of published (``rule_match.py``).

The file is parsed tolerantly: field names have aliases, values may be quoted or backquoted, unknown
bullets are part of the rule's text. What cannot be understood is a :class:`RuleProblem` with the file and
line; that rule is left out and the others still apply. Adding and removing rules touch only their own
section, so hand edits elsewhere are kept byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import threading
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal, cast

from ..errors import WorkcrewError
from .globs import glob_problem

RULES_FILE = ".claude/workcrew-rules.md"
Kind = Literal["false-positive", "intended", "wont-fix"]
KINDS: tuple[Kind, ...] = ("false-positive", "intended", "wont-fix")
KIND_LABELS: dict[Kind, str] = {"false-positive": "false positive", "intended": "intended", "wont-fix": "won't fix"}
EVERYWHERE = "**"

HEADER = """\
# Workcrew project rules

Review rules this project taught Workcrew, mostly by dismissing findings in the editor (False positive,
Intended). Every agent of a run reads them; a finding a rule covers is not shown and the run's report
counts it as suppressed by that rule. A rule covers a finding with the same `fingerprint`, or one of its
`category` in a file its `applies to` globs match whose title contains `matches` (without `category` the
rule only guides the agents). Edit freely: one `## ID · title` section per rule; delete a section to drop
its rule. `workcrew rules list` checks the file.
"""

_ALIASES = {
    "kind": "kind", "type": "kind", "reason": "kind",
    "applies-to": "glob", "applies": "glob", "glob": "glob", "globs": "glob", "scope": "glob", "files": "glob",
    "paths": "glob",
    "category": "category",
    "matches": "matches", "title-contains": "matches", "match": "matches",
    "fingerprint": "fingerprint",
    "origin": "origin", "source": "origin", "from": "origin",
}
_KIND_WORDS = {
    "false-positive": "false-positive", "falsepositive": "false-positive", "fp": "false-positive",
    "not-a-bug": "false-positive",
    "intended": "intended", "intentional": "intended", "by-design": "intended", "as-designed": "intended",
    "wont-fix": "wont-fix", "won't-fix": "wont-fix", "wontfix": "wont-fix", "accepted": "wont-fix",
}
_FIELD = re.compile(r"^\s{0,3}[-*+]\s+\**(?P<key>[A-Za-z][A-Za-z '_-]*?)\**\s*:\s*(?P<value>.*?)\s*$")
_HEADING = re.compile(r"^##(?!#)\s*(?P<rest>.*?)\s*#*\s*$")
_ID = re.compile(r"^`?(?P<id>[A-Za-z0-9][A-Za-z0-9_.-]*)`?(?P<title>.*)$")
_SEPARATORS = " \t·:—–|-"
_COMMENT = re.compile(r"<!--.*?-->", re.S)
# one read-modify-write at a time in this process: two dismissals at once must both end up in the file
_WRITING = threading.Lock()


class RulesError(WorkcrewError):
    """The rules file cannot be read, written, or does not hold what was asked for."""


@dataclass(frozen=True)
class RuleProblem:
    path: str
    line: int  # 1-based; 0 when the whole file is concerned
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Rule:
    id: str
    kind: Kind
    text: str
    glob: str = EVERYWHERE
    category: str | None = None
    matches: str | None = None  # words the finding's title must contain (case and spacing ignored)
    fingerprint: str | None = None  # the dismissed finding's: that exact finding is always covered
    origin: str = ""
    title: str = ""  # the heading's words after the id
    line: int = 0  # where its heading is in the file (1-based; 0: not read from a file)
    end_line: int = 0  # its last line

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "text": self.text, "glob": self.glob, "category": self.category,
                "matches": self.matches, "fingerprint": self.fingerprint, "origin": self.origin, "title": self.title,
                "line": self.line, "endLine": self.end_line}


@dataclass(frozen=True)
class Section:
    """A ``## `` section as it is in the file, understood or not (removal works on broken ones too)."""

    id: str
    line: int
    end_line: int


@dataclass
class RuleSet:
    path: Path
    rules: list[Rule] = field(default_factory=list)
    problems: list[RuleProblem] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    exists: bool = False
    text: str = ""

    def get(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id.lower() == rule_id.lower()), None)


def rules_path(workspace: Path) -> Path:
    return workspace / RULES_FILE


# -- reading ---------------------------------------------------------------------------------------


def load_rules(workspace: Path) -> RuleSet:
    """The workspace's rules (blocking: call it in a worker thread). A missing file is an empty set; one
    that cannot be read is an empty set with the reason as its problem."""
    path = rules_path(workspace)
    refused = _refusal(workspace, path)
    if refused is not None:
        return RuleSet(path, problems=[RuleProblem(str(path), 0, f"{refused}; no project rule applies (and none "
                                                   "is written) until it is a plain file in the project")],
                       exists=True)
    try:
        with open(path, "rb") as handle:  # a regular file (checked): reading it cannot block
            data = handle.read(MAX_RULES_BYTES + 1)
        text = data.decode("utf-8")
    except FileNotFoundError:
        return RuleSet(path)
    except (OSError, UnicodeDecodeError) as exc:
        return RuleSet(path, problems=[RuleProblem(str(path), 0, f"cannot be read ({exc}); no project rule "
                                                   "applies until it can")], exists=True)
    if len(data) > MAX_RULES_BYTES:
        return RuleSet(path, problems=[RuleProblem(str(path), 0, f"is over {MAX_RULES_BYTES // 1024} KiB; no "
                                                   "project rule applies until it is shorter")], exists=True)
    return parse_rules(text, path)


MAX_RULES_BYTES = 256 * 1024  # every agent's prompt gets a few KiB of it: far more is a mistake or an attack


def _refusal(workspace: Path, path: Path) -> str | None:
    """Why the rules file may not be read or written: the file (or ``.claude``) is a link that leads out of the
    project, or not a regular file. The file is repository text: a planted link could otherwise put a file
    from the home folder into every agent's prompt, or have a dismissal write into it."""
    try:
        root = workspace.resolve()
        target = path.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of links
        return f"cannot be resolved ({exc})"
    if target != root and root not in target.parents:
        return f"leads out of the project (to {target})"
    try:
        info = target.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    return None if stat.S_ISREG(info.st_mode) else "is not a regular file"


def parse_rules(text: str, path: Path) -> RuleSet:
    """Every rule of the file; what cannot be understood is a problem (file, line, what to do)."""
    found = RuleSet(path, exists=True, text=text)
    lines = text.splitlines()
    starts, fenced = [], False
    for index, line in enumerate(lines):  # a "## " inside a code block is an example, not a rule
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and _HEADING.match(line):
            starts.append(index)
    for n, start in enumerate(starts):
        end = (starts[n + 1] if n + 1 < len(starts) else len(lines)) - 1
        while end > start and not lines[end].strip():
            end -= 1
        read = _section(lines, start, end, str(path))
        if isinstance(read, RuleProblem):
            found.problems.append(read)
            continue
        rule, section, problem = read
        if any(s.id.lower() == section.id.lower() for s in found.sections):
            found.problems.append(RuleProblem(str(path), start + 1, f"rule {rule.id!r} has the same id as a rule "
                                              "above it; give it another id (it is not applied until then)"))
            continue
        found.sections.append(section)
        problem = problem or _check(rule, str(path))
        if problem is not None:
            found.problems.append(problem)
        else:
            found.rules.append(rule)
    return found


def _section(lines: list[str], start: int, end: int, path: str) -> tuple[Rule, Section, RuleProblem | None] | RuleProblem:
    """The section's rule (and what is wrong with it), or the problem of a heading without an id."""
    heading = _HEADING.match(lines[start])
    assert heading is not None
    named = _ID.match(heading.group("rest"))
    if named is None or (named.group("title") and named.group("title")[0] not in _SEPARATORS):
        return RuleProblem(path, start + 1, "a rule's heading starts with its id (letters, digits, '-', '_', '.'), "
                                            "e.g. '## R-1a2b3c · No N+1 warnings in migrations'; this section is "
                                            "not applied until it has one")
    fields: dict[str, str] = {}
    body: list[str] = []
    in_fence = False
    for line in _COMMENT.sub("", "\n".join(lines[start + 1:end + 1])).splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else _FIELD.match(line)
        key = _ALIASES.get(_key(match.group("key"))) if match else None
        if match and key and key not in fields:
            fields[key] = match.group("value")
        else:
            body.append(line)
    kind = _kind(fields.get("kind"))
    text = "\n".join(body).strip()
    rule = Rule(
        id=named.group("id").rstrip(".-"), kind=kind or "false-positive", text=text,
        glob=_unquote(fields.get("glob", "")) or EVERYWHERE, category=_unquote(fields.get("category", "")) or None,
        matches=_unquote(fields.get("matches", "")) or None,
        fingerprint=_unquote(fields.get("fingerprint", "")) or None, origin=fields.get("origin", "").strip(),
        title=named.group("title").strip(_SEPARATORS), line=start + 1, end_line=end + 1,
    )
    problem = None
    if fields.get("kind") is not None and kind is None:
        problem = RuleProblem(path, start + 1, f"rule {rule.id!r}: kind {fields['kind'].strip()!r} is not one of "
                                               f"{', '.join(KINDS)}; this rule is not applied until it is")
    return rule, Section(rule.id, start + 1, end + 1), problem


def _check(rule: Rule, path: str) -> RuleProblem | None:
    if not rule.text:
        return RuleProblem(path, rule.line, f"rule {rule.id!r} has no text: write below its fields what reviewers "
                                            "should know (it is not applied until then)")
    problem = glob_problem(rule.glob)
    if problem is not None:
        return RuleProblem(path, rule.line, f"rule {rule.id!r}: 'applies to' {rule.glob!r}: {problem}")
    return None


def _key(raw: str) -> str:
    return re.sub(r"[\s_]+", "-", raw.strip().lower())


def _kind(raw: str | None) -> Kind | None:
    if raw is None:
        return None
    word = _KIND_WORDS.get(re.sub(r"[\s_]+", "-", _unquote(raw).lower().replace("’", "'")))
    return cast(Kind, word) if word is not None else None


def _unquote(value: str) -> str:
    value = value.strip()
    for left, right in (("`", "`"), ('"', '"'), ("'", "'"), ("“", "”")):
        if len(value) >= 2 and value.startswith(left) and value.endswith(right):
            return value[len(left):-len(right)].strip()
    return value


# -- writing ---------------------------------------------------------------------------------------


def format_rule(rule: Rule) -> str:
    """One rule as its ``## `` section (no trailing blank line)."""
    lines = [f"## {rule.id}" + (f" · {_one_line(rule.title)}" if rule.title else ""), "", f"- kind: {rule.kind}",
             f"- applies to: {_code(rule.glob)}"]
    if rule.category:
        lines.append(f"- category: {_code(rule.category)}")
    if rule.matches:
        lines.append(f"- matches: {_code(rule.matches)}")
    if rule.fingerprint:
        lines.append(f"- fingerprint: {_code(rule.fingerprint)}")
    if rule.origin:
        lines.append(f"- origin: {_one_line(rule.origin)}")
    return "\n".join([*lines, "", rule.text.strip()])


def format_rules(rules: list[Rule]) -> str:
    """A whole rules file: the header, then each rule's section."""
    return "\n\n".join([HEADER.rstrip(), *(format_rule(rule) for rule in rules)]) + "\n"


def _code(value: str) -> str:
    value = _one_line(value)
    return value if "`" in value else f"`{value}`"


def _one_line(value: str) -> str:
    return " ".join(value.split())


def new_rule_id(seed: str, taken: set[str]) -> str:
    """``R-`` and six hex digits of ``seed``'s hash (more when taken): stable, and unlikely to collide when
    two branches each add rules."""
    digest = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()
    lowered = {t.lower() for t in taken}
    for width in range(6, len(digest) + 1):
        candidate = f"R-{digest[:width]}"
        if candidate.lower() not in lowered:
            return candidate
    raise RulesError("no free rule id")  # 2**256 rules: not in this universe


def add_rule(workspace: Path, rule: Rule) -> Rule:
    """Append ``rule`` (its id made unique when empty or taken) to the workspace's rules file; the rule as
    written, with its line numbers. Blocking. Other sections are kept exactly as they are."""
    with _WRITING:
        return _add(workspace, rule)


def _add(workspace: Path, rule: Rule) -> Rule:
    current = load_rules(workspace)
    if current.exists and not current.text and current.problems:
        raise RulesError(str(current.problems[0]))
    taken = {s.id for s in current.sections}
    rule_id = rule.id if rule.id and rule.id.lower() not in {t.lower() for t in taken} else \
        new_rule_id(f"{rule.fingerprint or ''}\0{rule.kind}\0{rule.glob}\0{rule.category}\0{rule.text}", taken)
    rule = replace(rule, id=rule_id)
    text = current.text if current.text.strip() else HEADER
    text = text.rstrip("\n") + "\n\n" + format_rule(rule) + "\n"
    _write(current.path, text)
    written = parse_rules(text, current.path).get(rule_id)
    if written is None:  # what was just formatted must read back: anything else is a bug worth hearing about
        raise RulesError(f"the rule written to {current.path} does not read back; please report this")
    return written


def remove_rule(workspace: Path, rule_id: str) -> Section:
    """Delete the section of ``rule_id`` (understood or not) from the rules file; the section removed."""
    with _WRITING:
        return _remove(workspace, rule_id)


def _remove(workspace: Path, rule_id: str) -> Section:
    current = load_rules(workspace)
    section = next((s for s in current.sections if s.id.lower() == rule_id.strip().lower()), None)
    if section is None:
        known = ", ".join(s.id for s in current.sections) or "none"
        raise RulesError(f"no rule {rule_id!r} in {current.path} (rules there: {known}); "
                         "`workcrew rules list` shows them")
    lines = current.text.splitlines(keepends=True)
    before, after = section.line - 1, section.end_line
    while after < len(lines) and not lines[after].strip():
        after += 1  # the blank lines after the section go with it
    if after == len(lines):  # the last section: the blank lines that separated it go instead
        while before > 0 and not lines[before - 1].strip():
            before -= 1
    _write(current.path, "".join(lines[:before] + lines[after:]))
    return section


def _write(path: Path, text: str) -> None:
    """Write the file whole or not at all (a crash never leaves half a rules file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=".workcrew-rules.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise RulesError(f"cannot write {path}: {exc}") from None


# -- rules from dismissed findings ----------------------------------------------------------------


def default_glob(path: str) -> str:
    """Where a rule from a finding in ``path`` applies: the finding's folder (the whole project for a file
    at the root) — the class of finding, not the one file; ``matches`` keeps the backstop narrow."""
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    return f"{folder}/**" if folder else EVERYWHERE


def written_rule(kind: Kind, text: str, *, glob: str, category: str | None = None, matches: str | None = None,
                 added_by: str, today: date | None = None) -> Rule:
    """A rule written by hand (no id yet: :func:`add_rule` gives one); ``added_by`` says where, for its origin."""
    body = _one_line(text)
    return Rule(id="", kind=kind, text=body, glob=glob, category=category or None, matches=matches or None,
                origin=f"added {added_by} on {(today or date.today()).isoformat()}",
                title=body if len(body) <= 60 else body[:59] + "…")


def rule_from_finding(finding: dict[str, Any], kind: Kind, note: str | None = None, *, glob: str | None = None,
                      today: date | None = None) -> Rule:
    """The rule a dismissed finding teaches (no id yet: :func:`add_rule` gives one). Its text speaks of the
    class of finding (its category and title) so that agents recognise the next one that looks like it."""
    location = finding.get("location") or {}
    path = str(location.get("path") or "")
    title = _one_line(str(finding.get("title") or "this finding"))
    category = str(finding.get("category") or "") or None
    scope = glob or default_glob(path)
    what = f"{category} findings like “{title}”" if category else f"findings like “{title}”"
    opening = {"false-positive": f"Not a bug in this project: {what}.",
               "intended": f"Intended behaviour in this project, not a defect: {what}.",
               "wont-fix": f"Known and accepted in this project (won't fix): {what}."}[kind]
    note = _one_line(note or "")
    if note:
        note = note[0].upper() + note[1:] + ("" if note[-1] in ".!?" else ".")
    where = f"`{path}:{location.get('start_line') or 1}`" if path else "an unknown place"
    return Rule(
        id="", kind=kind, text=" ".join(part for part in (opening, note, f"Applies to `{scope}`.") if part),
        glob=scope, category=category, matches=title.lower(), fingerprint=str(finding.get("fingerprint") or "") or None,
        origin=f"“{title}” at {where}, dismissed as {KIND_LABELS[kind]} on {(today or date.today()).isoformat()}",
        title=title,
    )
