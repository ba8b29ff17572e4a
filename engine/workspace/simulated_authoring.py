"""The simulated orchestrator: a runnable workflow for a request, with no model and no scenario.

With ``provider = simulated`` and no scenario (the free first run) nothing can write a script, so the
request is matched to the built-in pattern that fits it — review (bugs, security, audits), fix, migrate,
understand (explain, document), a skill audit — or, failing all, a generic scout → workers → verify
script, and that pattern is filled in with the request. The script is then checked, saved and run like
any orchestrator's (``authoring.author_workflow`` drives it through a one-rule scenario, so usage,
progress and the repair loop stay the same). Its header says a template wrote it, not a model.
"""

from __future__ import annotations

import json
import re
from string import Template
from typing import Any

ORCHESTRATOR_SCENARIO = "<simulated orchestrator>"
MAX_FILES = 50  # files a generated script works on by default; the rest are reported as dropped

HEADER = """\
# Written by Workcrew's simulated orchestrator (provider "simulated", no scenario): no model wrote this.
# It is the built-in $pattern pattern filled in for your request; edit it freely, or write one with the
# anthropic provider. With the simulated provider its agents answer from patterns and say "(simulated)".
"""

INPUTS = """\
inputs = args if isinstance(args, dict) and args else ({"files": args} if isinstance(args, list) and args else DEFAULT_ARGS)
max_files = int(inputs.get("max_files") or $max_files)
selection = inputs.get("selection")
files = list(inputs.get("files") or [])
dropped = [{"item": path, "reason": f"over max_files={max_files}"} for path in files[max_files:]]
if dropped:
    log(f"working on the first {max_files} of {len(files)} files; {len(dropped)} dropped (raise max_files)")
files = files[:max_files]
if not files:
    log("no files in scope: nothing to do (pass files in args)")
    return {"summary": "No files in scope: nothing to do.", "files": [], "dropped": dropped}


def lines_hint(path):
    if selection and selection.get("path") == path:
        return f" Look first at lines {selection['start_line']}-{selection['end_line']}, the user's selection."
    return ""

"""

FILE_ARGS = """\
        "files": "workspace-relative files to work on (default: the scope this workflow was written for)",
        "selection": "optional {path, start_line, end_line}: lines to look at first",
        "max_files": "how many files to work on (default $max_files); the rest are reported as dropped",
"""

REVIEW = """\
meta = {
    "name": $name,
    "description": $description,
    "when_to_use": $when,
    "phases": [{"title": "Find"}, {"title": "Verify"}, {"title": "Report"}],
    "args": {
$file_args        "skeptics": "independent skeptics per finding (default 3); a majority must uphold it",
    },
}

$header
REQUEST = $request
FOCUS = $focus
FINDINGS = {"type": "object", "required": ["findings"],
            "properties": {"findings": {"type": "array", "items": CANDIDATE}}}

$inputs
skeptics = int(inputs.get("skeptics") or 3)
log(f"reviewing {len(files)} files; each finding gets {skeptics} skeptics, {skeptics // 2 + 1} must uphold it")


def find(path):
    return agent(
        f"Review {path} for this request: {REQUEST}. Look for {FOCUS}.{lines_hint(path)} Read the file. For each "
        "real problem give the line, a short title, a message explaining the failure, the exact snippet and, when "
        "the fix is local, an exact-text fix {old, new} where old occurs once in the file. Report nothing you "
        "cannot point at; answer an empty list when there is nothing.",
        schema=FINDINGS, label=f"find {path}", phase="Find",
    )


async def verify(found, path):
    if found is None:
        return None

    async def judge(bug):
        outcome = await vote(f"the problem in {path} at line {bug['line']}: {bug['title']}. {bug.get('message') or ''}",
                             n=skeptics, label=f"{path}:{bug['line']}", phase="Verify")
        made = finding(bug, path=path, outcome=outcome, category=$category)
        if outcome["verdict"] != "refuted":
            report(made)
        return made

    checked = await parallel([judge(bug) for bug in found["findings"]])
    return [f for f in checked if f is not None]


results = await pipeline(files, find, verify)

phase("Report")
for index, path in enumerate(files):
    if results[index] is None:
        dropped.append({"item": path, "reason": f"not reviewed: {results.reasons.get(index, 'the finder failed')}"})
sorted_out = verdicts([f for item in results if item for f in item], dropped)
counts = sorted_out["counts"]
summary = (f"Reviewed {results.succeeded} of {len(files)} files: {counts['candidates']} candidate findings, "
           f"{counts['confirmed']} confirmed, {counts['unverified']} unverified, {counts['refuted']} refuted.")
log(summary)
return {"summary": summary, "files": files, "reviewed": results.succeeded, **sorted_out, "dropped": dropped}
"""

