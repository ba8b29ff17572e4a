import assert from "node:assert/strict";
import { test } from "node:test";
import { answerMessageRequest, ApprovalUi, scriptPathIn } from "../src/approval";

const ACTIONS = [{ title: "Run" }, { title: "Review script" }, { title: "Cancel" }];
const MESSAGE = "Run review-calc? 7 agents, ~12k tokens, $0.04 (up to $0.09), ~1 min. Script: .claude/workflows/review-calc.py";

function scriptedUi(answers: (string | undefined)[], opens = true) {
  const asked: string[][] = [];
  const opened: string[] = [];
  const ui: ApprovalUi = {
    ask: async (_type, _message, titles) => {
      asked.push(titles);
      return answers.shift();
    },
    openScript: async (p) => {
      opened.push(p);
      return opens;
    },
  };
  return { ui, asked, opened };
}

test("finds the script named in the approval message", () => {
  assert.equal(scriptPathIn(MESSAGE), ".claude/workflows/review-calc.py");
  assert.equal(scriptPathIn("Script: `/tmp/a b/x.py`"), "/tmp/a b/x.py");
  assert.equal(scriptPathIn("no script here"), undefined);
  // The daemon's own line wins over file names mentioned in the description.
  assert.equal(scriptPathIn("Run workflow “x”: review `calc.py`\nScript: `/ws/.claude/workflows/x.py`"), "/ws/.claude/workflows/x.py");
});

test("Run is answered with the server's Run action", async () => {
  const { ui } = scriptedUi(["Run"]);
  assert.deepEqual(await answerMessageRequest({ type: 3, message: MESSAGE, actions: ACTIONS }, ui), { title: "Run" });
});

test("Review script opens the script and asks again", async () => {
  const { ui, asked, opened } = scriptedUi(["Review script", "Run"]);
  const answer = await answerMessageRequest({ type: 3, message: MESSAGE, actions: ACTIONS }, ui);
  assert.deepEqual(answer, { title: "Run" });
  assert.deepEqual(opened, [".claude/workflows/review-calc.py"]);
  assert.equal(asked.length, 2);
});

test("dismissing the notification cancels (null answer)", async () => {
  const { ui } = scriptedUi([undefined]);
  assert.equal(await answerMessageRequest({ type: 3, message: MESSAGE, actions: ACTIONS }, ui), null);
});

test("Review script goes to the daemon when the script cannot be opened here", async () => {
  const { ui, asked } = scriptedUi(["Review script"], false);
  assert.deepEqual(await answerMessageRequest({ type: 3, message: MESSAGE, actions: ACTIONS }, ui), { title: "Review script" });
  assert.equal(asked.length, 1);
});

test("other message requests pass through unchanged", async () => {
  const { ui, opened } = scriptedUi(["Yes"]);
  assert.deepEqual(await answerMessageRequest({ type: 2, message: "Overwrite x.py?", actions: [{ title: "Yes" }, { title: "No" }] }, ui), { title: "Yes" });
  assert.deepEqual(opened, []);
});
