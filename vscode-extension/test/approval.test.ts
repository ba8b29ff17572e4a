import assert from "node:assert/strict";
import { test } from "node:test";
import { answerMessageRequest, ApprovalUi, detailsIdIn, displayText, scriptPathIn, setDetailsHandler } from "../src/approval";

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

// -- the short question and its details ------------------------------------------------------------------

const SHORT = "Run “review”: 24 agents · 180k–240k tokens · $0.40–$0.90 · ~3 min · 20 files\n⚠ Asked again: the scope grew: +stats.py\n(details: 3f2a9c1b0d4e)";
const SHORT_ACTIONS = [{ title: "Run" }, { title: "Details" }, { title: "Always run" }, { title: "Cancel" }];

function detailsUi(answers: (string | undefined)[], panel: (id: string, titles: string[]) => Promise<string | undefined>) {
  const { ui, asked, opened } = scriptedUi(answers);
  const shown: string[] = [];
  const ask = ui.ask;
  ui.ask = async (type, message, titles) => {
    shown.push(message);
    return ask(type, message, titles);
  };
  const panels: { id: string; titles: string[] }[] = [];
  ui.details = async (id, titles) => {
    panels.push({ id, titles });
    return panel(id, titles);
  };
  return { ui, asked, opened, shown, panels };
}

test("finds the details id and hides it from the user", () => {
  assert.equal(detailsIdIn(SHORT), "3f2a9c1b0d4e");
  assert.equal(displayText(SHORT), "Run “review”: 24 agents · 180k–240k tokens · $0.40–$0.90 · ~3 min · 20 files\n⚠ Asked again: the scope grew: +stats.py");
  assert.equal(detailsIdIn("Run “x”: 1 agent"), undefined);
});

test("Details opens the panel and its choice answers the approval, without asking again", async () => {
  const { ui, asked, shown, panels } = detailsUi(["Details"], async () => "Always run");
  const answer = await answerMessageRequest({ type: 3, message: SHORT, actions: SHORT_ACTIONS }, ui);
  assert.deepEqual(answer, { title: "Always run" });
  assert.equal(asked.length, 1);
  assert.ok(!shown[0].includes("details:"));
  assert.deepEqual(panels, [{ id: "3f2a9c1b0d4e", titles: ["Run", "Always run", "Cancel"] }]);
});

test("closing the panel cancels; a title the request did not offer cancels too", async () => {
  const closed = detailsUi(["Details"], async () => "Cancel");
  assert.deepEqual(await answerMessageRequest({ type: 3, message: SHORT, actions: SHORT_ACTIONS }, closed.ui), { title: "Cancel" });
  const odd = detailsUi(["Details"], async () => "Run twice");
  assert.deepEqual(await answerMessageRequest({ type: 3, message: SHORT, actions: SHORT_ACTIONS }, odd.ui), { title: "Cancel" });
});

test("without a panel the daemon gets Details (it shows its own page and asks again)", async () => {
  const { ui } = detailsUi(["Details"], async () => undefined);
  assert.deepEqual(await answerMessageRequest({ type: 3, message: SHORT, actions: SHORT_ACTIONS }, ui), { title: "Details" });
  const { ui: plain } = scriptedUi(["Details"]);
  setDetailsHandler(undefined);
  assert.deepEqual(await answerMessageRequest({ type: 3, message: SHORT, actions: SHORT_ACTIONS }, plain), { title: "Details" });
});

test("the registered panel is used when the UI brings none", async () => {
  const { ui } = scriptedUi(["Details"]);
  setDetailsHandler(async () => "Run");
  try {
    assert.deepEqual(await answerMessageRequest({ type: 3, message: SHORT, actions: SHORT_ACTIONS }, ui), { title: "Run" });
  } finally {
    setDetailsHandler(undefined);
  }
});

test("a file named in a warning line is not taken for the script", async () => {
  const again = "Run “review”: 2 agents\n⚠ Asked again: the scope grew: +stats.py";
  const { ui, opened } = scriptedUi(["Review script"]);
  const actions = [{ title: "Run" }, { title: "Review script" }, { title: "Cancel" }];
  assert.deepEqual(await answerMessageRequest({ type: 3, message: again, actions }, ui), { title: "Review script" });
  assert.deepEqual(opened, []);
});