FIX = """\
meta = {
    "name": $name,
    "description": $description,
    "when_to_use": $when,
    "phases": [{"title": "Find"}, {"title": "Verify"}, {"title": "Fix"}, {"title": "Report"}],
    "args": {
$file_args        "test_command": "the check each patch must pass in its private worktree (default: python -m pytest -q)",
    },
}

$header
REQUEST = $request
FINDINGS = {"type": "object", "required": ["findings"],
            "properties": {"findings": {"type": "array", "items": CANDIDATE}}}
FIXED = {"type": "object", "required": ["summary"], "properties": {"summary": {"type": "string"}}}

$inputs
test_command = inputs.get("test_command") or "python -m pytest -q"


def find(path):
    return agent(
        f"Find what must be fixed in {path} for this request: {REQUEST}.{lines_hint(path)} Read the file. For each "
        "problem give the line, a short title, a message and the exact snippet; answer an empty list when there is "
        "nothing.",
        schema=FINDINGS, label=f"find {path}", phase="Find",
    )


async def confirm(found, path):
    if found is None:
        return None
    outcomes = await parallel([vote(f"the problem in {path} at line {bug['line']}: {bug['title']}",
                                    n=1, label=f"{path}:{bug['line']}", phase="Verify") for bug in found["findings"]])
    return [finding(bug, path=path, outcome=outcome) for bug, outcome in zip(found["findings"], outcomes)
            if outcome is not None]


async def fix(checked, path):
    if checked is None:
        return None
    done = []
    for made in checked:
        if made["verdict"] != "confirmed":
            done.append({"finding": made, "fixed": None})
            continue
        line = made["location"]["start_line"]
        outcome = await fix_loop(f"Fix this confirmed problem in {path}:{line}: {made['title']}. {made['message']}",
                                 test_command, rounds=2, schema=FIXED, label=f"fix {path}:{line}", phase="Fix")
        done.append({"finding": made, "fixed": outcome["fixed"], "attempts": outcome["attempts"]})
    return done


results = await pipeline(files, find, confirm, fix)

phase("Report")
fixed, unfixed = [], []
for index, path in enumerate(files):
    if results[index] is None:
        dropped.append({"item": path, "reason": f"not fixed: {results.reasons.get(index, 'an agent failed')}"})
        continue
    for item in results[index]:
        made = item["finding"]
        if item["fixed"] is not None:
            report({**made, "fix": item["fixed"]})
            fixed.append(made["title"])
        else:
            made.pop("fix", None)  # only a patch that passed the tests is offered as a fix
            report(made)
            unfixed.append({"title": made["title"], "verdict": made["verdict"], "attempts": item.get("attempts") or []})
summary = f"Fixed {len(fixed)} problems with patches that pass `{test_command}`; {len(unfixed)} not fixed."
log(summary)
return {"summary": summary, "fixed": fixed, "unfixed": unfixed, "dropped": dropped}
"""

MIGRATE = """\
meta = {
    "name": $name,
    "description": $description,
    "when_to_use": $when,
    "phases": [{"title": "Transform"}, {"title": "Verify"}, {"title": "Report"}],
    "args": {
$file_args        "test_command": "a check each changed file must pass in its worktree (default: none)",
    },
}

$header
CHANGE = $request
TRANSFORMED = {"type": "object", "required": ["summary"], "properties": {"summary": {"type": "string"}}}

$inputs
test_command = inputs.get("test_command")


def transform(path):
    return agent(
        f"Apply this change to {path} only: {CHANGE}.{lines_hint(path)} Edit the file in your private copy with "
        "edit_file and change nothing else; change nothing when the file needs no change. Answer with a one-line summary.",
        schema=TRANSFORMED, isolation="worktree", label=f"transform {path}", phase="Transform",
    )


async def verify(changed, path):
    if changed is None:
        return None
    try:
        patch = changed.patch
    except AttributeError:  # no worktree came back: nothing was changed
        patch = None
    if patch is None or not patch.edits:
        return {"path": path, "outcome": "unchanged"}
    if test_command:
        checked = await check(test_command, isolation=changed)
        if checked["exit_code"] != 0:
            return {"path": path, "outcome": "rejected", "reason": f"`{test_command}` exited {checked['exit_code']}"}
    outcome = await vote(f"this patch to {path} makes exactly the change '{CHANGE}' and nothing else:\\n{patch.diff}",
                         n=1, label=path, phase="Verify")
    if outcome["verdict"] != "confirmed":
        return {"path": path, "outcome": "rejected", "reason": "; ".join(outcome["notes"])}
    report({"title": f"Change {path}: {CHANGE}"[:120], "message": changed["summary"], "severity": "info",
            "category": "migration", "location": {"path": path, "start_line": 1}, "verdict": "confirmed",
            "votes": outcome["votes"], "fix": changed})
    return {"path": path, "outcome": "changed", "summary": changed["summary"]}


results = await pipeline(files, transform, verify)

phase("Report")
outcomes = {"changed": [], "unchanged": [], "rejected": []}
for index, path in enumerate(files):
    if results[index] is None:
        dropped.append({"item": path, "reason": f"not changed: {results.reasons.get(index, 'the transformer failed')}"})
    else:
        outcomes[results[index]["outcome"]].append(results[index])
summary = (f"{len(outcomes['changed'])} of {len(files)} files changed and approved, {len(outcomes['unchanged'])} "
           f"needed no change, {len(outcomes['rejected'])} rejected, {len(dropped)} dropped.")
log(summary)
return {"summary": summary, **outcomes, "dropped": dropped}
"""

