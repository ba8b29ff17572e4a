meta = {
    "name": "understand",
    "description": "Parallel readers summarise each module, one synthesizer merges them into a structured map of the code",
    "when_to_use": "Before changing unfamiliar code or onboarding onto a repository whose modules can be read independently",
    "phases": [{"title": "Scope"}, {"title": "Read"}, {"title": "Synthesize"}],
    "args": {
        "modules": "list of workspace-relative files or folders, one reader each (default: `workcrew run` and the editor pass the source files in the workspace's scope; started with none, a scout agent lists the modules)",
        "question": "optional: what the map should help answer (for example 'where is authentication handled?')",
        "max_modules": "how many modules a scout-made list may hold (default 40); the rest are reported as dropped",
    },
}

import json

READING = {
    "type": "object",
    "required": ["summary", "responsibilities", "key_symbols", "depends_on"],
    "properties": {
        "summary": {"type": "string"},
        "responsibilities": {"type": "array", "items": {"type": "string"}},
        "key_symbols": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "kind"],
                "properties": {
                    "name": {"type": "string"},
                    "kind": {"type": "string"},
                    "path": {"type": "string"},
                    "line": {"type": "integer"},
                    "role": {"type": "string"},
                },
            },
        },
        "depends_on": {"type": "array", "items": {"type": "string"}},
        "entry_points": {"type": "array", "items": {"type": "string"}},
        "open_questions": {"type": "array", "items": {"type": "string"}},
    },
}
MAP = {
    "type": "object",
    "required": ["overview", "components", "where_to_start"],
    "properties": {
        "overview": {"type": "string"},
        "components": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "modules", "role"],
                "properties": {
                    "name": {"type": "string"},
                    "modules": {"type": "array", "items": {"type": "string"}},
                    "role": {"type": "string"},
                },
            },
        },
        "data_flow": {"type": "array", "items": {"type": "string"}},
        "where_to_start": {"type": "array", "items": {"type": "string"}},
        "answer": {"type": "string"},
    },
}

SCOUT = "List this project's modules worth reading to understand it: source files or small folders, workspace-relative, most central first. Skip tests, generated and vendored code."

opts = args if isinstance(args, dict) else ({"modules": args} if isinstance(args, list) else {})
question = opts.get("question") or ""
max_modules = int(opts.get("max_modules") or 40)

phase("Scope")
scope = await scout(opts.get("modules"), SCOUT, what="modules", limit=max_modules, limit_name="max_modules", verb="reading")
modules, dropped = scope["items"], scope["dropped"]

phase("Read")
focus = f" Keep this question in mind: {question}" if question else ""
readings = await parallel([
    agent(
        f"Read {m} and describe it for someone new to the code: a summary, its responsibilities, its key "
        f"symbols (name, kind, path, line, role), what it depends on, its entry points, and open questions.{focus}",
        schema=READING, label=f"read {m}", phase="Read",
    )
    for m in modules
])
read = []
for index, m in enumerate(modules):
    if readings[index] is None:
        dropped.append({"item": m, "reason": f"not read: {readings.reasons.get(index, 'the reader failed')}"})
    else:
        read.append({"module": m, **readings[index]})
log(f"read {len(read)} of {len(modules)} modules ({readings.failed} readers failed)")
if not read:
    return {"summary": "No map: every reader failed.", "dropped": dropped}

phase("Synthesize")
notes = json.dumps(read, indent=1)
asked = f"\nAlso answer: {question}" if question else ""
code_map = await agent(
    "Merge these per-module readings into one map of the code: an overview, components (name, modules, role), "
    f"the data flow as ordered steps, and where a newcomer should start reading.{asked}\n\nReadings:\n{notes}",
    schema=MAP, label="synthesize map", phase="Synthesize",
)
if code_map is None:
    dropped.append({"item": "map", "reason": "the synthesizer failed; the per-module readings are returned as they are"})

lines = []
if code_map is not None:
    lines.append(code_map["overview"])
    lines.append("")
    for component in code_map["components"]:
        lines.append(f"- **{component['name']}** ({', '.join(component['modules'])}): {component['role']}")
    if code_map.get("data_flow"):
        lines.append("")
        lines.append("Data flow: " + " → ".join(code_map["data_flow"]))
    if code_map.get("where_to_start"):
        lines.append("")
        lines.append("Start with: " + ", ".join(code_map["where_to_start"]))
    if code_map.get("answer"):
        lines.append("")
        lines.append(f"Answer: {code_map['answer']}")
summary = f"Map of {len(read)} of {len(modules)} modules.\n\n" + "\n".join(lines)
return {
    "summary": summary.strip(),
    "map": code_map,
    "modules": read,
    "counts": {"modules": len(modules), "read": len(read), "dropped": len(dropped)},
    "dropped": dropped,
}
