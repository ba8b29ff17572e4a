import assert from "node:assert/strict";
import { test } from "node:test";
import { OPEN, parseRulesListing, REMOVE, reviewRules, RuleInfo, RuleItem, ruleItems, RulesUi } from "../src/rules";

const LISTING = {
  path: "/ws/.claude/workcrew-rules.md",
  uri: "file:///ws/.claude/workcrew-rules.md",
  exists: true,
  rules: [
    { id: "R-1a2b3c", kind: "false-positive", text: "Not a bug here.", glob: "src/**", category: "bug", matches: "division by zero", origin: "“Division by zero” at `src/a.py:3`", line: 10 },
    { id: "R-4d5e6f", kind: "intended", text: "Raw SQL in migrations.", glob: "migrations/**", category: null, matches: null, origin: "", line: 20 },
    { kind: "broken: no id" },
  ],
  problems: [{ line: 30, message: "rule 'X': kind 'bogus' is not one of false-positive, intended, wont-fix", text: "…" }],
};

function scriptedUi(pick: (items: RuleItem[]) => RuleItem | undefined, action?: string, confirm = true) {
  const log: string[] = [];
  const ui: RulesUi = {
    pick: async (items) => pick(items),
    pickAction: async (rule: RuleInfo, actions: string[]) => {
      log.push(`actions ${rule.id}: ${actions.join(", ")}`);
      return action;
    },
    confirmRemove: async (rule) => {
      log.push(`confirm ${rule.id}`);
      return confirm;
    },
    reveal: async (path, line) => {
      log.push(`reveal ${path}:${line}`);
    },
    info: (message) => log.push(`info ${message}`),
  };
  return { ui, log };
}

function daemon(listing: unknown = LISTING) {
  const removed: string[] = [];
  return { removed, list: async () => listing, remove: async (id: string) => removed.push(id) };
}

test("the listing is read defensively: entries without an id are skipped", () => {
  const parsed = parseRulesListing(LISTING);
  assert.deepEqual(parsed.rules.map((r) => r.id), ["R-1a2b3c", "R-4d5e6f"]);
  assert.equal(parsed.problems[0].line, 30);
  assert.deepEqual(parseRulesListing(null), { path: "", exists: false, rules: [], problems: [] });
});

test("items: the file, its problems with their line, then each rule with its scope and origin", () => {
  const items = ruleItems(parseRulesListing(LISTING));
  assert.deepEqual(items.map((i) => i.kind), ["file", "problem", "rule", "rule"]);
  assert.match(items[0].description, /^2 rules · \/ws\/.claude\/workcrew-rules.md$/);
  assert.match(items[1].label, /Line 30: not applied/);
  assert.equal(items[2].label, "R-1a2b3c: Not a bug here.");
  assert.equal(items[2].description, "false-positive · src/** · bug · title has “division by zero”");
  assert.equal(items[2].detail, "“Division by zero” at `src/a.py:3`");
  assert.equal(items[3].detail, undefined);
});

test("open reveals the rule's line in the rules file", async () => {
  const { ui, log } = scriptedUi((items) => items[2], OPEN);
  const d = daemon();
  assert.equal(await reviewRules(d, ui), "opened");
  assert.deepEqual(log, [`actions R-1a2b3c: ${OPEN}, ${REMOVE}`, "reveal /ws/.claude/workcrew-rules.md:10"]);
  assert.deepEqual(d.removed, []);
});

test("remove asks first, then removes through the daemon and says so", async () => {
  const { ui, log } = scriptedUi((items) => items[3], REMOVE);
  const d = daemon();
  assert.equal(await reviewRules(d, ui), "removed");
  assert.deepEqual(d.removed, ["R-4d5e6f"]);
  assert.equal(log[1], "confirm R-4d5e6f");
  assert.match(log[2], /^info Removed rule R-4d5e6f/);
});

test("declining the confirmation or closing the pick removes nothing", async () => {
  const d = daemon();
  assert.equal(await reviewRules(d, scriptedUi((items) => items[2], REMOVE, false).ui), "cancelled");
  assert.equal(await reviewRules(d, scriptedUi(() => undefined).ui), "cancelled");
  assert.deepEqual(d.removed, []);
});

test("a problem opens the file at its line; no file at all says how rules are made", async () => {
  const { ui, log } = scriptedUi((items) => items[1]);
  assert.equal(await reviewRules(daemon(), ui), "opened");
  assert.deepEqual(log, ["reveal /ws/.claude/workcrew-rules.md:30"]);
  const empty = scriptedUi(() => undefined);
  assert.equal(await reviewRules(daemon({ path: "/ws/.claude/workcrew-rules.md", exists: false, rules: [], problems: [] }), empty.ui), "empty");
  assert.match(empty.log[0], /Dismiss a finding as a false positive or intended/);
});
