import assert from "node:assert/strict";
import { test } from "node:test";
import { askDismissal, describeDismissal, DismissUi, dismissWithoutReason, NoteOptions, REASONS, ReasonItem } from "../src/dismiss";

function scriptedUi(reason: string | undefined, note: string | undefined) {
  const asked: { reasons: string[]; title: string; note?: NoteOptions } = { reasons: [], title: "" };
  const ui: DismissUi = {
    pickReason: async (items: readonly ReasonItem[], title: string) => {
      asked.reasons = items.map((i) => i.label);
      asked.title = title;
      return items.find((i) => i.label === reason);
    },
    inputNote: async (options: NoteOptions) => {
      asked.note = options;
      return note;
    },
  };
  return { ui, asked };
}

test("the three reasons are offered, and the two that teach say so", () => {
  assert.deepEqual(REASONS.map((r) => r.kind), ["false-positive", "intended", "wont-fix"]);
  assert.deepEqual(REASONS.filter((r) => r.teaches).map((r) => r.kind), ["false-positive", "intended"]);
  assert.match(REASONS[0].description, /project rule/);
  assert.match(REASONS[2].description, /this finding only/);
});

test("a reason and a note become the daemon's arguments", async () => {
  const { ui, asked } = scriptedUi("False positive", "  callers check for an empty list  ");
  const request = await askDismissal("f_1", ui, "“Division by zero”");
  assert.deepEqual(request, { findingId: "f_1", reason: "false-positive", note: "callers check for an empty list" });
  assert.deepEqual(asked.reasons, ["False positive", "Intended", "Won't fix"]);
  assert.equal(asked.title, "Dismiss “Division by zero”: why?");
  assert.match(asked.note?.prompt ?? "", /project rule/);
});

test("an empty note is left out; won't fix says its note stays with the dismissal", async () => {
  const { ui, asked } = scriptedUi("Won't fix", "");
  assert.deepEqual(await askDismissal("f_2", ui), { findingId: "f_2", reason: "wont-fix" });
  assert.doesNotMatch(asked.note?.prompt ?? "", /rule/);
});

test("closing either question dismisses nothing", async () => {
  assert.equal(await askDismissal("f_3", scriptedUi(undefined, "x").ui), undefined);
  assert.equal(await askDismissal("f_3", scriptedUi("Intended", undefined).ui), undefined);
});

test("only the daemon's dismiss without a reason is intercepted", () => {
  assert.equal(dismissWithoutReason("workcrew.dismissFinding", [{ findingId: "f_1" }]), "f_1");
  assert.equal(dismissWithoutReason("workcrew.dismissFinding", [{ findingId: "f_1", reason: "intended" }]), undefined);
  assert.equal(dismissWithoutReason("workcrew.dismissFinding", []), undefined);
  assert.equal(dismissWithoutReason("workcrew.dismissFinding", [{ findingId: 42 }]), undefined);
  assert.equal(dismissWithoutReason("workcrew.applyAllFixes", [{ findingId: "f_1" }]), undefined);
});

test("the daemon's answer is told with the rule it added, or why it could not add one", () => {
  assert.deepEqual(
    describeDismissal({ dismissed: true, reason: "false-positive: callers check", rule: { id: "R-1a2b3c", path: "/ws/.claude/workcrew-rules.md", line: 10 } }),
    { message: "Dismissed as a false positive; later reviews follow the new project rule R-1a2b3c.", warning: false, rule: { id: "R-1a2b3c", path: "/ws/.claude/workcrew-rules.md", line: 10 } },
  );
  assert.deepEqual(describeDismissal({ dismissed: true, reason: "wont-fix", rule: null }), { message: "Dismissed as won't fix.", warning: false });
  const covering = describeDismissal({ dismissed: true, reason: "intended", rule: { id: "R-9", path: "/ws/r.md", line: 3 }, alsoDismissed: ["fp2"] });
  assert.equal(covering?.message, "Dismissed as intended; later reviews follow the new project rule R-9. It also covers 1 other open finding, dismissed with it.");
  const failed = describeDismissal({ dismissed: true, reason: "intended", rule: null, ruleError: "cannot write /ws/.claude/workcrew-rules.md: read-only" });
  assert.equal(failed?.warning, true);
  assert.match(failed?.message ?? "", /could not be written: cannot write/);
  assert.equal(describeDismissal({ dismissed: false }), undefined);
  assert.equal(describeDismissal(undefined), undefined);
});
