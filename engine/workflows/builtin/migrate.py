meta = {
    "name": "migrate",
    "description": "Find every site of a change (API upgrade, rename, framework move), transform each file in isolation, verify each with the tests and a reviewer",
    "when_to_use": "A mechanical change across many files where each file can be changed and checked on its own and the tests can judge the result",
    "phases": [{"title": "Discover"}, {"title": "Transform"}, {"title": "Verify"}, {"title": "Report"}],
    "args": {
        "change": "what to change, precisely (for example 'rename get_user(id) to fetch_user(user_id)'); required",
        "files": "list of workspace-relative files to transform (default: a discovery agent finds the sites)",
        "test_command": "the check run in each file's worktree (default: none; must be in command_allowlist)",
        "max_files": "how many files a discovered list may hold (default 100); the rest are reported as dropped",
    },
}

SITES = {
    "type": "object",
    "required": ["sites"],
    "properties": {
        "sites": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "line"],
                "properties": {"path": {"type": "string"}, "line": {"type": "integer", "minimum": 1},
                               "snippet": {"type": "string"}, "note": {"type": "string"}},
            },
        }
    },
}
TRANSFORMED = {
    "type": "object",
    "required": ["summary"],
    "properties": {"summary": {"type": "string"}, "sites_changed": {"type": "integer"}},
}
REVIEW = {
    "type": "object",
    "required": ["approved", "reason"],
    "properties": {"approved": {"type": "boolean"}, "reason": {"type": "string"}},
}

opts = args if isinstance(args, dict) else {}
change = opts.get("change")
if not change:
    return {"summary": "Nothing migrated: pass the change to make in args, e.g. "
                       "--args '{\"change\": \"rename get_user to fetch_user\"}'.",
            "dropped": [], "counts": {"files": 0, "migrated": 0, "unverified": 0, "rejected": 0, "dropped": 0}}
test_command = opts.get("test_command")
max_files = int(opts.get("max_files") or 100)
dropped = []

phase("Discover")
sites = {}
files = opts.get("files")
if isinstance(files, str):
    files = [files]
if files:
    for f in files:
        sites[str(f)] = []
else:
    found = await agent(
        f"Find every place in this workspace that must change for: {change}. Search thoroughly (grep for the "
        "names involved, including tests, docs and configuration) and list each site with its path, line and snippet.",
        schema=SITES, label="discover sites", phase="Discover",
    )
    if found is None:
        return {"summary": "Nothing migrated: the discovery agent failed.",
                "dropped": [{"item": "discover", "reason": "the discovery agent failed"}]}
    for site in found["sites"]:
        sites.setdefault(site["path"], []).append(site)
paths = sorted(sites)
if len(paths) > max_files:
    for extra in paths[max_files:]:
        dropped.append({"item": extra, "reason": f"over max_files={max_files}"})
    log(f"migrating the first {max_files} of {len(paths)} files; the rest are dropped (raise max_files)")
    paths = paths[:max_files]
log(f"{len(paths)} files to migrate for: {change}")


def patch_of(value):
    try:
        return value.patch
    except AttributeError:
        return None


def transform(path):
    listed = "; ".join(f"line {s['line']}: {s.get('snippet') or s.get('note') or ''}" for s in sites[path])
    hint = f" Known sites: {listed}." if listed else ""
    return agent(
        f"Apply this change to {path} only: {change}.{hint} Edit the file in your private copy with edit_file; "
        "change nothing else. Answer with a one-line summary and how many sites you changed.",
        schema=TRANSFORMED, isolation="worktree", label=f"transform {path}", phase="Transform",
    )


