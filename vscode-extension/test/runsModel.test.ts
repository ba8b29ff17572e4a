import assert from "node:assert/strict";
import { test } from "node:test";
import { agentDescription, finishedMessage, formatElapsed, formatTokens, formatUsd, resolutionText, runDescription, RunsModel, runContextValue, stateIcon, statusSummary } from "../src/runsModel";

const update = (status: string, agents: { state: string; cost: number }[]) => ({
  run_id: "r1",
  workflow: "review-calc",
  status,
  phases: [
    {
      title: "Find",
      agents: agents.map((a, i) => ({ id: `a${i}`, label: `find ${i}`, model: "claude-haiku-5-5", state: a.state, tokens: 1200, cost_usd: a.cost, elapsed_s: 2.5, last_tool: "read_file" })),
      done: agents.filter((a) => a.state === "done").length,
      total: agents.length,
      tokens: 1200 * agents.length,
      cost_usd: agents.reduce((s, a) => s + a.cost, 0),
    },
  ],
  counts: { findings: 1 },
  usage: { input_tokens: 2000, output_tokens: 400, cost_usd: 0.031 },
});

test("a runUpdate builds the run → phase → agent tree", () => {
  const model = new RunsModel();
  const run = model.apply(update("running", [{ state: "running", cost: 0.01 }, { state: "done", cost: 0.021 }]));
  assert.ok(run);
  assert.equal(run.workflow, "review-calc");
  assert.equal(run.phases[0].agents.length, 2);
  assert.equal(run.phases[0].done, 1);
  assert.equal(run.tokens, 2400);
  assert.equal(run.costUsd, 0.031);
  assert.equal(run.findings, 1);
});

test("the daemon's runUpdate nests the engine's tree; runFinished adds the findings count", () => {
  const model = new RunsModel();
  const tree = { run_id: "r9", workflow: "review", status: "running", phases: [{ title: "Find", agents: [{ id: "a1", label: "find calc.py", state: "succeeded", tokens: 10, cost_usd: 0.001, elapsed_s: 1 }], done: 1, total: 1, tokens: 10, cost_usd: 0.001 }], counts: { launched: 1 }, usage: { input_tokens: 8, output_tokens: 2, cost_usd: 0.001 } };
  const run = model.apply({ runId: "r9", tree });
  assert.equal(run?.runId, "r9");
  assert.equal(run?.phases[0].agents[0].label, "find calc.py");
  assert.equal(run?.tokens, 10);
  const finished = model.apply({ runId: "r9", workflow: "review", status: "succeeded", findings: 2, usage: { input_tokens: 8, output_tokens: 2, cost_usd: 0.001 } });
  assert.equal(finished?.status, "succeeded");
  assert.equal(finished?.findings, 2);
  assert.equal(finished?.phases.length, 1);
  assert.equal(finishedMessage(finished!), "review succeeded: 2 findings, $0.0010 (10 tok)");
});

test("listRuns rows (token columns at top level) are understood", () => {
  const run = new RunsModel().apply({ id: "r2", workflow: "w", status: "succeeded", input_tokens: 100, output_tokens: 20, cost_usd: 0.5, created_at: 1700000000 });
  assert.equal(run?.tokens, 120);
  assert.equal(run?.costUsd, 0.5);
});

test("later updates replace the tree and keep what they leave out", () => {
  const model = new RunsModel();
  model.apply({ ...update("running", [{ state: "running", cost: 0 }]), report_path: ".workcrew/reports/r1.md" });
  const run = model.apply({ run_id: "r1", workflow: "review-calc", status: "succeeded" });
  assert.equal(run?.status, "succeeded");
  assert.equal(run?.phases.length, 1, "phases kept from the earlier update");
  assert.equal(run?.reportPath, ".workcrew/reports/r1.md");
  assert.equal(model.list().length, 1);
});

test("newest run first; payloads without a run id are ignored", () => {
  const model = new RunsModel();
  model.apply({ run_id: "old", workflow: "a", status: "succeeded" });
  model.apply({ runId: "new", workflow: "b", status: "running" });
  assert.equal(model.apply({ workflow: "nameless" }), undefined);
  assert.deepEqual(model.list().map((r) => r.runId), ["new", "old"]);
  assert.deepEqual(model.active().map((r) => r.runId), ["new"]);
});

