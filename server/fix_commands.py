"""``workcrew.applyAndVerify`` and ``workcrew.fixAll``: fixes that reach the user's files only once the check passes.

Apply and verify: the fix is made on a scratch copy of the workspace (with the editor's unsaved buffers), the
run's check command runs there in the command sandbox, and only when it passes is the fix sent to the editor
(``workspace/applyEdit``). When it fails the check runs once more without the fix, so the refusal can say
whether the fix broke the check or merely did not mend it.

Fix all (``verify``, the default): first every fix of the run at once, one check; when that passes all are
applied. Otherwise the fixes are tried one by one in the order they were reported, each on top of those
kept so far, and a fix is kept only when the check passes with it: the set applied is always one whose
check passed, whatever the fixes do to each other (a bisection would assume they do not interact). That is
one check when all is well and at most one per fix more otherwise. ``verify: false`` is
``workcrew.applyAllFixes``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
from lsprotocol import types
from workcrew.engine.agents.scratch import CheckCommand, CheckOutcome
from workcrew.engine.commands import CommandRefused
from workcrew.engine.errors import WorkcrewError

from .finding_commands import apply_all_fixes
from .params import FindingParams, FixAllParams, failed, parse
from .progress import RunProgress
from .verify import (
    Candidate,
    FixTrial,
    apply_verified,
    check_command_of,
    describe,
    overlapping,
    plan_candidates,
    scratch_copy,
)

if TYPE_CHECKING:
    from .protocol import Server


# -- what the user is told -------------------------------------------------------------------------

def _last_lines(outcome: CheckOutcome, lines: int = 6) -> str:
    return str(outcome.tail(lines=lines, chars=600))


def _failure(command: CheckCommand, outcome: CheckOutcome, without: CheckOutcome | None, what: str) -> str:
    """Why ``what`` ("the fix", "this fix") was refused, given the check with it and, if run, without it."""
    if outcome.timed_out:
        return f"`{command.text}` timed out with {what} ({outcome.duration_s:.0f} s)"
    failing = f"`{command.text}` fails with {what} (exit {outcome.exit_code})"
    if without is None:
        return failing
    if without.passed:
        return f"{what} breaks the check: {failing} and passes without it"
    return f"{failing}, as it does without it: {what} does not make it pass"


def _check_json(outcome: CheckOutcome, command: CheckCommand) -> dict[str, Any]:
    return {**outcome.to_json(), "origin": command.origin}


async def _command_for(ls: Server, run_id: str | None) -> CheckCommand:
    try:
        return await anyio.to_thread.run_sync(check_command_of, ls, run_id, limiter=ls.limiter)
    except WorkcrewError as exc:
        raise failed(str(exc)) from None


async def _with_progress(ls: Server, title: str, work: Callable[[RunProgress], Awaitable[dict[str, Any]]],
                         cancelled: dict[str, Any]) -> dict[str, Any]:
    """Run ``work`` under a cancellable progress bar; cancelling it stops the check (its sandbox is killed) and
    nothing is applied. A refused check command becomes the command's error, with the reason."""
    with anyio.CancelScope() as scope:
        progress = RunProgress(ls, scope.cancel)
        await progress.begin(title, "copying the workspace")
        try:
            return await work(progress)
        except CommandRefused as exc:
            raise failed(f"{exc}. Nothing was applied.") from None
        except WorkcrewError as exc:
            raise failed(f"the fix could not be checked: {exc}. Nothing was applied.") from None
        except OSError as exc:
            raise failed(f"the scratch copy of the workspace could not be made: {exc}. Nothing was applied.") from None
        finally:
            progress.end("cancelled" if scope.cancel_called else "done")
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info,
                                                   message="Workcrew: verification cancelled; nothing was applied."))
    return cancelled


def _require_apply_edit(ls: Server) -> None:
    if not ls.features.apply_edit:
        raise failed("this editor cannot apply edits sent by the server (workspace/applyEdit)")


# -- workcrew.applyAndVerify -----------------------------------------------------------------------

def _finding_with_fix(ls: Server, finding_id: str) -> dict[str, Any]:
    tracked = ls.diagnostics_store.get(finding_id)
    finding = tracked.finding if tracked is not None else None
    if finding is None and ls.run_store is not None:
        found = ls.run_store.find_finding(finding_id)
        finding = found[1] if found is not None else None
    if finding is None:
        raise failed(f"no finding {finding_id!r}: it was fixed, dismissed or replaced by a newer run")
    fix = finding.get("fix")
    if not isinstance(fix, dict) or not fix.get("edits"):
        raise failed(f"finding {finding_id!r} has no fix to apply")
    if tracked is not None and tracked.state == "stale":
        raise failed("the fix no longer applies: the code this finding is about has changed")
    return finding


async def apply_and_verify(ls: Server, *args: Any) -> dict[str, Any]:
    params = parse(FindingParams, "workcrew.applyAndVerify", args)
    _require_apply_edit(ls)
    finding = _finding_with_fix(ls, params.finding_id)
    command = await _command_for(ls, finding.get("run_id"))
    planned, refused = await plan_candidates(ls, [finding])
    if not planned:
        raise failed(refused[0]["reason"])
    candidate = planned[0]
    base = {"findingId": params.finding_id, "title": describe(finding)}

    async def work(progress: RunProgress) -> dict[str, Any]:
        async with scratch_copy(ls) as scratch:
            trial = FixTrial(ls, scratch, command)
            progress.report(f"running `{command.text}` with the fix", 30)
            outcome = await trial.outcome([candidate])
            if outcome.passed:
                result = await apply_verified(ls, [candidate], f"Workcrew: {candidate.title} (verified)")
                if result.applied:
                    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=(
                        f"Workcrew applied “{candidate.title}”: `{command.text}` passes with it "
                        f"({outcome.duration_s:.1f} s).")))
                    return {**base, "applied": True, "check": _check_json(outcome, command)}
                reason = result.failure_reason or "the editor refused the edit"
            else:
                progress.report(f"running `{command.text}` without the fix", 70)
                reason = _failure(command, outcome, await trial.outcome([]), "the fix")
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=(
            f"Workcrew did not apply “{candidate.title}”: {reason}.\n{_last_lines(outcome)}")))
        return {**base, "applied": False, "reason": reason, "check": _check_json(outcome, command)}

    return await _with_progress(ls, f"Workcrew: verifying “{candidate.title}”", work,
                                {**base, "applied": False, "cancelled": True, "reason": "cancelled"})


