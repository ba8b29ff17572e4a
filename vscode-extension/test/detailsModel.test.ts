import assert from "node:assert/strict";
import { test } from "node:test";
import {
  anchoredPattern,
  escapeHtml,
  excludePatterns,
  parseDetails,
  parsePanelMessage,
  renderDetailsHtml,
  scopeRows,
} from "../src/detailsModel";

const range = (low: number, expected: number, high: number) => ({ low, expected, high });
const EVIL = `<img src=x onerror="alert(1)">.py`;

// What workcrew.approvalDetails returns (server/approval_data.py), trimmed to what the panel reads.
const RAW = {
  id: "3f2a9c1b0d4e",
  workflow: "review",
  description: "Find bugs file by file",
  headline: "Run “review”: 24 agents · 180k–240k tokens · $0.40–$0.90 · ~3 min · 3 files",
  warning: "⚠ MCP servers not approved yet: calc (Run starts them)",
  target: { name: "review", path: null },
  args: { focus: "bugs" },
  narrowable: true,
  script: { path: "/ws/builtin/review.py", origin: "builtin", sha256: "c93924e3a6f9d8f032266e8e531c0740", lines: 2, source: "phase('Find')\n# </script><script>alert(1)</script>\n" },
  provider: "anthropic",
  phases: [{ phase: "Find", agents: range(1, 3, 3), cost_usd: range(0.1, 0.2, 0.3), models: [{ model: "claude-haiku-5-5", agents: 3 }] }],
  totals: { agents: range(20, 24, 28), tokens: range(180_000, 200_000, 240_000), cost_usd: range(0.4, 0.6, 0.9), minutes: range(2, 3, 4), files: 3 },
  cap: { usd: 1.2, tokens: null, text: "hard cap $1.20: the run never spends more" },
  scope: { described: "the whole workspace", refused: [], notes: [] },
  files: {
    total: 3,
    bytes: 4000,
    tokens: 1000,
    top: [
      { path: "src/app.py", bytes: 2400, tokens: 600, share: 60 },
      { path: EVIL, bytes: 1200, tokens: 300, share: 30 },
    ],
    rest: { files: 1, bytes: 400, tokens: 100, share: 10 },
    folders: [{ path: "src/", files: 1, bytes: 2400, tokens: 600, share: 60 }],
  },
  excluded: [
    { reason: "default-exclude", label: "default exclude (dependencies …)", count: 1, examples: ["node_modules/"] },
    { reason: "secret", label: "a secret file", count: 1, examples: [".env"] },
  ],
  mcp: { servers: [{ name: "calc", what: "stdio: python tools/mcp.py", approved: false, why: "not approved" }], error: null },
  web: null,
  sandbox: null,
  changes: [],
  notes: [],
};

const TITLES = ["Run", "Always run", "Cancel"];

test("the daemon's details parse into the panel's data; anything else is refused", () => {
  const d = parseDetails(RAW);
  assert.ok(d);
  assert.equal(d.id, "3f2a9c1b0d4e");
  assert.deepEqual(d.target, { name: "review", path: undefined });
  assert.equal(d.files.top.length, 2);
  assert.equal(d.files.rest.files, 1);
  assert.deepEqual(d.phases[0].models, [{ model: "claude-haiku-5-5", agents: 3 }]);
  assert.equal(d.mcp?.servers[0].approved, false);
  assert.equal(parseDetails({ workflow: "x" }), undefined);
  assert.equal(parseDetails("nope"), undefined);
  // the full list, when asked for, replaces the top files and the summed rest
  const all = parseDetails({ ...RAW, files: { ...RAW.files, all: [...RAW.files.top, { path: "README.md", bytes: 400, tokens: 100, share: 10 }] } });
  assert.equal(all?.files.top.length, 3);
  assert.equal(all?.files.rest.files, 0);
});

