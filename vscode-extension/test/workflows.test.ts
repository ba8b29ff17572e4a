import assert from "node:assert/strict";
import { test } from "node:test";
import { describeResult, parseArgs, parseWorkflowList, selectionLabel } from "../src/workflows";

test("workflow lists in either shape; nameless entries dropped", () => {
  const list = parseWorkflowList({
    workflows: [
      { name: "review", description: "Review files", path: ".claude/workflows/review.py", origin: "project" },
      { meta: { name: "audit", description: "Audit deps", when_to_use: "weekly" } },
      { description: "no name" },
    ],
  });
  assert.deepEqual(list.map((w) => [w.name, w.origin]), [["review", "project"], ["audit", "builtin"]]);
  assert.equal(list[1].whenToUse, "weekly");
  assert.deepEqual(parseWorkflowList([{ name: "x" }]).map((w) => w.name), ["x"]);
  assert.deepEqual(parseWorkflowList(null), []);
});

test("arguments: empty, JSON, or comma-separated files", () => {
  assert.deepEqual(parseArgs("  "), { ok: true, value: null });
  assert.deepEqual(parseArgs('{"files": ["a.py"]}'), { ok: true, value: { files: ["a.py"] } });
  assert.deepEqual(parseArgs("a.py, src/b.py"), { ok: true, value: { files: ["a.py", "src/b.py"] } });
  const bad = parseArgs("{files: 1}");
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? "" : bad.error, /do not parse/);
});

test("results are summarised in one line", () => {
  assert.equal(describeResult({ workflow: "review", status: "succeeded", findings: [{}, {}], usage: { cost_usd: 0.0312 } }), "review succeeded, 2 findings, $0.03");
  assert.equal(describeResult({ status: "cancelled", message: "declined" }), "workflow cancelled — declined");
  assert.equal(describeResult({ workflow: "review", status: "running", runId: "wf_1" }), "review started (run wf_1); follow it in the Workflows view.");
  assert.equal(describeResult(null), "");
  assert.equal(describeResult("done"), "done");
});

test("selection labels count whole-line selections correctly", () => {
  assert.equal(selectionLabel(3, 6, 0, "calc.py"), "lines 4–6 of calc.py");
  assert.equal(selectionLabel(3, 5, 12, "calc.py"), "lines 4–6 of calc.py");
  assert.equal(selectionLabel(3, 3, 9, "calc.py"), "line 4 of calc.py");
});
