meta = {
    "name": "skill-audit",
    "description": "Audit agent skills (.claude/skills/**) for duplicated, outdated and conflicting instructions, each issue verified by skeptics",
    "when_to_use": "When a project's skills or agent instructions have grown by accretion and agents follow them inconsistently",
    "phases": [{"title": "Scope"}, {"title": "Read"}, {"title": "Compare"}, {"title": "Verify"}, {"title": "Report"}],
    "args": {
        "paths": "list of skill files to audit (default: `workcrew run` and the editor pass the files under .claude/skills/; started with none, a scout agent lists them)",
        "skeptics": "independent verifiers per issue (default 3); a majority must uphold an issue to confirm it",
        "max_files": "how many files a scout-made list may hold (default 200); the rest are reported as dropped",
    },
}

import json

READING = {
    "type": "object",
    "required": ["instructions", "outdated"],
    "properties": {
        "instructions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["line", "text"],
                "properties": {"line": {"type": "integer", "minimum": 1}, "text": {"type": "string"},
                               "topic": {"type": "string"}},
            },
        },
        "outdated": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["line", "title", "evidence", "recommendation"],
                "properties": {
                    "line": {"type": "integer", "minimum": 1},
                    "title": {"type": "string"},
                    "snippet": {"type": "string"},
                    "evidence": {"type": "string"},
                    "recommendation": {"type": "string"},
                    "fix": {"type": "object", "required": ["old", "new"],
                            "properties": {"old": {"type": "string"}, "new": {"type": "string"}}},
                },
            },
        },
    },
}
ISSUES = {
    "type": "object",
    "required": ["issues"],
    "properties": {
        "issues": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kind", "title", "places", "recommendation"],
                "properties": {
                    "kind": {"enum": ["duplicated", "conflicting"]},
                    "title": {"type": "string"},
                    "places": {
                        "type": "array",
                        "minItems": 2,
                        "items": {
                            "type": "object",
                            "required": ["path", "line"],
                            "properties": {"path": {"type": "string"}, "line": {"type": "integer", "minimum": 1},
                                           "text": {"type": "string"}},
                        },
                    },
                    "recommendation": {"type": "string"},
                },
            },
        }
    },
}

SCOUT = "List every skill and agent-instruction file under .claude/skills/ (SKILL.md and the files they include), workspace-relative."

opts = args if isinstance(args, dict) else ({"paths": args} if isinstance(args, list) else {})
skeptics = int(opts.get("skeptics") or 3)

phase("Scope")
scope = await scout(opts.get("paths"), SCOUT, what="files", limit=int(opts.get("max_files") or 200), limit_name="max_files", verb="auditing")
paths, dropped = scope["items"], scope["dropped"]
log(f"auditing {len(paths)} skill files")

phase("Read")
readings = await parallel([
    agent(
        f"Read the skill file {p}. List its instructions (line, text, topic). Then check each instruction against "
        "the project as it is now (files, commands, tools it names) and list the outdated ones: line, title, the "
        "snippet, evidence of what changed, a recommendation and, when the change is local, an exact-text fix "
        "{old, new} where old occurs once in the file.",
        schema=READING, label=f"read {p}", phase="Read",
    )
    for p in paths
])
read = {}
for index, p in enumerate(paths):
    if readings[index] is None:
        dropped.append({"item": p, "reason": f"not audited: {readings.reasons.get(index, 'the reader failed')}"})
    else:
        read[p] = readings[index]

phase("Compare")
candidates = []
for p, reading in read.items():
    for item in reading["outdated"]:
        candidates.append({
            "kind": "outdated", "title": item["title"], "recommendation": item["recommendation"],
            "places": [{"path": p, "line": item["line"], "text": item.get("snippet") or ""}],
            "evidence": item["evidence"], "fix": item.get("fix"),
        })
if len(read) >= 2:
    listing = json.dumps({p: r["instructions"] for p, r in read.items()}, indent=1)
    compared = await agent(
        "These are the instructions of several agent skills, by file. Find instructions that are duplicated "
        "(the same rule stated in several files) or conflicting (rules that cannot both be followed). For each "
        "give the kind, a title, every place (path, line, text) and a recommended change.\n\n" + listing,
        schema=ISSUES, label="compare skills", phase="Compare",
    )
    if compared is None:
        dropped.append({"item": "cross-file comparison",
                        "reason": "the comparing agent failed: duplicated and conflicting instructions were not checked"})
    else:
        candidates += compared["issues"]
log(f"{len(candidates)} candidate issues to verify")


async def judge(issue):
    first = issue["places"][0]
    where = "; ".join(f"{pl['path']}:{pl['line']} {pl.get('text') or ''}" for pl in issue["places"])
    outcome = await vote(f"skill instructions are {issue['kind']}: {issue['title']}. Places: {where}.",
                         n=skeptics, label=f"{first['path']}:{first['line']}", phase="Verify",
                         context="Read the files and the project yourself.")
    verdict, votes = outcome["verdict"], outcome["votes"]
    evidence = [{"path": pl["path"], "line": pl["line"], "note": f"{issue['kind']}: {pl.get('text') or 'see this line'}"}
                for pl in issue["places"][1:]]
    if issue.get("evidence"):
        evidence.append({"path": first["path"], "line": first["line"], "note": issue["evidence"]})
    evidence += [{"note": note} for note in outcome["notes"]]
    finding = {
        "title": issue["title"],
        "message": f"Recommended change: {issue['recommendation']}",
        "severity": "warning" if verdict == "confirmed" and issue["kind"] == "conflicting" else "info",
        "category": f"skill-{issue['kind']}",
        "location": {"path": first["path"], "start_line": first["line"], "snippet": first.get("text") or None},
        "evidence": evidence,
        "verdict": verdict,
        "votes": votes,
        "confidence": outcome["confidence"],
    }
    fix = issue.get("fix")
    if fix and fix.get("old"):
        finding["fix"] = {"title": issue["recommendation"], "edits": [{"path": first["path"], "old": fix["old"],
                                                                      "new": fix["new"]}]}
    if verdict != "refuted":
        report(finding)
    return finding


phase("Verify")
judged = await parallel([judge(issue) for issue in candidates])
for index, item in enumerate(judged):
    if item is None:
        dropped.append({"item": candidates[index]["title"], "reason": f"not verified: {judged.reasons.get(index)}"})
checked = [f for f in judged if f is not None]

phase("Report")
sorted_out = verdicts(checked, dropped)
confirmed, unverified, refuted = sorted_out["confirmed"], sorted_out["unverified"], sorted_out["refuted"]
kinds = {}
for f in confirmed:
    kinds[f["category"]] = kinds.get(f["category"], 0) + 1
affected = sorted({f["location"]["path"] for f in confirmed} | {e["path"] for f in confirmed for e in f["evidence"] if e.get("path")})
summary = (f"Audited {len(read)} of {len(paths)} skill files: {len(confirmed)} confirmed issues "
           f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items())) or 'none'}), {len(unverified)} unverified, "
           f"{len(refuted)} refuted.")
log(summary)
return {"summary": summary, "files": paths, "affected_files": affected, **sorted_out, "dropped": dropped}