test("the page escapes every workspace string and allows only its own nonce-tagged script", () => {
  const d = parseDetails(RAW);
  assert.ok(d);
  const html = renderDetailsHtml(d, { nonce: "abc123", cspSource: "vscode-resource:", titles: TITLES });
  assert.ok(!html.includes("<img"), "a file name became markup");
  assert.ok(!html.includes("</script><script>alert"), "the script's text became markup");
  assert.ok(html.includes(escapeHtml(EVIL)));
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? "";
  assert.match(csp, /default-src &#39;none&#39;/);
  assert.match(csp, /script-src &#39;nonce-abc123&#39;/);
  assert.ok(!/unsafe-inline|unsafe-eval|https?:/.test(csp));
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.ok(html.includes('<script nonce="abc123">'));
});

test("the page shows the totals, phases and models, files with their share, what was left out and the script", () => {
  const d = parseDetails(RAW);
  assert.ok(d);
  const html = renderDetailsHtml(d, { nonce: "n", cspSource: "c", titles: TITLES });
  assert.ok(html.includes(escapeHtml(RAW.headline)));
  assert.ok(html.includes("<code>claude-haiku-5-5</code> × 3"));
  assert.ok(html.includes('<meter min="0" max="100" value="60.00"></meter> 60.0%'));
  assert.ok(html.includes("… 1 more files"));
  assert.ok(html.includes("default exclude (dependencies …)") && html.includes("<code>node_modules/</code>"));
  assert.ok(html.includes("<details><summary>Script"));
  for (const title of TITLES) assert.ok(html.includes(`data-action="answer" data-title="${title}"`), title);
  assert.ok(html.includes('data-action="editScope"') && html.includes('data-action="openScript"'));
  assert.ok(html.includes('data-path="src/"') && html.includes('data-path="src/app.py"'));
  // a workflow that takes no files argument cannot be narrowed: no Edit scope, no ticks
  const fixed = renderDetailsHtml({ ...d, narrowable: false }, { nonce: "n", cspSource: "c", titles: TITLES });
  assert.ok(!fixed.includes('data-action="editScope"') && !fixed.includes("data-path="));
});

test("panel messages are checked: offered titles, known rows, bounded text", () => {
  const d = parseDetails(RAW);
  assert.ok(d);
  const rows = scopeRows(d);
  assert.deepEqual(parsePanelMessage({ type: "answer", title: "Run" }, TITLES, rows), { kind: "answer", title: "Run" });
  assert.equal(parsePanelMessage({ type: "answer", title: "Details" }, TITLES, rows), undefined);
  assert.equal(parsePanelMessage({ type: "answer", title: 42 }, TITLES, rows), undefined);
  assert.deepEqual(parsePanelMessage({ type: "openScript" }, TITLES, rows), { kind: "openScript" });
  assert.deepEqual(parsePanelMessage({ type: "editScope", paths: ["src/", EVIL], globs: "*.min.js, tests/\n# a note" }, TITLES, rows), {
    kind: "editScope",
    exclude: ["/src/", anchoredPattern(EVIL), "*.min.js", "tests/"],
  });
  assert.equal(parsePanelMessage({ type: "editScope", paths: ["/etc/passwd"] }, TITLES, rows), undefined);
  assert.equal(parsePanelMessage({ type: "editScope", paths: [], globs: "x".repeat(30_000) }, TITLES, rows), undefined);
  assert.equal(parsePanelMessage({ type: "runCommand", command: "rm -rf /" }, TITLES, rows), undefined);
  assert.equal(parsePanelMessage(null, TITLES, rows), undefined);
});

test("unticked paths become anchored patterns that match them alone", () => {
  assert.equal(anchoredPattern("src/app.py"), "/src/app.py");
  assert.equal(anchoredPattern("gen/"), "/gen/");
  assert.equal(anchoredPattern("a[1]*?.py"), "/a\\[1\\]\\*\\?.py");
  assert.equal(anchoredPattern("!important.md"), "/!important.md");
  assert.deepEqual(excludePatterns(["a.py", "a.py"], "a.py\n\n /a.py "), ["/a.py", "a.py"]);
});
