meta = {
    "name": "review",
    "description": "Find bugs file by file, have independent skeptics try to refute each finding, report what survives",
    "when_to_use": "Before merging a change or when auditing a module: a bug is objectively real or not, and files can be reviewed independently",
    "phases": [{"title": "Scope"}, {"title": "Find"}, {"title": "Verify"}, {"title": "Report"}],
    "args": {
        "files": "list of workspace-relative files or module folders to review (default: a scout agent lists the source files)",
        "focus": "what to look for (default: real bugs - crashes, wrong results, security holes; not style)",
        "skeptics": "independent verifiers per finding (default 3); a majority of them must uphold a finding to confirm it",
        "max_files": "how many files a scout-made list may hold (default 50); the rest are reported as dropped, never silently",
    },
}

FILES = {
    "type": "object",
    "required": ["files"],
    "properties": {"files": {"type": "array", "items": {"type": "string"}}},
}
FINDINGS = {
    "type": "object",
    "required": ["findings"],
    "properties": {
        "findings": {
            "type": "array",
            "items": {
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
                    "evidence": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["note"],
                            "properties": {"line": {"type": "integer"}, "note": {"type": "string"}},
                        },
                    },
                    "fix": {
                        "type": "object",
                        "required": ["old", "new"],
                        "properties": {"old": {"type": "string"}, "new": {"type": "string"}},
                    },
                },
            },
        }
    },
}
VERDICT = {
    "type": "object",
    "required": ["refuted", "reason"],
    "properties": {"refuted": {"type": "boolean"}, "reason": {"type": "string"}},
}

opts = args if isinstance(args, dict) else ({"files": args} if isinstance(args, list) else {})
focus = opts.get("focus") or "real bugs: crashes, wrong results, data loss, security holes (not style or naming)"
skeptics = int(opts.get("skeptics") or 3)
need = skeptics // 2 + 1
max_files = int(opts.get("max_files") or 50)
dropped = []

phase("Scope")
files = opts.get("files")
if isinstance(files, str):
    files = [files]
if not files:
    scout = await agent(
        "List the source files of this project that contain program logic worth reviewing for bugs "
        "(skip tests, generated, vendored and data files). Answer with workspace-relative paths.",
        schema=FILES, label="scope", phase="Scope",
    )
    if scout is None:
        log("the scout agent failed, so there is nothing to review; pass files in args to skip scouting")
        return {"summary": "Nothing reviewed: the scout agent that lists the files failed.",
                "dropped": [{"item": "scope", "reason": "the scout agent failed"}]}
    files = scout["files"]
    if len(files) > max_files:
        for extra in files[max_files:]:
            dropped.append({"item": extra, "reason": f"over max_files={max_files}"})
        log(f"reviewing the first {max_files} of {len(files)} files; {len(files) - max_files} dropped (raise max_files)")
        files = files[:max_files]
files = [str(f) for f in files]
log(f"reviewing {len(files)} files; each finding gets {skeptics} skeptics, {need} must uphold it")


def decide(votes):
    returned = [v for v in votes if v is not None]
    upheld = len([v for v in returned if not v["refuted"]])
    refutes = len(returned) - upheld
    missing = len(votes) - len(returned)
    if upheld >= need:
        verdict = "confirmed"
    elif refutes >= need:
        verdict = "refuted"
    else:
        verdict = "unverified"  # votes missing or split: never counted as confirmed or refuted
    return verdict, {"confirm": upheld, "refute": refutes, "missing": missing}