# -- workcrew.fixAll -------------------------------------------------------------------------------

def _run_fixes(ls: Server, run_id: str) -> list[dict[str, Any]]:
    """The run's confirmed findings with a fix, in the order they were reported (live ones, else stored)."""
    live = [t.finding for t in ls.diagnostics_store.run_findings(run_id)
            if t.confirmed and t.fix is not None and t.state != "stale"]
    if live or ls.run_store is None:
        return live
    return [f for f in ls.run_store.get_findings(run_id)
            if f.get("verdict") == "confirmed" and isinstance(f.get("fix"), dict) and f["fix"].get("edits")
            and f.get("fingerprint") not in ls.diagnostics_store.dismissed]


async def _choose(trial: FixTrial, candidates: list[Candidate], progress: RunProgress,
                  refused: list[dict[str, Any]]) -> list[Candidate]:
    """The fixes to keep (see the module's docstring); refusals are added to ``refused``."""
    command = trial.command
    batch: list[Candidate] = []
    for candidate in candidates:
        if overlapping(candidate, batch) is None:
            batch.append(candidate)
    progress.report(f"all {len(batch)} fix(es) at once: running `{command.text}`", 5)
    if batch and (await trial.outcome(batch)).passed:
        kept = batch
    else:
        kept = []
        failures: list[tuple[Candidate, CheckOutcome, int]] = []  # (fix, its check, how many were kept then)
        for index, candidate in enumerate(candidates, 1):
            if overlapping(candidate, kept) is not None:
                continue  # reported below, with the fix it overlaps
            progress.report(f"fix {index} of {len(candidates)}: running `{command.text}`",
                            5 + 90 * index // max(len(candidates), 1))
            outcome = await trial.outcome([*kept, candidate])
            if outcome.passed:
                kept.append(candidate)
            else:
                failures.append((candidate, outcome, len(kept)))
        # a failure with nothing kept may be the project's own: say so (one more check, without any fix)
        without = (await trial.outcome([])) if failures and not kept else None
        for candidate, outcome, below in failures:
            what = f"this fix (on top of the {below} kept before it)" if below else "this fix"
            refused.append({**candidate.to_json(), "reason": _failure(command, outcome, without, what),
                            "check": _check_json(outcome, command)})
    for candidate in candidates:
        if candidate not in kept and (other := overlapping(candidate, kept)) is not None:
            refused.append({**candidate.to_json(), "reason": f"it overlaps “{other.title}”, which was applied"})
    return kept


def _summary(run_id: str, command: CheckCommand, kept: list[Candidate], refused: list[dict[str, Any]]) -> str:
    total = len(kept) + len(refused)
    head = f"Workcrew applied {len(kept)} of {total} fix(es) of run {run_id}, verified with `{command.text}`"
    if not refused:
        return head + "."
    reasons = "; ".join(f"“{r['title']}”: {r['reason']}" for r in refused[:5])
    more = f" (and {len(refused) - 5} more)" if len(refused) > 5 else ""
    return f"{head}. Refused: {reasons}{more}."


async def fix_all(ls: Server, *args: Any) -> dict[str, Any]:
    params = parse(FixAllParams, "workcrew.fixAll", args)
    if not params.verify:
        return await apply_all_fixes(ls, {"runId": params.run_id})
    _require_apply_edit(ls)
    findings = _run_fixes(ls, params.run_id)
    base: dict[str, Any] = {"runId": params.run_id}
    if not findings:
        return {**base, "applied": False, "kept": [], "refused": [], "reason": "no confirmed fixes"}
    command = await _command_for(ls, params.run_id)
    candidates, refused = await plan_candidates(ls, findings)

    async def work(progress: RunProgress) -> dict[str, Any]:
        kept: list[Candidate] = []
        applied = False
        if candidates:
            async with scratch_copy(ls) as scratch:
                kept = await _choose(FixTrial(ls, scratch, command), candidates, progress, refused)
                if kept:
                    result = await apply_verified(ls, kept, f"Workcrew: {len(kept)} verified fix(es)")
                    applied = result.applied
                    if not applied:
                        reason = result.failure_reason or "the editor refused the edit"
                        refused.extend({**c.to_json(), "reason": reason} for c in kept)
                        kept = []
        ls.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Info if not refused else types.MessageType.Warning,
            message=_summary(params.run_id, command, kept, refused)))
        return {**base, "applied": applied, "check": {"command": command.text, "origin": command.origin},
                "kept": [c.to_json() for c in kept], "refused": refused}

    return await _with_progress(ls, f"Workcrew: verifying {len(candidates)} fix(es)", work,
                                {**base, "applied": False, "cancelled": True, "kept": [], "refused": refused,
                                 "reason": "cancelled"})


COMMANDS = {
    "workcrew.applyAndVerify": apply_and_verify,
    "workcrew.fixAll": fix_all,
}