UNDERSTAND = """\
meta = {
    "name": $name,
    "description": $description,
    "when_to_use": $when,
    "phases": [{"title": "Read"}, {"title": "Synthesize"}],
    "args": {
$file_args    },
}

import json

$header
QUESTION = $request
BATCH = 8  # files per reader
NOTES = {
    "type": "object",
    "required": ["summary", "key_symbols", "depends_on"],
    "properties": {"summary": {"type": "string"}, "key_symbols": {"type": "array", "items": {"type": "string"}},
                   "depends_on": {"type": "array", "items": {"type": "string"}}},
}
MAP = {
    "type": "object",
    "required": ["overview", "where_to_start", "answer"],
    "properties": {"overview": {"type": "string"}, "answer": {"type": "string"},
                   "where_to_start": {"type": "array", "items": {"type": "string"}}},
}

$inputs
batches = [files[i:i + BATCH] for i in range(0, len(files), BATCH)]

phase("Read")
notes = await parallel([
    agent(f"Read {', '.join(batch)} and describe them for someone new to the code, with this in mind: {QUESTION}. "
          "Give a summary, the key functions or classes and what they depend on.",
          schema=NOTES, label=f"read {batch[0]}" + (f" (+{len(batch) - 1})" if len(batch) > 1 else ""),
          phase="Read", effort="low")
    for batch in batches
])
read = []
for index, batch in enumerate(batches):
    if notes[index] is None:
        dropped += [{"item": path, "reason": f"not read: {notes.reasons.get(index)}"} for path in batch]
    else:
        read.append({"files": batch, **notes[index]})
if not read:
    return {"summary": "No map: every reader failed.", "dropped": dropped}

phase("Synthesize")
code_map = await agent(
    f"Merge these readings into one map of the code: an overview, where a newcomer should start, and an answer to: "
    f"{QUESTION}\\n\\nReadings:\\n{json.dumps(read)}",
    schema=MAP, label="synthesize map", phase="Synthesize",
)
if code_map is None:
    dropped.append({"item": "map", "reason": "the synthesizer failed; the readings are returned as they are"})
summary = f"Read {sum(len(r['files']) for r in read)} of {len(files)} files." + (
    f" {code_map['overview']} Start with: {', '.join(code_map['where_to_start']) or 'the readings'}." if code_map else "")
log(summary)
return {"summary": summary, "map": code_map, "readings": read, "dropped": dropped}
"""

GENERIC = """\
meta = {
    "name": $name,
    "description": $description,
    "when_to_use": $when,
    "phases": [{"title": "Work"}, {"title": "Verify"}, {"title": "Report"}],
    "args": {
$file_args    },
}

$header
TASK = $request
DONE = {
    "type": "object",
    "required": ["summary", "notes"],
    "properties": {"summary": {"type": "string"}, "notes": {"type": "array", "items": {
        "type": "object", "required": ["line", "note"],
        "properties": {"line": {"type": "integer", "minimum": 1}, "note": {"type": "string"}}}}},
}

$inputs


def work(path):
    return agent(
        f"Do this for {path}: {TASK}.{lines_hint(path)} Read the file first. Do not edit files. Answer with a short "
        "summary and notes (line, note) on what you found or would change.",
        schema=DONE, label=f"work {path}", phase="Work",
    )


async def verify(done, path):
    if done is None:
        return None
    outcome = await vote(f"this answer for {path} to the task '{TASK}' is correct and complete: {done['summary']}",
                         n=1, label=path, phase="Verify")
    return {"path": path, "summary": done["summary"], "notes": done["notes"], "verdict": outcome["verdict"],
            "reasons": outcome["notes"]}


results = await pipeline(files, work, verify)

phase("Report")
answers = []
for index, path in enumerate(files):
    if results[index] is None:
        dropped.append({"item": path, "reason": f"no answer: {results.reasons.get(index, 'the worker failed')}"})
    else:
        answers.append(results[index])
upheld = [a for a in answers if a["verdict"] == "confirmed"]
summary = f"{len(answers)} of {len(files)} files answered, {len(upheld)} upheld by the checker, {len(dropped)} dropped."
log(summary)
return {"summary": summary, "answers": answers, "dropped": dropped}
"""