def as_finding(path, bug, verdict, votes, ballots):
    path = bug.get("path") or path  # a module's finder names the file inside it
    line = int(bug["line"])
    evidence = [{"path": path, "line": e.get("line") or line, "note": e["note"]} for e in bug.get("evidence") or []]
    for index, ballot in enumerate(ballots):
        if ballot is not None:
            stance = "refuted" if ballot["refuted"] else "upheld"
            evidence.append({"note": f"skeptic #{index} {stance}: {ballot['reason']}"})
    for index, reason in ballots.reasons.items():
        evidence.append({"note": f"skeptic #{index} gave no vote: {reason}"})
    finding = {
        "title": bug["title"],
        "message": bug.get("message") or "",
        "severity": (bug.get("severity") or "warning") if verdict == "confirmed" else "info",
        "category": bug.get("category") or "bug",
        "location": {"path": path, "start_line": line, "end_line": bug.get("end_line") or line,
                     "snippet": bug.get("snippet")},
        "evidence": evidence,
        "verdict": verdict,
        "votes": votes,
        "confidence": round(votes["confirm"] / skeptics, 2),
    }
    fix = bug.get("fix")
    if fix and fix.get("old"):
        finding["fix"] = {"title": f"Fix: {bug['title']}", "edits": [{"path": path, "old": fix["old"], "new": fix["new"]}]}
    return finding


def find(path):
    return agent(
        f"Review {path} for {focus}. Read the file (and what it calls when needed). For each real problem give "
        "the file's workspace-relative path, the line, a short title, a message explaining the failure, the exact snippet of the faulty code, "
        "evidence (lines and notes) and, when the fix is local, an exact-text fix {old, new} where old occurs "
        "once in the file. Report nothing you cannot point at.",
        schema=FINDINGS, label=f"find {path}", phase="Find",
    )


async def verify(found, path):
    if found is None:
        return None  # the finder failed: pipeline() keeps its reason, reported as dropped below

    async def judge(bug):
        where = bug.get("path") or path
        ballots = await parallel([
            agent(
                f"You are skeptic #{i}. Try hard to REFUTE this claimed problem in {where} at line {bug['line']}: "
                f"{bug['title']}. {bug.get('message') or ''} Read the code yourself. Answer refuted=true if it is "
                "not a real problem, cannot happen, or you are unsure; refuted=false only if you confirmed it.",
                schema=VERDICT, label=f"verify {where}:{bug['line']}#{i}", phase="Verify",
            )
            for i in range(skeptics)
        ])
        verdict, votes = decide(ballots)
        finding = as_finding(path, bug, verdict, votes, ballots)
        if verdict != "refuted":
            report(finding)  # live: confirmed and unverified ones reach the editor now
        return finding

    checked = await parallel([judge(bug) for bug in found["findings"]])
    return [f for f in checked if f is not None]


results = await pipeline(files, find, verify)

phase("Report")
for index, path in enumerate(files):
    if results[index] is None:
        dropped.append({"item": path, "reason": f"not reviewed: {results.reasons.get(index, 'the finder failed')}"})
checked = [f for item in results if item for f in item]
confirmed = [f for f in checked if f["verdict"] == "confirmed"]
unverified = [f for f in checked if f["verdict"] == "unverified"]
refuted = [
    {"title": f["title"], "location": f["location"], "votes": f["votes"], "verdict": "refuted",
     "reason": "; ".join(dict.fromkeys(e["note"].split(" refuted: ", 1)[1] for e in f["evidence"]
                                       if " refuted: " in e["note"] and e["note"].startswith("skeptic #")))}
    for f in checked if f["verdict"] == "refuted"
]
reviewed = len(files) - len([i for i in range(len(files)) if results[i] is None])
summary = (f"Reviewed {reviewed} of {len(files)} files: {len(checked)} candidate findings, {len(confirmed)} confirmed, "
           f"{len(unverified)} unverified, {len(refuted)} refuted by {skeptics} skeptics each.")
log(summary)
return {
    "summary": summary,
    "files": files,
    "reviewed": reviewed,
    "counts": {"candidates": len(checked), "confirmed": len(confirmed), "unverified": len(unverified),
               "refuted": len(refuted), "dropped": len(dropped)},
    "confirmed": confirmed,
    "unverified": unverified,
    "refuted": refuted,
    "dropped": dropped,
}
