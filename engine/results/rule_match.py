"""What project rules do in a run: the section of every agent's system prompt that states them, and the
deterministic backstop that keeps a finding a rule covers from being published."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .globs import matches_path
from .rules import RULES_FILE, Rule

PROMPT_LIMIT = 4000  # characters of rules per agent (~1k tokens); the rest are named by count
_PATHLIKE = re.compile(r"[\w.@+-]*(?:/[\w.@+-]+)+|[\w@+-][\w.@+-]*\.[A-Za-z][\w]{0,9}\b")
MAX_PATHS = 200  # path-like words of a prompt checked against the rules' globs


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).lower()


def covering_rule(rules: Iterable[Rule], *, fingerprint: str, category: str, path: str, title: str) -> Rule | None:
    """The first rule that covers a finding: the same fingerprint, or the rule's category, a path its globs
    match and a title containing its ``matches``. A rule without a category only guides the agents: on
    its own it never hides a finding, since categories like ``bug`` are far wider than what was dismissed."""
    for rule in rules:
        if rule.fingerprint and rule.fingerprint == fingerprint:
            return rule
        if rule.category is None or rule.category.strip().lower() != category.strip().lower():
            continue
        if not matches_path(rule.glob, path):
            continue
        if rule.matches and _norm(rule.matches) not in _norm(title):
            continue
        return rule
    return None


def prompt_paths(prompt: str) -> list[str]:
    """The words of a prompt that look like workspace paths (``calc.py``, ``src/app/``), first ones first."""
    seen: dict[str, None] = {}
    for match in _PATHLIKE.finditer(prompt):
        word = match.group(0).rstrip(".")  # the end of a sentence
        while word.startswith("./"):
            word = word[2:]
        if word:
            seen.setdefault(word, None)
            if len(seen) >= MAX_PATHS:
                break
    return list(seen)


def prompt_section(rules: list[Rule], prompt: str, *, limit: int = PROMPT_LIMIT) -> str:
    """The "Project review rules" section of an agent's system prompt ("" without rules): rules whose globs
    match a file the prompt names come first, then the rest in file order, up to ``limit`` characters."""
    if not rules:
        return ""
    paths = prompt_paths(prompt)
    relevant = [rule for rule in rules if any(matches_path(rule.glob, path) for path in paths)]
    ordered = relevant + [rule for rule in rules if rule not in relevant]
    head = (f"Project review rules ({RULES_FILE}). This project's maintainers wrote these, mostly from findings "
            "they dismissed. Each speaks for a kind of finding, not one line: do not report a finding a rule covers "
            "where the rule applies; when you are asked to verify or refute such a finding, treat it as not a real "
            "problem and name the rule's id. A rule does not excuse a different, real problem.")
    lines: list[str] = [head]
    used = len(head)
    left_out = 0
    for rule in ordered:
        scope = f"applies to {rule.glob}" + (f"; category {rule.category}" if rule.category else "")
        line = f"- [{rule.id}] ({rule.kind}; {scope}) {' '.join(rule.text.split())}"
        if used + len(line) + 1 > limit:
            left_out += 1
            continue
        lines.append(line)
        used += len(line) + 1
    if left_out:
        lines.append(f"({left_out} more rules are in {RULES_FILE}; read it when a finding may be one of them.)")
    return "\n".join(lines)