async def verify(transformed, path):
    if transformed is None:
        return None  # the transformer failed; its reason is reported as dropped
    patch = patch_of(transformed)
    if patch is None or not patch.edits:
        return {"path": path, "outcome": "unchanged", "reason": "the transformer changed nothing"}
    evidence = [{"path": s["path"], "line": s["line"], "note": f"site: {s.get('snippet') or s.get('note') or ''}"}
                for s in sites[path]]
    if test_command:
        try:
            checked = await check(test_command, isolation=transformed)
        except Exception as exc:
            return {"path": path, "outcome": "rejected", "reason": f"the check could not run: {exc}"}
        evidence.append({"path": path, "note": f"`{test_command}`: exit {checked['exit_code']}"})
        if checked["exit_code"] != 0:
            tail = (checked["stdout"] + checked["stderr"]).strip()[-400:]
            return {"path": path, "outcome": "rejected", "reason": f"`{test_command}` failed (exit {checked['exit_code']}): {tail}"}
    review = await agent(
        f"Review this patch to {path} for the change: {change}. Approve only if it makes exactly that change, "
        f"completely and correctly, and nothing else.\n\n{patch.diff or patch.edits}",
        schema=REVIEW, label=f"review {path}", phase="Verify",
    )
    if review is None:
        return {"path": path, "outcome": "unverified", "reason": "the reviewer agent failed", "evidence": evidence,
                "fixed": transformed, "summary": transformed["summary"]}
    evidence.append({"path": path, "note": f"reviewer {'approved' if review['approved'] else 'rejected'}: {review['reason']}"})
    if not review["approved"]:
        return {"path": path, "outcome": "rejected", "reason": f"the reviewer rejected it: {review['reason']}"}
    return {"path": path, "outcome": "migrated", "evidence": evidence, "fixed": transformed,
            "summary": transformed["summary"]}


outcomes = await pipeline(paths, transform, verify)

phase("Report")
migrated = []
unverified = []
rejected = []
for index, path in enumerate(paths):
    done = outcomes[index]
    if done is None:
        dropped.append({"item": path, "reason": f"not migrated: {outcomes.reasons.get(index, 'the transformer failed')}"})
        continue
    first = sites[path][0]["line"] if sites[path] else 1
    if done["outcome"] in ("migrated", "unverified"):
        finding = {
            "title": f"Migrate {path}: {change}",
            "message": done["summary"],
            "severity": "info" if done["outcome"] == "migrated" else "hint",
            "category": "migration",
            "location": {"path": path, "start_line": first, "snippet": sites[path][0].get("snippet") if sites[path] else None},
            "evidence": done["evidence"],
            "verdict": "confirmed" if done["outcome"] == "migrated" else "unverified",
            "votes": {"confirm": 1 if done["outcome"] == "migrated" else 0, "refute": 0,
                      "missing": 0 if done["outcome"] == "migrated" else 1},
        }
        if done["outcome"] == "migrated":
            # only checked and approved patches become quick-fixes
            patch = patch_of(done["fixed"])
            finding["fix"] = {"title": done["summary"], "diff": patch.diff,
                              "edits": [{"path": e.path, "old": e.old, "new": e.new} for e in patch.edits],
                              "evidence": [e for e in done["evidence"] if e["note"].startswith(("`", "reviewer"))]}
            migrated.append({"path": path, "summary": done["summary"]})
        else:
            unverified.append({"path": path, "reason": done["reason"]})
        report(finding)
    else:
        rejected.append({"path": path, "reason": done["reason"]})
        dropped.append({"item": path, "reason": f"{done['outcome']}: {done['reason']}"})

summary = (f"Migrated {len(migrated)} of {len(paths)} files for: {change}. {len(unverified)} unverified, "
           f"{len(rejected)} rejected or unchanged, {len(dropped) - len(rejected)} dropped.")
log(summary)
return {
    "summary": summary,
    "change": change,
    "migrated": migrated,
    "unverified": unverified,
    "rejected": rejected,
    "dropped": dropped,
    "counts": {"files": len(paths), "migrated": len(migrated), "unverified": len(unverified),
               "rejected": len(rejected), "dropped": len(dropped) - len(rejected)},
}
