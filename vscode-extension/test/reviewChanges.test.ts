import assert from "node:assert/strict";
import { test } from "node:test";
import { engineSettings, readConfig } from "../src/settings";
import { describeReview, modeItems, orderBranches, PickItem, presetFrom, reviewChanges, ReviewChangesParams, ReviewChangesUi } from "../src/reviewChanges";

function scriptedUi(picks: ((items: PickItem[]) => PickItem | undefined)[], opts: { branches?: string[] | Error; result?: unknown } = {}) {
  const sent: ReviewChangesParams[] = [];
  const infos: string[] = [];
  const errors: string[] = [];
  const shown: string[][] = [];
  const ui: ReviewChangesUi = {
    pick: async (items) => {
      shown.push(items.map((i) => i.label));
      return picks.shift()?.(items);
    },
    branches: async () => {
      if (opts.branches instanceof Error) throw opts.branches;
      return opts.branches ?? [];
    },
    execute: async (params) => {
      sent.push(params);
      if (opts.result instanceof Error) throw opts.result;
      return opts.result ?? { status: "running", runId: "wf_1", summary: "1 file, 3 changed lines in the uncommitted changes" };
    },
    info: (m) => infos.push(m),
    error: (m) => errors.push(m),
  };
  return { ui, sent, infos, errors, shown };
}

const byLabel = (label: string) => (items: PickItem[]) => items.find((i) => i.label === label);

test("uncommitted changes: one pick, the daemon is asked, the user told what is reviewed", async () => {
  const { ui, sent, infos, shown } = scriptedUi([byLabel("Uncommitted changes")]);
  assert.deepEqual(await reviewChanges(ui, ""), { uncommitted: true });
  assert.deepEqual(sent, [{ uncommitted: true }]);
  assert.deepEqual(shown, [["Uncommitted changes", "Against branch…"]]);
  assert.deepEqual(infos, ["Workcrew: Reviewing 1 file, 3 changed lines in the uncommitted changes."]);
});

test("the configured base is offered directly", async () => {
  const { ui, sent } = scriptedUi([byLabel("Against origin/main")]);
  assert.deepEqual(await reviewChanges(ui, "origin/main"), { base: "origin/main" });
  assert.deepEqual(sent, [{ base: "origin/main" }]);
});

test("against a branch: the branch list from git, main first", async () => {
  const { ui, sent, shown } = scriptedUi([byLabel("Against branch…"), byLabel("main")], { branches: ["feature", "origin/main", "main", "origin/HEAD"] });
  assert.deepEqual(await reviewChanges(ui, ""), { base: "main" });
  assert.deepEqual(shown[1], ["main", "origin/main", "feature"]);
  assert.deepEqual(sent, [{ base: "main" }]);
});

test("dismissing a pick sends nothing", async () => {
  const first = scriptedUi([() => undefined]);
  assert.equal(await reviewChanges(first.ui, ""), undefined);
  const second = scriptedUi([byLabel("Against branch…"), () => undefined], { branches: ["main"] });
  assert.equal(await reviewChanges(second.ui, ""), undefined);
  assert.deepEqual([...first.sent, ...second.sent], []);
});

test("no branches, a git failure and a daemon error are shown, not swallowed", async () => {
  const none = scriptedUi([byLabel("Against branch…")], { branches: [] });
  assert.equal(await reviewChanges(none.ui, ""), undefined);
  assert.match(none.errors[0], /no branch to compare with/);
  const broken = scriptedUi([byLabel("Against branch…")], { branches: new Error("not a git repository") });
  assert.equal(await reviewChanges(broken.ui, ""), undefined);
  assert.match(broken.errors[0], /cannot list the branches: not a git repository/);
  const failing = scriptedUi([], { result: new Error("/ws is not in a git repository") });
  assert.equal(await reviewChanges(failing.ui, "", { uncommitted: true }), undefined);
  assert.deepEqual(failing.errors, ["Workcrew: Review Changes failed: /ws is not in a git repository"]);
});

test("a preset skips the picks; nothing to review is left to the daemon's own message", async () => {
  const { ui, sent, infos, shown } = scriptedUi([], { result: { status: "nothing", message: "No changes to review" } });
  assert.deepEqual(await reviewChanges(ui, "main", presetFrom({ base: " dev " })), { base: "dev" });
  assert.deepEqual(sent, [{ base: "dev" }]);
  assert.deepEqual(shown, []);
  assert.deepEqual(infos, []);
});

test("helpers: presets, items, result text, branch order", () => {
  assert.equal(presetFrom({ rootUri: "file:///ws" }), undefined); // the SCM view's source control: ask
  assert.deepEqual(presetFrom({ uncommitted: true }), { uncommitted: true });
  assert.deepEqual(modeItems("main").map((i) => i.label), ["Uncommitted changes", "Against main", "Against branch…"]);
  assert.equal(describeReview({ status: "cancelled" }), "");
  assert.equal(describeReview({ status: "review" }), "Review the built-in review script, then run Review Changes again.");
  assert.deepEqual(orderBranches(["zeta", "upstream/master", "dev", "release"], "dev"), ["dev", "upstream/master", "release", "zeta"]);
});

test("workcrew.reviewOnSave reaches the daemon, also when turned off", () => {
  const settings = (values: Record<string, unknown>) => engineSettings(readConfig((key) => values[key]));
  assert.equal(settings({ reviewOnSave: true }).review_on_save, true);
  assert.equal(settings({}).review_on_save, false);
});
