meta = {
    "name": "review-files",
    "description": "Find bugs in the given files and have three skeptics try to refute each one",
    "when_to_use": "Before merging a change to a handful of files",
    "phases": [{"title": "Find"}, {"title": "Verify"}, {"title": "Report"}],
}

BUGS = {
    "type": "object",
    "required": ["bugs"],
    "properties": {
        "bugs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["line", "title"],
                "properties": {"line": {"type": "integer"}, "title": {"type": "string"}},
            },
        }
    },
}
VERDICT = {
    "type": "object",
    "required": ["refuted"],
    "properties": {"refuted": {"type": "boolean"}, "why": {"type": "string"}},
}

files = (args or {}).get("files", ["calc.py", "strings.py"])

phase("Find")


async def verify(found, path):
    if found is None:
        return []
    checked = []
    for bug in found["bugs"]:
        votes = await parallel([
            agent(
                f"Skeptic {i}: try to REFUTE this claim about {path} line {bug['line']}: {bug['title']}. "
                "If unsure, answer refuted=true.",
                schema=VERDICT, label=f"verify {path}:{bug['line']}#{i}", phase="Verify",
            )
            for i in range(3)
        ])
        returned = [v for v in votes if v is not None]
        upheld = sum(1 for v in returned if not v["refuted"])
        verdict = "confirmed" if upheld >= 2 else ("refuted" if len(returned) - upheld >= 2 else "unverified")
        checked.append({"path": path, **bug, "verdict": verdict, "votes": len(returned)})
    return checked


results = await pipeline(
    files,
    lambda path: agent(f"Find real bugs in {path}; report line numbers.", schema=BUGS, label=f"find {path}"),
    verify,
)

phase("Report")
confirmed = [b for item in results if item for b in item if b["verdict"] == "confirmed"]
for bug in confirmed:
    report({"title": bug["title"], "location": {"path": bug["path"], "start_line": bug["line"]},
            "category": "bug", "verdict": "confirmed"})
log(f"{len(confirmed)} confirmed of {sum(len(i or []) for i in results)} reported")
return {"confirmed": confirmed, "files": len(files)}
