meta = {
    "name": "fix",
    "description": "Fix confirmed findings, each in its own worktree, gated by the project's tests; failures go back to a fixer",
    "when_to_use": "After a review confirmed bugs and the project has tests that can judge a patch (an objective check)",
    "phases": [{"title": "Fix"}, {"title": "Report"}],
    "args": {
        "findings": "list of findings to fix, as `workcrew report RUN_ID --format json` prints them (its `findings`) or as the review workflow returns them (its `confirmed`); only confirmed ones are fixed",
        "test_command": "the check that judges each patch, run in the patch's worktree (default: 'python -m pytest -q'; must be in command_allowlist)",
        "max_rounds": "fix attempts per finding, each told why the previous one failed (default 3)",
        "include_unverified": "also try findings whose verdict is unverified (default false)",
    },
}


FIXED = {
    "type": "object",
    "required": ["summary"],
    "properties": {
        "summary": {"type": "string"},
        "files_changed": {"type": "array", "items": {"type": "string"}},
    },
}

opts = args if isinstance(args, dict) else ({"findings": args} if isinstance(args, list) else {})
test_command = opts.get("test_command") or "python -m pytest -q"
max_rounds = int(opts.get("max_rounds") or 3)
include_unverified = bool(opts.get("include_unverified"))
given = opts.get("findings") or []
if not isinstance(given, list) or not given:
    return {"summary": "Nothing to fix: pass the findings to fix in args, e.g. "
                       "--args '{\"findings\": [...]}' with the `findings` of `workcrew report RUN_ID --format json`.",
            "dropped": [], "counts": {"findings": 0, "fixed": 0, "unfixed": 0, "dropped": 0}}

dropped = []
todo = []
for item in given:
    location = item.get("location") or {}
    if isinstance(location, str):
        location = {"path": location}
    path = location.get("path") or item.get("path")
    line = location.get("start_line") or item.get("line") or 1
    title = item.get("title") or "finding"
    verdict = item.get("verdict") or "confirmed"
    if not path:
        dropped.append({"item": title, "reason": "no location.path: cannot tell the fixer where to look"})
    elif verdict == "refuted" or (verdict == "unverified" and not include_unverified):
        dropped.append({"item": f"{path}:{line} {title}",
                        "reason": f"not fixed: its verdict is {verdict} (only confirmed findings are fixed"
                                  + ("" if verdict == "refuted" else "; pass include_unverified to try it") + ")"})
    else:
        todo.append({**item, "location": {**location, "path": path, "start_line": line}, "title": title})
log(f"fixing {len(todo)} findings; each patch must pass `{test_command}` within {max_rounds} rounds")


async def fix_one(finding):
    location = finding["location"]
    where = f"{location['path']}:{location['start_line']}"
    done = await fix_loop(
        f"Fix this confirmed problem in {where}: {finding['title']}. {finding.get('message') or ''}\n"
        "Edit the files with edit_file and add a regression test when the project has tests.\n"
        "Answer with a one-line summary and the files you changed.",
        test_command, rounds=max_rounds, schema=FIXED, label=f"fix {where}", phase="Fix",
    )
    fixed = done["fixed"]
    return {"finding": finding, "fixed": fixed, "summary": fixed["summary"] if fixed else None,
            "attempts": done["attempts"], "check": done["check"], "patch": done["patch"]}


phase("Fix")
outcomes = await pipeline(todo, fix_one)

phase("Report")
fixed_list = []
unfixed = []
for index, finding in enumerate(todo):
    done = outcomes[index]
    where = f"{finding['location']['path']}:{finding['location']['start_line']}"
    if done is None:
        dropped.append({"item": f"{where} {finding['title']}", "reason": f"fixing failed: {outcomes.reasons.get(index)}"})
        continue
    history = "; ".join(f"round {a['round']}: {a['outcome']}" for a in done["attempts"])
    evidence = list(finding.get("evidence") or [])
    evidence.append({"path": finding["location"]["path"], "note": f"`{test_command}`: {history}"})
    reported = {
        "title": finding["title"],
        "message": finding.get("message") or "",
        "severity": finding.get("severity") or "warning",
        "category": finding.get("category") or "bug",
        "location": finding["location"],
        "evidence": evidence,
        "verdict": finding.get("verdict") or "confirmed",
        "votes": finding.get("votes") or {},
    }
    if done["fixed"] is not None:
        patch = done["patch"]
        reported["fix"] = {"title": done["summary"], "diff": patch["diff"],
                           "edits": [{"path": e["path"], "old": e["old"], "new": e["new"]} for e in patch["edits"]],
                           "evidence": [{"note": f"`{test_command}`: {done['check']}"}]}
        report(reported)
        fixed_list.append({"title": finding["title"], "location": finding["location"], "summary": done["summary"],
                           "check": done["check"], "rounds": len(done["attempts"]), "attempts": done["attempts"]})
    else:
        report(reported)  # still a real problem; no patch is offered because none passed the check
        unfixed.append({"title": finding["title"], "location": finding["location"], "attempts": done["attempts"]})
        dropped.append({"item": f"{where} {finding['title']}",
                        "reason": f"no patch offered: none passed `{test_command}` in {len(done['attempts'])} rounds ({history})"})

summary = (f"Fixed {len(fixed_list)} of {len(todo)} findings with patches that pass `{test_command}`; "
           f"{len(unfixed)} unfixed, {len(dropped) - len(unfixed)} not attempted.")
log(summary)
return {
    "summary": summary,
    "fixed": fixed_list,
    "unfixed": unfixed,
    "dropped": dropped,
    "counts": {"findings": len(given), "fixed": len(fixed_list), "unfixed": len(unfixed),
               "dropped": len(dropped) - len(unfixed)},
}
