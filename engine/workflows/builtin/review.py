meta = {
    "name": "review",
    "description": "Find bugs file by file, have independent skeptics try to refute each finding, report what survives",
    "when_to_use": "Before merging a change or when auditing a module: a bug is objectively real or not, and files can be reviewed independently",
    "phases": [{"title": "Scope"}, {"title": "Find"}, {"title": "Verify"}, {"title": "Report"}],
    "args": {
        "files": "list of workspace-relative files or module folders to review (default: `workcrew run` and the editor pass the source files in the workspace's scope; started with none, a scout agent lists them)",
        "focus": "what to look for (default: real bugs - crashes, wrong results, security holes; not style)",
        "skeptics": "independent verifiers per finding (default 3); a majority of them must uphold a finding to confirm it",
        "max_files": "how many files a scout-made list may hold (default 50); the rest are reported as dropped, never silently",
        "changes": "review only what changed: {path: {lines: [[start, end], ...], functions: [[start, end], ...]}} (or {path: [[start, end], ...]}); finders look at the changed lines and the functions around them, and candidates elsewhere are set aside unverified in the result's outside_changes (`workcrew review-changes` fills it from git; files default to its keys)",
    },
}

FINDINGS = {"type": "object", "required": ["findings"],
            "properties": {"findings": {"type": "array", "items": CANDIDATE}}}
SCOUT = "List the source files of this project that contain program logic worth reviewing for bugs (skip tests, generated, vendored and data files). Answer with workspace-relative paths."

opts = args if isinstance(args, dict) else ({"files": args} if isinstance(args, list) else {})
focus = opts.get("focus") or "real bugs: crashes, wrong results, data loss, security holes (not style or naming)"
skeptics = int(opts.get("skeptics") or 3)
max_files = int(opts.get("max_files") or 50)
changes = opts.get("changes") or {}
if not isinstance(changes, dict):
    raise TypeError("args.changes must map each file to its changed line ranges: {path: [[start, end], ...]}")
set_aside = []  # candidates outside the changes under review: listed in the result, never verified

phase("Scope")
scope = await scout(opts.get("files") or list(changes), SCOUT, what="files", limit=max_files, limit_name="max_files", verb="reviewing")
files, dropped = scope["items"], scope["dropped"]
log(f"reviewing {len(files)} files; each finding gets {skeptics} skeptics, {skeptics // 2 + 1} must uphold it")


def ranges(value):
    """[[start, end], ...] sorted, overlapping and touching ranges joined."""
    out = []
    for start, end in sorted([int(r[0]), int(r[-1])] for r in (value or []) if isinstance(r, (list, tuple)) and r):
        if out and start <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return out


def focus_of(path):
    """(changed lines, lines to look at) of a file in args.changes; None when the file is reviewed whole."""
    spec = changes.get(path[2:] if path.startswith("./") else path)
    if spec is None:
        return None
    lines = ranges(spec.get("lines") if isinstance(spec, dict) else spec)
    return lines, ranges((spec.get("functions") or [] if isinstance(spec, dict) else []) + lines)


def spans(pairs):
    shown = ", ".join(f"{s}-{e}" if e != s else f"{s}" for s, e in pairs[:40])
    return shown + (f" and {len(pairs) - 40} more" if len(pairs) > 40 else "")


def outside_changes(bug, path):
    """Why a candidate lies outside the changes under review, or None (also when there are none)."""
    where = bug.get("path") or path
    known = focus_of(where)
    if not changes or (known is None and where in files and where not in changes):
        return None
    if known is None:
        return f"{where} is not among the changed files"
    first = int(bug["line"])
    last = max(first, int(bug.get("end_line") or first))
    if any(s <= last and first <= e for s, e in known[1]):
        return None
    return f"line {first} is outside the changed lines and the functions around them ({spans(known[1])})"


def find(path):
    known = focus_of(path)
    only = "" if known is None else (
        f" Review only what changed: in {path} the changed lines are {spans(known[0])}, inside the code at lines "
        f"{spans(known[1])}. Report only problems in those lines or caused by them (for a failure that shows "
        "elsewhere, give the changed line that causes it); leave code the change did not touch alone.")
    return agent(
        f"Review {path} for {focus}.{only} Read the file (and what it calls when needed). For each real problem give "
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

    kept = []
    for bug in found["findings"]:
        why = outside_changes(bug, path)
        if why is None:
            kept.append(bug)
        else:
            set_aside.append({"path": bug.get("path") or path, "line": bug["line"], "title": bug["title"], "reason": why})
    checked = await parallel([judge(bug) for bug in kept])
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
if changes:
    summary += f" {len(set_aside)} candidates outside the changed lines set aside (outside_changes)."
log(summary)
return {"summary": summary, "files": files, "reviewed": reviewed, **sorted_out, "dropped": dropped,
        **({"outside_changes": set_aside} if changes else {})}
