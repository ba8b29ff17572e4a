"""The pattern library: the shapes good workflows repeat, as helpers scripts of both dialects call.

* :func:`scout` — the items to work on: the ones the run was given, or the ones a scout agent lists, cut
  to a limit with every cut item reported as dropped (never silently).
* :func:`vote` — adversarial verification: ``n`` independent skeptics try to refute a claim; a majority
  decides, and a skeptic that gave no vote is *missing*, never counted as refuting (or upholding).
* :func:`fix_loop` — implement → check → fix: an agent changes a private worktree, a command (the tests)
  judges the patch, and a failure goes back to the next attempt with its output, up to ``rounds`` times.
* :func:`finding` — a finder's candidate plus its vote as a finding ``report()`` accepts: location,
  evidence (the skeptics' reasons included), verdict, votes, confidence and the fix.
* :func:`verdicts` — checked findings sorted into confirmed, unverified and refuted (with the skeptics'
  reasons) and counted, for the workflow's result.

They run where the script runs (the script host child; the dialects hand them their context) and do nothing a script could not do itself with
``agent``, ``parallel``, ``check`` and ``log``: every agent they start is launched, counted and billed like
any other, and a dry run sees them. Python scripts call them as ``vote(...)``, ``fix_loop(...)``,
``finding(...)``, ``verdicts(...)``, ``scout(...)``; JavaScript scripts as ``vote(...)``, ``fixLoop(...)``,
``finding(...)``, ``verdicts(...)``, ``scout(...)`` with an options object (docs/workflow-api.md).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import WorkcrewError

if TYPE_CHECKING:
    from ..runtime.scripthost.guest import GuestContext

VERDICT = {
    "type": "object",
    "required": ["refuted", "reason"],
    "properties": {"refuted": {"type": "boolean"}, "reason": {"type": "string"}},
}
CANDIDATE = {  # one finder's candidate, as finding() takes it: finders answer lists of these
    "type": "object",
    "required": ["title", "line"],
    "properties": {
        "title": {"type": "string"},
        "path": {"type": "string"},
        "message": {"type": "string"},
        "line": {"type": "integer", "minimum": 1},
        "end_line": {"type": "integer", "minimum": 1},
        "snippet": {"type": "string"},
        "severity": {"enum": ["error", "warning", "info", "hint"]},
        "category": {"type": "string"},
        "evidence": {"type": "array", "items": {"type": "object", "required": ["note"],
                                                 "properties": {"line": {"type": "integer"},
                                                                "note": {"type": "string"}}}},
        "fix": {"type": "object", "required": ["old", "new"],
                "properties": {"old": {"type": "string"}, "new": {"type": "string"}}},
    },
}
SKEPTIC_PROMPT = (
    "You are skeptic #{index} of {n}, working alone. Try hard to REFUTE this claim: {claim}\n{context}"
    "Check it yourself against the workspace. Answer refuted=true if it is wrong, cannot happen or you are "
    "unsure; refuted=false only if you confirmed it. Give your reason in one or two sentences."
)
OUTPUT_TAIL = 3000  # characters of a failed check's output fed back to the next attempt


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{what} must be a non-empty string")
    return value


def _count(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise TypeError(f"{what} must be a whole number")
    if not low <= int(value) <= high:
        raise ValueError(f"{what} must be between {low} and {high}, not {int(value)}")
    return int(value)


# -- scout ------------------------------------------------------------------------------------------------

async def scout(ctx: GuestContext, given: Any, prompt: Any, *, what: str = "items", limit: int = 50,
                limit_name: str | None = None, verb: str = "working on", label: str = "scope",
                phase: str | None = None) -> dict[str, Any]:
    """``{"items", "dropped", "failed"}``: ``given`` (a string or a list) when the run named the ``what``, else
    what a scout agent answering ``prompt`` lists (as ``{what: [...]}``); past ``limit`` the rest are dropped
    with the reason (``over max_files=50`` when ``limit_name`` names the setting) and a log line says so
    (``reviewing the first 50 of 80 files; 30 dropped (raise max_files)``). ``failed`` is the reason when the
    scout agent failed (``items`` is then empty)."""
    limit = _count(limit, "scout(): limit", 1, ctx.max_items)
    prompt = _text(prompt, "scout(): the prompt")
    what = _text(what, "scout(): what")
    if isinstance(given, str):
        given = [given]
    if given:
        if not isinstance(given, list | tuple):
            raise TypeError("scout(): the given items must be a string or a list of strings")
        items = [str(item) for item in given]
    else:
        schema = {"type": "object", "required": [what],
                  "properties": {what: {"type": "array", "items": {"type": "string"}}}}
        answer = await ctx.agent(prompt, schema=schema, label=label, phase=phase)
        if answer is None:
            ctx.log(f"the scout agent failed, so there is nothing to work on; pass the {what} in args to skip it")
            return {"items": [], "dropped": [{"item": label, "reason": "the scout agent failed"}],
                    "failed": "the scout agent failed"}
        items = [str(item) for item in answer[what]]
    dropped: list[dict[str, str]] = []
    if len(items) > limit:
        reason = f"over {limit_name}={limit}" if limit_name else f"over the limit of {limit}"
        dropped = [{"item": item, "reason": reason} for item in items[limit:]]
        ctx.log(f"{verb} the first {limit} of {len(items)} {what}; {len(dropped)} dropped "
                f"(raise {limit_name or 'the limit'})")
        items = items[:limit]
    return {"items": items, "dropped": dropped, "failed": None}


# -- vote -------------------------------------------------------------------------------------------------

def tally(ballots: list[Any], n: int) -> tuple[str, dict[str, int]]:
    """(verdict, votes) of ``n`` ballots (``None`` where a skeptic gave no vote): a majority of ``n`` confirms
    or refutes; anything else — votes missing, or split — is ``unverified``."""
    need = n // 2 + 1
    returned = [b for b in ballots if isinstance(b, dict)]
    confirm = sum(1 for b in returned if b.get("refuted") is False)
    refute = sum(1 for b in returned if b.get("refuted") is True)
    missing = n - confirm - refute
    verdict = "confirmed" if confirm >= need else "refuted" if refute >= need else "unverified"
    return verdict, {"confirm": confirm, "refute": refute, "missing": missing}


async def vote(ctx: GuestContext, claim: Any, *, n: int = 3, context: str = "", label: str | None = None,
               phase: str | None = None, model: str | None = None) -> dict[str, Any]:
    """``n`` skeptics, each its own agent, try to refute ``claim``. Returns ``{"verdict", "votes", "confidence",
    "ballots", "notes"}``: ``verdict`` is ``confirmed`` or ``refuted`` only with a majority of ``n``;
    ``notes`` are the skeptics' reasons (and why a skeptic gave no vote), ready to be a finding's evidence."""
    claim = _text(claim, "vote(): the claim")
    n = _count(n, "vote(): n", 1, 15)
    name = label or claim[:60]
    extra = f"Context: {context}\n" if context else ""
    ballots = await ctx.parallel([
        ctx.agent(SKEPTIC_PROMPT.format(index=index, n=n, claim=claim, context=extra), schema=VERDICT,
                  label=f"verify {name}#{index}", phase=phase, model=model)
        for index in range(n)
    ])
    verdict, votes = tally(list(ballots), n)
    notes = []
    for index, ballot in enumerate(ballots):
        if isinstance(ballot, dict):
            stance = "refuted" if ballot.get("refuted") else "upheld"
            notes.append(f"skeptic #{index} {stance}: {ballot.get('reason', '')}")
    notes += [f"skeptic #{index} gave no vote: {reason}" for index, reason in ballots.reasons.items()]
    return {"verdict": verdict, "votes": votes, "confidence": round(votes["confirm"] / n, 2),
            "ballots": [dict(b) if isinstance(b, dict) else None for b in ballots], "notes": notes}


# -- finding ----------------------------------------------------------------------------------------------

def finding(bug: Any, *, path: str | None = None, outcome: Any = None, category: str = "bug") -> dict[str, Any]:
    """A finder's candidate (``title``, ``line``, ``path``?, ``message``?, ``end_line``?, ``snippet``?,
    ``severity``?, ``category``?, ``evidence``: ``[{line?, note}]``?, ``fix``: ``{old, new}``?) and its
    :func:`vote` outcome as a finding for ``report()``. Without an outcome it is ``unverified``; a finding
    that is not confirmed is reported at ``info`` severity."""
    if not isinstance(bug, dict) or not isinstance(bug.get("title"), str):
        raise TypeError("finding(): the candidate must be an object with a title and a line")
    where = str(bug.get("path") or path or "")
    if not where:
        raise ValueError("finding(): the candidate names no path; pass path=")
    line = int(bug.get("line") or 1)
    evidence = [{"path": where, "line": item.get("line") or line, "note": str(item.get("note", ""))}
                for item in bug.get("evidence") or [] if isinstance(item, dict)]
    verdict, votes, confidence = "unverified", None, None
    if isinstance(outcome, dict):
        verdict = str(outcome.get("verdict") or "unverified")
        votes, confidence = outcome.get("votes"), outcome.get("confidence")
        evidence += [{"note": str(note)} for note in outcome.get("notes") or []]
    made: dict[str, Any] = {
        "title": bug["title"],
        "message": str(bug.get("message") or ""),
        "severity": (bug.get("severity") or "warning") if verdict == "confirmed" else "info",
        "category": str(bug.get("category") or category),
        "location": {"path": where, "start_line": line, "end_line": int(bug.get("end_line") or line),
                     "snippet": bug.get("snippet")},
        "evidence": evidence,
        "verdict": verdict,
    }
    if votes is not None:
        made["votes"] = votes
    if confidence is not None:
        made["confidence"] = confidence
    fix = bug.get("fix")
    if isinstance(fix, dict) and fix.get("old"):
        made["fix"] = {"title": f"Fix: {bug['title']}", "edits": [{"path": where, "old": fix["old"],
                                                                   "new": fix.get("new", "")}]}
    return made


def verdicts(findings: Any, dropped: Any = ()) -> dict[str, Any]:
    """Verified findings sorted for a workflow's result: ``{"confirmed", "unverified", "refuted", "counts"}``.
    A refuted finding is kept as a short record with the skeptics' reasons (why it was thrown out), and
    ``counts`` holds candidates, confirmed, unverified, refuted and dropped (the length of ``dropped``)."""
    if not isinstance(findings, list | tuple):
        raise TypeError("verdicts(): the findings must be a list")
    checked = [f for f in findings if isinstance(f, dict)]
    confirmed = [f for f in checked if f.get("verdict") == "confirmed"]
    unverified = [f for f in checked if f.get("verdict") == "unverified"]
    refuted = []
    for made in checked:
        if made.get("verdict") != "refuted":
            continue
        reasons = [str(e.get("note", "")).split(" refuted: ", 1)[1] for e in made.get("evidence") or []
                   if isinstance(e, dict) and str(e.get("note", "")).startswith("skeptic #")
                   and " refuted: " in str(e.get("note", ""))]
        refuted.append({"title": made.get("title"), "location": made.get("location"), "votes": made.get("votes"),
                        "verdict": "refuted", "reason": "; ".join(dict.fromkeys(reasons))})
    counts = {"candidates": len(checked), "confirmed": len(confirmed), "unverified": len(unverified),
              "refuted": len(refuted), "dropped": len(list(dropped or ()))}
    return {"confirmed": confirmed, "unverified": unverified, "refuted": refuted, "counts": counts}


# -- fix loop ---------------------------------------------------------------------------------------------

def check_summary(checked: dict[str, Any]) -> str:
    """``exit 1, 3 passed, 1 failed``: a check's exit code and the counts a test runner printed."""
    counts: dict[str, int] = {}
    for number, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", f"{checked.get('stdout', '')}\n"
                                                                             f"{checked.get('stderr', '')}"):
        counts["error" if word.startswith("error") else word] = int(number)
    tally_text = ", ".join(f"{n} {k}" for k, n in counts.items())
    return f"exit {checked.get('exit_code')}" + (f", {tally_text}" if tally_text else "")


