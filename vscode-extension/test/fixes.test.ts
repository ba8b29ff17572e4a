import assert from "node:assert/strict";
import { test } from "node:test";
import { describeFixAll, FixAllResult, fixAllVerified, FixAllUi, RunChoice } from "../src/fixes";

const RUNS: RunChoice[] = [
  { runId: "wf_1", workflow: "review", status: "succeeded", findings: 2 },
  { runId: "wf_2", workflow: "understand", status: "succeeded", findings: 0 },
];

const RESULT: FixAllResult = {
  runId: "wf_1",
  applied: true,
  check: { command: "python -m pytest -q", origin: "the check_command setting" },
  kept: [{ findingId: "f_1", title: "return 0.0 for an empty list" }],
  refused: [{ findingId: "f_2", title: "clamp the divisor", reason: "the fix breaks the check", check: { outputTail: "FAILED test_ratio\n1 failed" } }],
};

function scriptedUi(answer: unknown, pick?: RunChoice) {
  const calls: { command: string; args: unknown }[] = [];
  const logged: string[] = [];
  const errors: string[] = [];
  const offered: RunChoice[][] = [];
  const ui: FixAllUi = {
    pickRun: async (runs) => {
      offered.push(runs);
      return pick;
    },
    execute: async (command, args) => {
      calls.push({ command, args });
      if (answer instanceof Error) throw answer;
      return answer;
    },
    log: (line) => logged.push(line),
    error: (message) => errors.push(message),
  };
  return { ui, calls, logged, errors, offered };
}

test("says what was applied and what was refused, with the check's output", () => {
  assert.deepEqual(describeFixAll(RESULT), [
    "Fix All of run wf_1 with `python -m pytest -q` (the check_command setting): 1 applied, 1 refused.",
    "  applied: return 0.0 for an empty list",
    "  refused: clamp the divisor: the fix breaks the check",
    "    | FAILED test_ratio",
    "    | 1 failed",
  ]);
  assert.deepEqual(describeFixAll({ runId: "wf_1", applied: false, kept: [], refused: [], reason: "no confirmed fixes" }), [
    "Fix All of run wf_1: no confirmed fixes.",
  ]);
  assert.equal(describeFixAll({ ...RESULT, cancelled: true, kept: [], refused: [] })[0], "Fix All of run wf_1: cancelled; nothing was applied.");
});

test("the Runs view's run is fixed with verification; no picker", async () => {
  const { ui, calls, logged, offered } = scriptedUi(RESULT);
  assert.deepEqual(await fixAllVerified(ui, RUNS, RUNS[0]), RESULT);
  assert.deepEqual(calls, [{ command: "workcrew.fixAll", args: { runId: "wf_1", verify: true } }]);
  assert.equal(offered.length, 0);
  assert.match(logged[0], /1 applied, 1 refused/);
});

test("from the palette the runs with findings are offered; dismissing does nothing", async () => {
  const { ui, calls, offered } = scriptedUi(RESULT, undefined);
  assert.equal(await fixAllVerified(ui, RUNS), undefined);
  assert.deepEqual(offered, [[RUNS[0]]]);
  assert.equal(calls.length, 0);
});

test("a daemon error (no check command, refused command) is shown, not swallowed", async () => {
  const { ui, errors } = scriptedUi(new Error("no check command to verify fixes with: set check_command"), RUNS[0]);
  assert.equal(await fixAllVerified(ui, RUNS), undefined);
  assert.deepEqual(errors, ["Could not fix the findings of run wf_1: no check command to verify fixes with: set check_command"]);
});
