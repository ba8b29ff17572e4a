"""``workcrew.dismissFinding``: hide a finding now and in later runs, remember why, and teach a project rule.

The reason is stored with the dismissal as ``<kind>`` or ``<kind>: <note>`` (the resolution rates read that
format). A false positive or an intended behaviour also becomes a rule in ``.claude/workcrew-rules.md``
(``engine/results/rules.py``) that later runs' agents read and that keeps such findings from being shown.
Without a reason the server asks with ``window/showMessageRequest``, which every client answers (VS Code's
extension asks first, with a note: ``vscode-extension/src/dismiss.ts``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import anyio
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from workcrew.engine.results.globs import glob_problem
from workcrew.engine.results.rule_match import covering_rule
from workcrew.engine.results.rules import Kind, RulesError, add_rule, rule_from_finding, rules_path

from .params import DismissParams, failed, parse

if TYPE_CHECKING:
    from .protocol import Server

REASONS: dict[str, Kind] = {"False positive": "false-positive", "Intended": "intended", "Won't fix": "wont-fix"}
CANCEL = "Cancel"
TEACHING: tuple[Kind, ...] = ("false-positive", "intended")  # reasons that make a rule unless told otherwise


def stored_reason(kind: str, note: str | None) -> str:
    """The dismissals table's ``reason``: ``<kind>`` or ``<kind>: <note>`` (read by the resolution rates)."""
    note = " ".join((note or "").split())
    return f"{kind}: {note}" if note else kind


async def dismiss_finding(ls: Server, *args: Any) -> dict[str, Any]:
    params = parse(DismissParams, "workcrew.dismissFinding", args)
    if params.glob is not None and (problem := glob_problem(params.glob)) is not None:
        raise JsonRpcInvalidParams(f"workcrew.dismissFinding: glob {params.glob!r}: {problem}")
    finding = _finding(ls, params.finding_id)
    fingerprint = str(finding.get("fingerprint") or "") if finding is not None else ""
    if finding is None or not fingerprint:
        raise failed(f"no finding {params.finding_id!r}: it may belong to a run whose records were deleted; "
                     "run the workflow again")
    kind = params.reason or await _ask_reason(ls, finding)
    answer: dict[str, Any] = {"findingId": params.finding_id, "fingerprint": fingerprint, "dismissed": False,
                              "removed": [], "reason": None, "rule": None}
    if kind is None:
        return answer  # the user closed the question: nothing is dismissed
    note = " ".join((params.note or "").split()) or None
    if ls.run_store is not None:
        ls.run_store.dismiss(fingerprint, reason=stored_reason(kind, note))
    answer.update(dismissed=True, reason=stored_reason(kind, note), removed=ls.diagnostics_store.dismiss(fingerprint))
    await ls.diagnostics_store.flush(final=True)
    if params.rule if params.rule is not None else kind in TEACHING:
        answer["rule"], answer["ruleError"] = await _teach(ls, finding, kind, note, params.glob)
        if answer["rule"] is not None:
            answer["alsoDismissed"] = await _apply_rule(ls, answer["rule"], kind)
    return answer


async def _apply_rule(ls: Server, rule: dict[str, Any], kind: Kind) -> list[str]:
    """The other open findings the new rule covers are dismissed with it (a later run would suppress them
    anyway; they must not linger until then): their fingerprints."""
    from workcrew.engine.results.rules import load_rules

    workspace = ls.require_settings().workspace
    rules = await anyio.to_thread.run_sync(load_rules, workspace, limiter=ls.limiter)
    added = [r for r in rules.rules if r.id == rule.get("id")]
    covered: list[str] = []
    for tracked in list(ls.diagnostics_store.by_id.values()):
        location = tracked.finding.get("location") or {}
        if tracked.fingerprint in covered or covering_rule(
                added, fingerprint=tracked.fingerprint, category=str(tracked.finding.get("category") or ""),
                path=str(location.get("path") or ""), title=tracked.title) is None:
            continue
        covered.append(tracked.fingerprint)
        if ls.run_store is not None:
            ls.run_store.dismiss(tracked.fingerprint, reason=f"{kind}: rule {rule.get('id')}", keep_earlier=True)
        ls.diagnostics_store.dismiss(tracked.fingerprint)
    if covered:
        await ls.diagnostics_store.flush(final=True)
    return covered


def _finding(ls: Server, finding_id: str) -> dict[str, Any] | None:
    tracked = ls.diagnostics_store.get(finding_id)
    if tracked is not None:
        return tracked.finding
    if ls.run_store is not None:
        found = ls.run_store.find_finding(finding_id)
        if found is not None and isinstance(found[1], dict):
            return found[1]
    return None


async def _ask_reason(ls: Server, finding: dict[str, Any]) -> Kind | None:
    location = finding.get("location") or {}
    where = f" ({location.get('path')}:{location.get('start_line') or 1})" if location.get("path") else ""
    message = (f"Why dismiss “{finding.get('title') or 'this finding'}”{where}? False positive and Intended also "
               "teach later reviews a project rule (.claude/workcrew-rules.md); Won't fix hides this finding only.")
    try:
        choice = await ls.window_show_message_request_async(types.ShowMessageRequestParams(
            type=types.MessageType.Info, message=message,
            actions=[types.MessageActionItem(title=title) for title in (*REASONS, CANCEL)]))
    except Exception as exc:  # a client without showMessageRequest: the caller must say why
        raise failed(f"this editor could not be asked why ({exc}); pass the reason: "
                     "{findingId, reason: 'false-positive' | 'intended' | 'wont-fix', note?}") from None
    return REASONS.get(choice.title) if choice is not None else None


async def _teach(ls: Server, finding: dict[str, Any], kind: Kind, note: str | None,
                 glob: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """Add the rule the dismissal teaches; (the rule, None) or (None, why not). A rule that cannot be written
    does not undo the dismissal, and the user is told."""
    workspace = ls.require_settings().workspace
    draft = rule_from_finding(finding, cast(Kind, kind), note, glob=glob)
    try:
        rule = await anyio.to_thread.run_sync(add_rule, workspace, draft, limiter=ls.limiter)
    except RulesError as exc:
        message = f"Workcrew dismissed the finding but could not add its project rule: {exc}"
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))
        return None, str(exc)
    path = rules_path(workspace)
    return {**rule.to_json(), "path": str(path), "uri": path.as_uri()}, None


COMMANDS = {"workcrew.dismissFinding": dismiss_finding}
