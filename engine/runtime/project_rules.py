"""Project review rules in a run (``.claude/workcrew-rules.md``, ``results/rules.py``): read once per run, a
section of every agent's system prompt, and the backstop that counts a covered finding as suppressed.

A suppressed finding is never silent: the run logs it with the rule that covered it, emits
``finding_suppressed`` (stored with the run's events, so the report lists it) and is not published. It is
also dismissed with the rule's kind (``<kind>: rule <id>``), so an earlier run's open finding the rule now
covers leaves the editor and counts as dismissed in the resolution rates.
"""

from __future__ import annotations

import hashlib

import anyio

from ..results.findings import Finding
from ..results.rule_match import covering_rule, prompt_section
from ..results.rules import RuleSet, load_rules
from .state import RunState


async def load_for_run(state: RunState) -> None:
    """Read the workspace's rules off the event loop; each problem in the file is a warning of the run."""
    state.rules = await anyio.to_thread.run_sync(load_rules, state.settings.workspace)
    _warn(state, state.rules)


def rules_of(state: RunState) -> RuleSet:
    """The run's rules (a dry run reads them here, on first use: it has no event loop to keep free)."""
    if state.rules is None:
        state.rules = load_rules(state.settings.workspace)
        _warn(state, state.rules)
    return state.rules


def _warn(state: RunState, rules: RuleSet) -> None:
    for problem in rules.problems:
        state.warn_once(f"rules {problem}", f"project rules: {problem}")


def rules_prompt(state: RunState, prompt: str) -> tuple[str, str]:
    """(the system prompt's "Project review rules" section for an agent with ``prompt``, its digest for the
    call key); ("", "") when the project has no rules, so keys stay what they were without the file."""
    section = prompt_section(rules_of(state).rules, prompt)
    if not section:
        return "", ""
    return section, hashlib.sha256(section.encode("utf-8", "surrogatepass")).hexdigest()


def suppressed(state: RunState, finding: Finding) -> bool:
    """True when a project rule covers ``finding``: it is logged and told as ``finding_suppressed`` (the report
    and the editor count those), and the caller does not publish it."""
    rules = rules_of(state)
    rule = covering_rule(rules.rules, fingerprint=finding.fingerprint, category=finding.category,
                         path=finding.location.path, title=finding.title)
    if rule is None:
        return False
    where = f"{finding.location.path}:{finding.location.start_line}"
    state.log(f"finding “{finding.title}” at {where} suppressed by rule {rule.id} ({rules.path.name}:{rule.line})")
    state.emit("finding_suppressed", finding=finding.model_dump(mode="json"),
               rule={"id": rule.id, "kind": rule.kind, "line": rule.line, "text": rule.text})
    if state.store is not None:  # an earlier run's open finding the rule now covers is dismissed, for its reason
        state.store.dismiss(finding.fingerprint, reason=f"{rule.kind}: rule {rule.id}", keep_earlier=True)
    return True
