// The approval's details panel without `vscode`: the daemon's JSON (workcrew.approvalDetails) checked into
// typed data, the panel's HTML (strict CSP, every workspace string escaped: file names are attacker-controlled),
// the panel's messages validated, and Edit scope's unticked rows turned into exclude patterns.

export interface Range {
  low: number;
  expected: number;
  high: number;
}

export interface FileRow {
  path: string;
  bytes: number;
  tokens: number;
  share: number;
}

export interface FolderRow extends FileRow {
  files: number;
}

export interface PhaseRow {
  phase: string;
  agents: Range;
  costUsd: Range;
  models: { model: string; agents: number }[];
}

export interface ExcludedRow {
  reason: string;
  label: string;
  count: number;
  examples: string[];
}

export interface McpRow {
  name: string;
  what: string;
  approved: boolean;
  why: string;
}

export interface ApprovalDetails {
  id: string | undefined;
  workflow: string;
  description: string;
  headline: string;
  warning: string;
  target: { name: string; path: string | undefined };
  args: unknown;
  narrowable: boolean;
  script: { path: string | undefined; origin: string; sha256: string; source: string };
  provider: string;
  totals: { agents?: Range; tokens?: Range; costUsd?: Range; minutes?: Range; files: number };
  unavailable: string;
  cap: string;
  scope: string;
  phases: PhaseRow[];
  files: { total: number; bytes: number; tokens: number; top: FileRow[]; rest: FileRow & { files: number }; folders: FolderRow[] };
  excluded: ExcludedRow[];
  refused: { path: string; why: string }[];
  notes: string[];
  changes: string[];
  mcp: { servers: McpRow[]; error: string } | undefined;
  web: string;
  sandbox: string;
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strings = (v: unknown): string[] => list(v).filter((s): s is string => typeof s === "string");

function range(v: unknown): Range | undefined {
  if (!v || typeof v !== "object") return undefined;
  const r = v as Json;
  return { low: num(r.low), expected: num(r.expected), high: num(r.high) };
}

function fileRow(v: unknown): FileRow {
  const r = obj(v);
  return { path: str(r.path), bytes: num(r.bytes), tokens: num(r.tokens), share: num(r.share) };
}

/** The daemon's details, checked; undefined when they are not details at all (no workflow or headline). */
export function parseDetails(raw: unknown): ApprovalDetails | undefined {
  const d = obj(raw);
  if (!str(d.workflow) || !str(d.headline)) return undefined;
  const totals = obj(d.totals);
  const files = obj(d.files);
  const script = obj(d.script);
  const target = obj(d.target);
  const scope = obj(d.scope);
  const mcp = d.mcp && typeof d.mcp === "object" ? obj(d.mcp) : undefined;
  return {
    id: str(d.id) || undefined,
    workflow: str(d.workflow),
    description: str(d.description),
    headline: str(d.headline),
    warning: str(d.warning),
    target: { name: str(target.name) || str(d.workflow), path: str(target.path) || undefined },
    args: d.args ?? null,
    narrowable: d.narrowable === true,
    script: { path: str(script.path) || undefined, origin: str(script.origin), sha256: str(script.sha256), source: str(script.source) },
    provider: str(d.provider),
    totals: {
      agents: range(totals.agents),
      tokens: range(totals.tokens),
      costUsd: range(totals.cost_usd),
      minutes: range(totals.minutes),
      files: num(totals.files),
    },
    unavailable: str(d.estimate_unavailable),
    cap: str(obj(d.cap).text),
    scope: str(scope.described),
    phases: list(d.phases).map((p) => {
      const r = obj(p);
      return {
        phase: str(r.phase) || "(no phase)",
        agents: range(r.agents) ?? { low: 0, expected: 0, high: 0 },
        costUsd: range(r.cost_usd) ?? { low: 0, expected: 0, high: 0 },
        models: list(r.models).map((m) => ({ model: str(obj(m).model), agents: num(obj(m).agents) })),
      };
    }),
    files: {
      total: num(files.total),
      bytes: num(files.bytes),
      tokens: num(files.tokens),
      top: list(files.all ?? files.top).map(fileRow),
      rest: files.all ? { path: "", bytes: 0, tokens: 0, share: 0, files: 0 } : { ...fileRow(files.rest), files: num(obj(files.rest).files) },
      folders: list(files.folders).map((f) => ({ ...fileRow(f), files: num(obj(f).files) })),
    },
    excluded: list(d.excluded).map((e) => {
      const r = obj(e);
      return { reason: str(r.reason), label: str(r.label) || str(r.reason), count: num(r.count), examples: strings(r.examples) };
    }),
    refused: list(scope.refused).map((r) => ({ path: str(obj(r).path), why: str(obj(r).why) })),
    notes: [...strings(d.notes), ...strings(scope.notes)],
    changes: strings(d.changes),
    mcp: mcp
      ? {
          servers: list(mcp.servers).map((s) => {
            const r = obj(s);
            return { name: str(r.name), what: str(r.what), approved: r.approved === true, why: str(r.why) };
          }),
          error: str(mcp.error),
        }
      : undefined,
    web: str(obj(d.web).text),
    sandbox: str(d.sandbox),
  };
}

// -- formatting ------------------------------------------------------------------------------------------

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function tokensText(value: number): string {
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(1)}M`;
  if (value >= 100_000) return `${Math.round(value / 1000)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  return `${Math.round(value)}`;
}

export function dollarsText(value: number): string {
  if (value === 0) return "$0";
  return value < 0.01 ? "<$0.01" : `$${value.toFixed(2)}`;
}

export function spanText(r: Range | undefined, fmt: (v: number) => string): string {
  if (!r) return "—";
  const low = fmt(r.low);
  const high = fmt(r.high);
  return low === high ? low : `${low}–${high}`;
}

export function bytesText(value: number): string {
  if (value >= 1_048_576) return `${(value / 1_048_576).toFixed(1)} MB`;
  if (value >= 1024) return `${(value / 1024).toFixed(1)} KB`;
  return `${value} B`;
}

// -- Edit scope ------------------------------------------------------------------------------------------

/** A workspace path as a gitignore pattern that matches it alone (anchored; wildcards and escapes escaped). */
export function anchoredPattern(path: string): string {
  const escaped = path.replace(/[\\*?[\]]/g, (c) => `\\${c}`).replace(/ $/, "\\ ");
  return `/${escaped.replace(/^\/+/, "")}`;
}

/** Exclude patterns from the unticked files and folders plus the patterns the user typed (lines or commas). */
export function excludePatterns(unticked: string[], typed: string): string[] {
  const out = unticked.map(anchoredPattern);
  for (const raw of typed.split(/[\n,]/)) {
    const pattern = raw.trim();
    if (pattern && !pattern.startsWith("#") && pattern.length <= 1000) out.push(pattern);
  }
  return [...new Set(out)];
}

/** The rows the panel offers to untick: its files and folders (a message naming anything else is refused). */
export function scopeRows(details: ApprovalDetails): Set<string> {
  return new Set([...details.files.top.map((f) => f.path), ...details.files.folders.map((f) => f.path)]);
}

export type PanelMessage =
  | { kind: "answer"; title: string }
  | { kind: "openScript" }
  | { kind: "editScope"; exclude: string[] };

const MAX_TYPED = 20_000;

/** A message from the panel's page, checked: an offered title, a known row, bounded text; otherwise undefined. */
export function parsePanelMessage(raw: unknown, titles: string[], rows: Set<string>): PanelMessage | undefined {
  const m = obj(raw);
  switch (m.type) {
    case "answer":
      return typeof m.title === "string" && titles.includes(m.title) ? { kind: "answer", title: m.title } : undefined;
    case "openScript":
      return { kind: "openScript" };
    case "editScope": {
      const paths = list(m.paths);
      const typed = m.globs === undefined ? "" : m.globs;
      if (paths.length > rows.size || typeof typed !== "string" || typed.length > MAX_TYPED) return undefined;
      if (!paths.every((p) => typeof p === "string" && rows.has(p))) return undefined;
      return { kind: "editScope", exclude: excludePatterns(paths as string[], typed) };
    }
    default:
      return undefined;
  }
}

// -- the page --------------------------------------------------------------------------------------------

export interface PageOptions {
  nonce: string;
  cspSource: string;
  /** The question's own actions (Run, Always run, Cancel …); Details is not one of the panel's buttons. */
  titles: string[];
}

function table(head: string[], rows: string[][], numeric: number[] = []): string {
  const th = head.map((h, i) => `<th${numeric.includes(i) ? ' class="num"' : ""}>${escapeHtml(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="num"' : ""}>${c}</td>`).join("")}</tr>`).join("");
  return `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

function shareCell(share: number): string {
  return `<meter min="0" max="100" value="${escapeHtml(share.toFixed(2))}"></meter> ${escapeHtml(share.toFixed(1))}%`;
}

function tick(path: string, editable: boolean): string {
  return editable ? `<input type="checkbox" class="tick" checked data-path="${escapeHtml(path)}" aria-label="keep ${escapeHtml(path)}"> ` : "";
}

const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 1em 2em; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
.warning { color: var(--vscode-editorWarning-foreground); }
table { border-collapse: collapse; margin: .5em 0; } th, td { padding: 2px 10px; text-align: left; border-bottom: 1px solid var(--vscode-panel-border); }
td.num, th.num { text-align: right; } code { font-family: var(--vscode-editor-font-family); }
.actions { position: sticky; top: 0; background: var(--vscode-editor-background); padding: .6em 0; display: flex; gap: .5em; flex-wrap: wrap; }
button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 4px 12px; cursor: pointer; }
button.secondary { color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); }
.tick, .edit-only { display: none; } body.editing .tick { display: inline; } body.editing .edit-only { display: block; }
textarea { width: 100%; min-height: 3em; font-family: var(--vscode-editor-font-family); }
pre { overflow-x: auto; background: var(--vscode-textCodeBlock-background); padding: .5em; }
`;

const SCRIPT = `
const vscode = acquireVsCodeApi();
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-action]") : null;
  if (!button) return;
  const action = button.getAttribute("data-action");
  if (action === "answer") vscode.postMessage({ type: "answer", title: button.getAttribute("data-title") });
  else if (action === "openScript") vscode.postMessage({ type: "openScript" });
  else if (action === "editScope") document.body.classList.toggle("editing");
  else if (action === "applyScope") {
    const paths = Array.from(document.querySelectorAll("input.tick")).filter((i) => !i.checked).map((i) => i.getAttribute("data-path"));
    const globs = document.getElementById("globs");
    vscode.postMessage({ type: "editScope", paths, globs: globs ? globs.value : "" });
  }
});
`;

/** The whole panel page: totals, phases and models, files with their token share, what was left out, the script. */
export function renderDetailsHtml(d: ApprovalDetails, options: PageOptions): string {
  const { nonce, cspSource } = options;
  const esc = escapeHtml;
  const editable = d.narrowable;
  const buttons = options.titles
    .filter((t) => t !== "Details" && t !== "Review script")
    .map((t) => `<button data-action="answer" data-title="${esc(t)}"${t === "Run" ? "" : ' class="secondary"'}>${esc(t)}</button>`);
  if (editable) buttons.push('<button data-action="editScope" class="secondary">Edit scope</button>');
  if (d.script.path) buttons.push('<button data-action="openScript" class="secondary">Open script</button>');

  const parts: string[] = [];
  parts.push(`<h1>${esc(d.headline)}</h1>`);
  if (d.warning) parts.push(`<p class="warning">${esc(d.warning)}</p>`);
  if (d.description) parts.push(`<p>${esc(d.description)}</p>`);
  parts.push(`<div class="actions">${buttons.join("")}</div>`);

  const facts: string[][] = [
    ["Script", `${d.script.path ? `<code>${esc(d.script.path)}</code>` : "not saved to a file"}${d.script.origin === "builtin" ? " (built in)" : ""} · sha256 <code>${esc(d.script.sha256.slice(0, 12))}…</code>`],
    ["Provider", esc(d.provider)],
  ];
  if (d.scope) facts.push(["Scope", esc(d.scope)]);
  if (d.totals.agents) {
    facts.push(["Agents", esc(spanText(d.totals.agents, (v) => `${Math.round(v)}`))]);
    facts.push(["Tokens", esc(spanText(d.totals.tokens, tokensText))]);
    facts.push(["Cost", esc(spanText(d.totals.costUsd, dollarsText))]);
    facts.push(["Time", esc(spanText(d.totals.minutes, (v) => (v < 1 ? "<1 min" : `${Math.round(v)} min`)))]);
  } else {
    facts.push(["Estimate", esc(d.unavailable || "unavailable")]);
  }
  facts.push(["Cap", esc(d.cap)]);
  for (const change of d.changes) facts.push(["Asked again", esc(change)]);
  for (const note of d.notes) facts.push(["Note", esc(note)]);
  parts.push(table(["", ""], facts.map(([k, v]) => [`<strong>${esc(k)}</strong>`, v])));

  if (d.phases.length) {
    parts.push("<h2>Phases</h2>");
    parts.push(
      table(
        ["Phase", "Agents", "Cost", "Models"],
        d.phases.map((p) => [
          esc(p.phase),
          esc(spanText(p.agents, (v) => `${Math.round(v)}`)),
          esc(spanText(p.costUsd, dollarsText)),
          p.models.map((m) => `<code>${esc(m.model)}</code> × ${esc(m.agents)}`).join(", ") || "—",
        ]),
        [1, 2],
      ),
    );
  }

  const count = `${d.files.total.toLocaleString("en-US")} file${d.files.total === 1 ? "" : "s"}`;
  parts.push(`<h2>Files in scope: ${esc(count)}, ${esc(bytesText(d.files.bytes))}, ~${esc(tokensText(d.files.tokens))} tokens</h2>`);
  if (editable) {
    parts.push(
      `<div class="edit-only"><p>Untick what the run should leave out, or add patterns (gitignore syntax, one per line, e.g. <code>tests/</code>, <code>*.min.js</code>); the run starts again on what is left, with a fresh estimate.</p>` +
        `<textarea id="globs" aria-label="patterns to leave out"></textarea><p><button data-action="applyScope">Run with this scope</button></p></div>`,
    );
  }
  if (d.files.folders.length) {
    parts.push(table(["Folder", "Files", "Tokens", "Share"], d.files.folders.map((f) => [`${tick(f.path, editable)}<code>${esc(f.path)}</code>`, esc(f.files), esc(f.tokens.toLocaleString("en-US")), shareCell(f.share)]), [1, 2]));
  }
  if (d.files.top.length) {
    const rows = d.files.top.map((f) => [`${tick(f.path, editable)}<code>${esc(f.path)}</code>`, esc(bytesText(f.bytes)), esc(f.tokens.toLocaleString("en-US")), shareCell(f.share)]);
    if (d.files.rest.files) rows.push([`… ${esc(d.files.rest.files.toLocaleString("en-US"))} more files`, esc(bytesText(d.files.rest.bytes)), esc(d.files.rest.tokens.toLocaleString("en-US")), shareCell(d.files.rest.share)]);
    parts.push(table(["File", "Size", "Tokens", "Share"], rows, [1, 2]));
  } else {
    parts.push("<p>No file is in scope: the workflow decides what to read.</p>");
  }
  for (const r of d.refused) parts.push(`<p>Not in scope: <code>${esc(r.path)}</code>: ${esc(r.why)}</p>`);

  parts.push("<h2>Left out</h2>");
  parts.push(
    d.excluded.length
      ? table(["Why", "Count", "Examples"], d.excluded.map((e) => [esc(e.label), esc(e.count), e.examples.map((x) => `<code>${esc(x)}</code>`).join(", ")]), [1])
      : "<p>Nothing was left out.</p>",
  );

  if (d.mcp) {
    parts.push("<h2>MCP servers (.mcp.json)</h2>");
    if (d.mcp.error) parts.push(`<p class="warning">${esc(d.mcp.error)}</p>`);
    if (d.mcp.servers.length) {
      parts.push(table(["Server", "Runs", "Approved"], d.mcp.servers.map((s) => [`<code>${esc(s.name)}</code>`, `<code>${esc(s.what)}</code>`, s.approved ? esc(`yes (${s.why})`) : esc("not yet: Run starts it")])));
    }
  }
  if (d.web) parts.push(`<h2>Web research</h2><p>${esc(d.web)}</p>`);
  if (d.sandbox) parts.push(`<h2>Commands</h2><p class="warning">${esc(d.sandbox)}</p>`);
  parts.push(`<details><summary>Script${d.script.path ? ` <code>${esc(d.script.path)}</code>` : ""}</summary><pre><code>${esc(d.script.source)}</code></pre></details>`);

  // nothing but this page's own style and script: no remote content, no other scripts, no inline handlers
  const csp = [`default-src 'none'`, `style-src ${cspSource} 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${esc(`Run ${d.workflow}?`)}</title>
<style nonce="${esc(nonce)}">${STYLE}</style>
</head>
<body>
${parts.join("\n")}
<script nonce="${esc(nonce)}">${SCRIPT}</script>
</body>
</html>`;
}
