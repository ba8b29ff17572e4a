import assert from "node:assert/strict";
import { test } from "node:test";
import { agentDescription, agentTooltip, RunsModel, runTooltip } from "../src/runsModel";

const tree = (executor: string | undefined, workers: (string | null)[]) => ({
  runId: "r1",
  tree: {
    run_id: "r1",
    workflow: "fix-all",
    status: "running",
    ...(executor ? { executor } : {}),
    phases: [{ title: "Fix", agents: workers.map((worker, i) => ({ id: `a${i}`, label: `fix ${i}`, model: "simulated", state: "succeeded", tokens: 10, cost_usd: 0.001, elapsed_s: 1, worker })), done: workers.length, total: workers.length }],
    usage: { input_tokens: 8, output_tokens: 2, cost_usd: 0.001 },
  },
});

test("an agent that ran on a worker says which, in its description and its tooltip", () => {
  const run = new RunsModel().apply(tree("distributed (10.0.0.5:6379)", ["w1", "w2"]));
  const [first, second] = run?.phases[0].agents ?? [];
  assert.equal(first.worker, "w1");
  assert.equal(agentDescription(first), "succeeded · simulated · on w1 · 10 tok · $0.0010 · 1.0s");
  assert.match(agentTooltip(second), /^fix 1\nsucceeded on simulated\nworker: w2\n10 tok/);
});

test("the run's tooltip names its executor; a later update without it keeps it", () => {
  const model = new RunsModel();
  model.apply(tree("distributed (10.0.0.5:6379)", ["w1"]));
  const run = model.apply({ runId: "r1", tree: { run_id: "r1", status: "succeeded", phases: [] } });
  assert.ok(run);
  assert.match(runTooltip(run), /\n\nExecutor: distributed \(10\.0\.0\.5:6379\)/);
});

test("a local run's agents and run read as before: no worker, no executor", () => {
  const run = new RunsModel().apply(tree(undefined, [null]));
  assert.ok(run);
  const [agent] = run.phases[0].agents;
  assert.equal(agent.worker, "");
  assert.equal(agentDescription(agent), "succeeded · simulated · 10 tok · $0.0010 · 1.0s");
  assert.doesNotMatch(agentTooltip(agent), /worker/);
  assert.doesNotMatch(runTooltip(run), /Executor/);
});