class Pattern:
    """A built-in pattern a request can map to: its template and the words that select it."""

    def __init__(self, name: str, template: str, words: str, description: str, when: str) -> None:
        self.name = name
        self.template = template
        self.words = re.compile(words, re.I) if words else None
        self.description = description
        self.when = when


# first match wins: "fix the bugs" is a fix, "find bugs" a review
PATTERNS = (
    Pattern("skill-audit", REVIEW, r"\bskills?\b|SKILL\.md|CLAUDE\.md|agent instructions",
            "Audit the skill and instruction files in scope for: {request}; skeptics verify each issue",
            "When skills or agent instructions have grown duplicated, outdated or conflicting"),
    Pattern("migrate", MIGRATE, r"\bmigrat|\brenam|\bupgrad|\bport (it |this |them )?to\b|\bconvert|\breplace\b.*\bwith\b"
            r"|\bswitch\b.*\bto\b",
            "Apply this change file by file, each in a private worktree and checked: {request}",
            "A mechanical change across many files that can each be changed and checked on their own"),
    Pattern("fix", FIX, r"\bfix|\bmake (the )?tests? pass|\bfailing tests?\b|\brepair",
            "Find, confirm and fix, with patches that pass the tests: {request}",
            "When the problems are real and the tests can judge a patch"),
    Pattern("understand", UNDERSTAND, r"\bexplain|\bunderstand|\bdocument|\boverview|\bmap\b|\bonboard|\bhow (do|does|is)\b"
            r"|\barchitecture|\bsummar|\bdescribe|\bwalk ?through|\bwhat does\b",
            "Read the files in scope in parallel and synthesize one map to answer: {request}",
            "Before changing unfamiliar code or to answer a question about it"),
    Pattern("review", REVIEW, r"\bbugs?\b|\breview|\bsecur|\bvulnerab|\baudit|\bcrash|\bleak|\brace\b|\binject"
            r"|\bcheck|\bproblems?\b|\bissues?\b|\berrors?\b|\bexception|\bzero\b|\bsmell|\blint",
            "Review the files in scope for: {request}; three skeptics try to refute each finding",
            "Before merging a change or when auditing code: every finding is verified"),
)
GENERIC_PATTERN = Pattern("generic", GENERIC, "", "Do this file by file and check each answer: {request}",
                          "A task that can be done one file at a time")
FOCUS = {
    "skill-audit": "instructions that are duplicated, outdated (they name files, commands or tools that changed) "
                   "or conflicting",
    "review": "real bugs: crashes, wrong results, data loss, security holes (not style or naming)",
}


def choose_pattern(request: str) -> Pattern:
    """The built-in pattern whose words the request uses (the first in :data:`PATTERNS`), else the generic one."""
    for pattern in PATTERNS:
        if pattern.words is not None and pattern.words.search(request):
            return pattern
    return GENERIC_PATTERN


def _literal(value: str) -> str:
    """A Python string literal for ``value`` (JSON's string syntax is Python's)."""
    return json.dumps(value)


def simulated_script(request: str, name: str) -> str:
    """The workflow the simulated orchestrator answers for ``request``: a built-in pattern filled in, named
    ``name``. It reads ``DEFAULT_ARGS``, which ``authoring`` inserts after the meta (the scope)."""
    pattern = choose_pattern(request)
    text = " ".join(request.split())
    short = text if len(text) <= 160 else text[:157] + "..."
    fields: dict[str, Any] = {
        "name": _literal(name),
        "description": _literal(pattern.description.replace("{request}", short)),
        "when": _literal(pattern.when + f" (simulated orchestrator: the {pattern.name} pattern)"),
        "request": _literal(text),
        "focus": _literal(FOCUS.get(pattern.name, FOCUS["review"])),
        "category": _literal("skill" if pattern.name == "skill-audit" else "bug"),
        "header": Template(HEADER).substitute(pattern=pattern.name),
        "file_args": Template(FILE_ARGS).substitute(max_files=MAX_FILES),
        "inputs": Template(INPUTS).substitute(max_files=MAX_FILES),
    }
    return Template(pattern.template).substitute(fields)


def orchestrator_scenario(request: str, name: str) -> dict[str, Any]:
    """A one-rule scenario in which the orchestrator answers :func:`simulated_script` for ``request``."""
    return {"rules": [{"match": {"role": "orchestrator"}, "respond": {"text": simulated_script(request, name)}}]}