test("status bar shows running runs and their spend", () => {
  const model = new RunsModel();
  assert.match(statusSummary(model, "running").text, /Workcrew$/);
  model.apply(update("running", [{ state: "running", cost: 0.02 }]));
  model.apply({ ...update("paused", []), run_id: "r2", usage: { cost_usd: 0.5 } });
  model.apply({ run_id: "r3", workflow: "done", status: "succeeded", usage: { cost_usd: 9 } });
  const summary = statusSummary(model, "running");
  assert.equal(summary.text, "$(sync~spin) Workcrew: 2 running · $0.53");
  assert.match(summary.tooltip, /review-calc \(paused\) \$0\.50/);
  assert.match(statusSummary(model, "error").text, /warning/);
});

test("labels: icons per state, money, tokens and time", () => {
  assert.equal(stateIcon("running"), "sync~spin");
  assert.equal(stateIcon("failed"), "error");
  assert.equal(stateIcon("done"), "pass");
  assert.equal(stateIcon("weird"), "circle-outline");
  assert.equal(formatUsd(0.0042), "$0.0042");
  assert.equal(formatUsd(1.5), "$1.50");
  assert.equal(formatTokens(950), "950 tok");
  assert.equal(formatTokens(12_345), "12k tok");
  assert.equal(formatElapsed(75), "1m15s");
  const agent = { id: "a", label: "find x", model: "claude-haiku-5-5", state: "running", tokens: 1500, costUsd: 0.002, elapsedS: 3.25, lastTool: "grep", error: "" };
  assert.equal(agentDescription(agent), "running · claude-haiku-5-5 · 1.5k tok · $0.0020 · 3.3s · grep");
  const failed = { ...agent, state: "failed", error: "overloaded (529) after 6 retries" };
  assert.equal(agentDescription(failed), "failed · claude-haiku-5-5 · 1.5k tok · $0.0020 · 3.3s · overloaded (529) after 6 retries");
  assert.equal(runContextValue({ ...new RunsModel().apply({ run_id: "x", status: "paused" })! }), "run.paused");
});

test("listRuns resolution: what became of the run's findings, in the description and the tooltip", () => {
  const model = new RunsModel();
  const row = {
    id: "wf_1", workflow: "review", status: "succeeded", cost_usd: 0.03, input_tokens: 1000, output_tokens: 200,
    resolution: { total: 4, fixed: 1, dismissed: 1, dismissed_by: { "false-positive": 1 }, open: 2, rate: 0.25, acted_on: 0.5 },
  };
  const run = model.apply(row);
  assert.ok(run);
  assert.deepEqual(run.resolution, { total: 4, fixed: 1, dismissed: 1, dismissedBy: { "false-positive": 1 }, open: 2, rate: 0.25, actedOn: 0.5 });
  assert.equal(run.findings, 4, "a listed run's findings come from its resolution");
  assert.equal(runDescription(run), "succeeded · $0.03 · 1.2k tok · 4 findings · 1 fixed (25%)");
  assert.equal(resolutionText(run), "Findings: 1 fixed, 1 dismissed (false-positive 1), 2 open — resolution rate 25%, acted on 50%");

  // a later runUpdate without it keeps it; a run without findings says so and adds nothing to its description
  assert.deepEqual(model.apply({ run_id: "wf_1", workflow: "review", status: "succeeded" })?.resolution, run.resolution);
  const empty = model.apply({ id: "wf_2", workflow: "review", status: "succeeded", resolution: { total: 0, fixed: 0, dismissed: 0, dismissed_by: {}, open: 0, rate: null, acted_on: null } });
  assert.ok(empty);
  assert.equal(runDescription(empty), "succeeded · $0.00 · 0 tok");
  assert.equal(resolutionText(empty), "Findings: none reported");
  // a live run has no resolution yet
  const live = model.apply({ id: "wf_3", workflow: "review", status: "running" });
  assert.equal(live?.resolution, undefined);
  assert.equal(resolutionText(live!), "");
});
