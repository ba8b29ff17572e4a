meta = {
    "name": "triage-issues",
    "description": "Classify bug reports, merge duplicates and draft one reply per distinct problem",
    "when_to_use": "A backlog of user reports that may describe the same few problems",
    "phases": [{"title": "Classify"}, {"title": "Merge"}, {"title": "Reply"}],
}

from pydantic import BaseModel


class Triage(BaseModel):
    area: str
    severity: int  # 1 (cosmetic) .. 4 (data loss)
    summary: str


reports = (args or {}).get("reports", [
    "Totals are wrong when the cart is empty",
    "Crash: ZeroDivisionError on checkout with no items",
    "The title is cut off by one letter",
    "Export to CSV loses the last column",
])

# Classify every report independently; a report whose classifier fails is None and counted.
phase("Classify")
triaged = await parallel([
    agent(f"Classify this bug report. Report: {text!r}", schema=Triage, label=f"classify #{i}", effort="low")
    for i, text in enumerate(reports)
])
log(f"classified {triaged.succeeded} of {triaged.launched} reports" + (f"; failed: {triaged.reasons}" if triaged.failed else ""))

# A barrier is right here: merging needs every classification at once.
phase("Merge")
known = [{"id": i, "report": reports[i], **t.model_dump()} for i, t in enumerate(triaged) if t is not None]
groups = await agent(
    "Group these reports by the underlying problem. Answer {\"groups\": [[ids...], ...]}.\n" + str(known),
    schema={"type": "object", "required": ["groups"],
            "properties": {"groups": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}}},
    label="merge duplicates",
)
groups = groups["groups"] if groups else [[k["id"]] for k in known]

# One reply per distinct problem; no barrier needed between drafting and polishing.
phase("Reply")
replies = await pipeline(
    groups,
    lambda ids: agent(f"Draft a short reply to the reporters of: {[reports[i] for i in ids]}", label=f"draft {ids}"),
    lambda draft, ids: agent(f"Make this reply friendlier and shorter: {draft}", label=f"polish {ids}")
    if draft is not None else None,
)
return {
    "problems": len(groups),
    "replies": [{"reports": ids, "reply": reply} for ids, reply in zip(groups, replies)],
    "unclassified": sorted(triaged.reasons),
    "tokens": budget.spent(),
}
