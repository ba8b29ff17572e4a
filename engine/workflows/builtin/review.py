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

FINDINGS = {"type": "object", "required": ["findings"],
            "properties": {"findings": {"type": "array", "items": CANDIDATE}}}
SCOUT = "List the source files of this project that contain program logic worth reviewing for bugs (skip tests, generated, vendored and data files). Answer with workspace-relative paths."

opts = args if isinstance(args, dict) else ({"files": args} if isinstance(args, list) else {})
focus = opts.get("focus") or "real bugs: crashes, wrong results, data loss, security holes (not style or naming)"
skeptics = int(opts.get("skeptics") or 3)
max_files = int(opts.get("max_files") or 50)

phase("Scope")
scope = await scout(opts.get("files"), SCOUT, what="files", limit=max_files, limit_name="max_files", verb="reviewing")
files, dropped = scope["items"], scope["dropped"]
log(f"reviewing {len(files)} files; each finding gets {skeptics} skeptics, {skeptics // 2 + 1} must uphold it")


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
        outcome = await vote(f"the problem in {where} at line {bug['line']}: {bug['title']}. "
                             f"{bug.get('message') or ''}", n=skeptics, label=f"{where}:{bug['line']}",
                             phase="Verify")
        made = finding(bug, path=path, outcome=outcome)
        if outcome["verdict"] != "refuted":
            report(made)  # live: confirmed and unverified ones reach the editor now
        return made

    checked = await parallel([judge(bug) for bug in found["findings"]])
    return [f for f in checked if f is not None]


results = await pipeline(files, find, verify)

phase("Report")
for index, path in enumerate(files):
    if results[index] is None:
        dropped.append({"item": path, "reason": f"not reviewed: {results.reasons.get(index, 'the finder failed')}"})
checked = [f for item in results if item for f in item]
sorted_out = verdicts(checked, dropped)
confirmed, unverified, refuted = sorted_out["confirmed"], sorted_out["unverified"], sorted_out["refuted"]
reviewed = len(files) - len([i for i in range(len(files)) if results[i] is None])
summary = (f"Reviewed {reviewed} of {len(files)} files: {len(checked)} candidate findings, {len(confirmed)} confirmed, "
           f"{len(unverified)} unverified, {len(refuted)} refuted by {skeptics} skeptics each.")
log(summary)
return {"summary": summary, "files": files, "reviewed": reviewed, **sorted_out, "dropped": dropped}