async def fix_loop(ctx: GuestContext, task: Any, command: Any, *, rounds: int = 3, schema: Any = None,
                   label: str | None = None, phase: str | None = None, model: str | None = None) -> dict[str, Any]:
    """Implement → check → fix. Each round an agent does ``task`` in a private worktree; ``command`` runs on
    its patch (``check(command, isolation=...)``); a failing check's output goes to the next round's agent
    (whose copy starts from the original code again). Returns ``{"ok", "fixed", "patch", "check", "attempts"}``:
    ``fixed`` is the passing agent's answer — its ``patch`` is what ``report({"fix": fixed})`` offers — and
    ``patch`` the same patch as data, both ``None`` when no round passed; ``attempts`` says what each round
    did."""
    task = _text(task, "fix_loop(): the task")
    if not isinstance(command, str | list) or not command:
        raise TypeError("fix_loop(): the command must be a string or a list of arguments")
    rounds = _count(rounds, "fix_loop(): rounds", 1, 10)
    shown = command if isinstance(command, str) else " ".join(map(str, command))
    name = label or task[:60]
    attempts: list[dict[str, Any]] = []
    feedback = ""
    for number in range(1, rounds + 1):
        fixed = await ctx.agent(
            f"{task}\nChange the files in your private copy of the workspace; keep the change minimal and do not "
            f"weaken or delete tests. `{shown}` will judge your patch.{feedback}",
            schema=schema, isolation="worktree", label=f"{name}#{number}", phase=phase, model=model)
        if fixed is None:
            attempts.append({"round": number, "outcome": "the agent failed"})
            continue
        patch = getattr(fixed, "patch", None)
        if patch is None or not patch.edits:
            attempts.append({"round": number, "outcome": "the agent changed no file"})
            feedback = "\nA previous attempt changed no file: you must edit the code."
            continue
        try:
            checked = await ctx.check(command, isolation=fixed)
        except WorkcrewError as exc:  # a refused command stays refused: more rounds cannot help
            attempts.append({"round": number, "outcome": f"the check could not run: {exc}"})
            break
        outcome = check_summary(checked)
        attempts.append({"round": number, "outcome": outcome, "exit_code": checked.get("exit_code")})
        if checked.get("exit_code") == 0:
            return {"ok": True, "fixed": fixed, "patch": patch.model_dump(), "check": outcome, "attempts": attempts}
        output = f"{checked.get('stdout', '')}\n{checked.get('stderr', '')}".strip()[-OUTPUT_TAIL:]
        feedback = (f"\nA previous attempt made this patch:\n{patch.diff or patch.edits}\nand `{shown}` then failed "
                    f"({outcome}):\n{output}\nMake a complete change that passes.")
    ctx.log(f"{name}: no patch passed `{shown}` in {len(attempts)} rounds")
    return {"ok": False, "fixed": None, "patch": None, "check": attempts[-1]["outcome"] if attempts else None,
            "attempts": attempts}
