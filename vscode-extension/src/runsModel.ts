// The run tree from `workcrew/runUpdate` notifications (and `workcrew.listRuns`), kept as plain data plus
// the text the Runs view and the status bar show. No `vscode` import (unit-tested).

export interface AgentNode {
  id: string;
  label: string;
  model: string;
  state: string;
  tokens: number;
  costUsd: number;
  elapsedS: number;
  lastTool: string;
  error: string;
  /** The cluster worker its tools ran on (distributed executor); empty: this machine. */
  worker?: string;
}

export interface PhaseNode {
  title: string;
  agents: AgentNode[];
  done: number;
  total: number;
  tokens: number;
  costUsd: number;
}

/**
 * What became of a run's findings, as `workcrew.listRuns` reports it (engine/results/resolution.py):
 * rate = fixed / total (the resolution rate), actedOn = (fixed + dismissed) / total; null without findings.
 */
export interface Resolution {
  total: number;
  fixed: number;
  dismissed: number;
  dismissedBy: Record<string, number>;
  open: number;
  rate: number | null;
  actedOn: number | null;
}

export interface RunNode {
  runId: string;
  workflow: string;
  status: string;
  phases: PhaseNode[];
  tokens: number;
  costUsd: number;
  reportPath: string;
  scriptPath: string;
  findings: number;
  startedAt: number;
  /** Ended runs listed by the daemon: fixed / dismissed / open of the findings the run reported. */
  resolution?: Resolution;
  /** "distributed (HOST:6379)" for a run whose work went to a cluster; empty: this machine. */
  executor: string;
  /** Insertion order: newer runs first in the view. */
  seq: number;
}

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}
function text(...values: unknown[]): string {
  for (const v of values) if (typeof v === "string" && v) return v;
  return "";
}
function number(...values: unknown[]): number {
  for (const v of values) if (typeof v === "number" && Number.isFinite(v)) return v;
  return 0;
}

function usageTokens(usage: Json): number {
  const direct = number(usage.total_tokens, usage.tokens);
  if (direct) return direct;
  return number(usage.input_tokens) + number(usage.output_tokens) + number(usage.cache_read_input_tokens) + number(usage.cache_creation_input_tokens);
}

function parseAgent(raw: unknown): AgentNode {
  const a = obj(raw);
  return {
    id: text(a.id, a.agent_id),
    label: text(a.label, a.id, a.agent_id) || "agent",
    model: text(a.model),
    state: text(a.state, a.status) || "queued",
    tokens: number(a.tokens) || usageTokens(obj(a.usage)),
    costUsd: number(a.cost_usd, obj(a.usage).cost_usd),
    elapsedS: number(a.elapsed_s),
    lastTool: text(a.last_tool),
    error: text(a.error),
    worker: text(a.worker),
  };
}

function parsePhase(raw: unknown): PhaseNode {
  const p = obj(raw);
  const agents = Array.isArray(p.agents) ? p.agents.map(parseAgent) : [];
  const finished = agents.filter((a) => isTerminal(a.state)).length;
  return {
    title: text(p.title, p.name) || "(no phase)",
    agents,
    done: typeof p.done === "number" ? p.done : finished,
    total: typeof p.total === "number" ? p.total : agents.length,
    tokens: number(p.tokens) || agents.reduce((s, a) => s + a.tokens, 0),
    costUsd: number(p.cost_usd) || agents.reduce((s, a) => s + a.costUsd, 0),
  };
}

const TERMINAL_AGENT = new Set(["done", "finished", "succeeded", "failed", "skipped", "cancelled", "canceled", "cached"]);
const ACTIVE_RUN = new Set(["pending", "queued", "running", "started", "paused", "estimating", "awaiting_approval"]);

export function isTerminal(state: string): boolean {
  return TERMINAL_AGENT.has(state);
}

export function isActiveRun(status: string): boolean {
  return ACTIVE_RUN.has(status);
}

function ratio(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The `resolution` of a listRuns entry; undefined when the entry has none (a live run, an older daemon). */
export function parseResolution(raw: unknown): Resolution | undefined {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return undefined;
  const r = raw as Json;
  const dismissedBy: Record<string, number> = {};
  for (const [kind, count] of Object.entries(obj(r.dismissed_by ?? r.dismissedBy))) {
    if (typeof count === "number" && count > 0) dismissedBy[kind] = count;
  }
  const fixed = number(r.fixed);
  const open = number(r.open);
  const dismissed = number(r.dismissed) || Object.values(dismissedBy).reduce((s, n) => s + n, 0);
  return {
    total: number(r.total) || fixed + dismissed + open,
    fixed,
    dismissed,
    dismissedBy,
    open,
    rate: ratio(r.rate),
    actedOn: ratio(r.acted_on ?? r.actedOn),
  };
}

function resolutionOf(resolution: Resolution | undefined): { resolution?: Resolution } {
  return resolution ? { resolution } : {};
}

/** Parses a runUpdate payload or a listRuns entry; returns undefined when it has no run id. */
export function parseRun(raw: unknown): Omit<RunNode, "seq"> | undefined {
  // runUpdate nests the engine's tree: {runId, tree: {run_id, workflow, status, phases, counts, usage}}.
  const outer = obj(raw);
  const r: Json = { ...outer, ...obj(outer.tree) };
  const runId = text(r.run_id, r.runId, r.id);
  if (!runId) return undefined;
  const usage = obj(r.usage);
  const phases = Array.isArray(r.phases) ? r.phases.map(parsePhase) : [];
  const counts = obj(r.counts);
  const resolution = parseResolution(r.resolution);
  const findings = (Array.isArray(r.findings) ? r.findings.length : number(counts.findings, r.findings)) || (resolution?.total ?? 0);
  return {
    runId,
    workflow: text(r.workflow, r.workflow_name, r.name) || "workflow",
    status: text(r.status, r.state) || "running",
    phases,
    // listRuns rows carry the token columns at top level, live runs under `usage`.
    tokens: usageTokens(usage) || number(r.tokens) || usageTokens(r) || phases.reduce((s, p) => s + p.tokens, 0),
    costUsd: number(usage.cost_usd, r.cost_usd) || phases.reduce((s, p) => s + p.costUsd, 0),
    reportPath: text(r.report_path, r.report, r.reportPath),
    scriptPath: text(r.script_path, r.path, r.scriptPath),
    findings,
    startedAt: number(r.started_at, r.startedAt, r.created_at),
    ...resolutionOf(resolution),
    executor: text(r.executor),
  };
}

/** All known runs by id; updates replace a run's tree but keep fields the update leaves out. */
export class RunsModel {
  private readonly runs = new Map<string, RunNode>();
  private seq = 0;

  /** Applies one payload; returns the run it touched, or undefined for a payload without a run id. */
  apply(raw: unknown): RunNode | undefined {
    const parsed = parseRun(raw);
    if (!parsed) return undefined;
    const previous = this.runs.get(parsed.runId);
    const merged: RunNode = previous
      ? {
          ...parsed,
          phases: parsed.phases.length ? parsed.phases : previous.phases,
          reportPath: parsed.reportPath || previous.reportPath,
          scriptPath: parsed.scriptPath || previous.scriptPath,
          findings: parsed.findings || previous.findings,
          startedAt: parsed.startedAt || previous.startedAt,
          tokens: parsed.tokens || previous.tokens,
          costUsd: parsed.costUsd || previous.costUsd,
          ...resolutionOf(parsed.resolution ?? previous.resolution),
          executor: parsed.executor || previous.executor,
          seq: previous.seq,
        }
      : { ...parsed, seq: ++this.seq };
    this.runs.set(merged.runId, merged);
    return merged;
  }

  get(runId: string): RunNode | undefined {
    return this.runs.get(runId);
  }

  /** Newest first. */
  list(): RunNode[] {
    return [...this.runs.values()].sort((a, b) => b.seq - a.seq);
  }

  active(): RunNode[] {
    return this.list().filter((r) => isActiveRun(r.status));
  }

  clear(): void {
    this.runs.clear();
  }
}

export function formatUsd(usd: number): string {
  if (usd === 0) return "$0.00";
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

export function formatTokens(tokens: number): string {
  if (tokens >= 1_000_000) return `${(tokens / 1_000_000).toFixed(1)}M tok`;
  if (tokens >= 10_000) return `${Math.round(tokens / 1000)}k tok`;
  if (tokens >= 1000) return `${(tokens / 1000).toFixed(1)}k tok`;
  return `${tokens} tok`;
}

export function formatElapsed(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return `${m}m${s.toString().padStart(2, "0")}s`;
}

/** Codicon for an agent state or run status (https://code.visualstudio.com/api/references/icons-in-labels). */
export function stateIcon(state: string): string {
  switch (state) {
    case "queued":
    case "pending":
      return "clock";
    case "running":
    case "started":
    case "estimating":
      return "sync~spin";
    case "paused":
    case "awaiting_approval":
      return "debug-pause";
    case "done":
    case "finished":
    case "succeeded":
      return "pass";
    case "cached":
      return "database";
    case "failed":
      return "error";
    case "skipped":
    case "cancelled":
    case "canceled":
      return "circle-slash";
    default:
      return "circle-outline";
  }
}

function percent(value: number | null): string {
  return value === null ? "-" : `${Math.round(value * 100)}%`;
}

export function runDescription(run: RunNode): string {
  const parts = [run.status, formatUsd(run.costUsd), formatTokens(run.tokens)];
  if (run.findings) parts.push(`${run.findings} finding${run.findings === 1 ? "" : "s"}`);
  const resolution = run.resolution;
  if (resolution && resolution.total) parts.push(`${resolution.fixed} fixed (${percent(resolution.rate)})`);
  return parts.join(" · ");
}

/**
 * The run's findings as they stand now, for the tooltip:
 * "Findings: 1 fixed, 1 dismissed (false-positive 1), 2 open — resolution rate 25%, acted on 50%".
 */
export function resolutionText(run: RunNode): string {
  const r = run.resolution;
  if (!r) return "";
  if (!r.total) return "Findings: none reported";
  const kinds = Object.entries(r.dismissedBy).sort(([a], [b]) => a.localeCompare(b)).map(([kind, n]) => `${kind} ${n}`);
  const dismissed = `${r.dismissed} dismissed${kinds.length ? ` (${kinds.join(", ")})` : ""}`;
  return `Findings: ${r.fixed} fixed, ${dismissed}, ${r.open} open — resolution rate ${percent(r.rate)}, acted on ${percent(r.actedOn)}`;
}

export function phaseDescription(phase: PhaseNode): string {
  return `${phase.done}/${phase.total} · ${formatUsd(phase.costUsd)} · ${formatTokens(phase.tokens)}`;
}

/** The run's tooltip (Markdown): workflow, status, id, spend, where its work ran, what became of its findings. */
export function runTooltip(run: RunNode): string {
  return (
    `**${run.workflow}** — ${run.status}\n\nRun \`${run.runId}\`\n\n${formatUsd(run.costUsd)} · ${formatTokens(run.tokens)}` +
    (run.executor ? `\n\nExecutor: ${run.executor}` : "") +
    (run.resolution ? `\n\n${resolutionText(run)}` : "")
  );
}

export function agentDescription(agent: AgentNode): string {
  const parts = [agent.state];
  if (agent.model) parts.push(agent.model);
  if (agent.worker) parts.push(`on ${agent.worker}`);
  parts.push(formatTokens(agent.tokens), formatUsd(agent.costUsd), formatElapsed(agent.elapsedS));
  if (agent.lastTool && !isTerminal(agent.state)) parts.push(agent.lastTool);
  if (agent.error) parts.push(agent.error);
  return parts.join(" · ");
}

/** The agent's tooltip: label, state and model, the worker it ran on, spend, last tool, error. */
export function agentTooltip(agent: AgentNode): string {
  return (
    `${agent.label}\n${agent.state}${agent.model ? ` on ${agent.model}` : ""}` +
    (agent.worker ? `\nworker: ${agent.worker}` : "") +
    `\n${formatTokens(agent.tokens)}, ${formatUsd(agent.costUsd)}, ${formatElapsed(agent.elapsedS)}` +
    (agent.lastTool ? `\nlast tool: ${agent.lastTool}` : "") +
    (agent.error ? `\nerror: ${agent.error}` : "")
  );
}

/** Context value for menus: `run.<status>` (package.json's view/item/context uses it). */
export function runContextValue(run: RunNode): string {
  return `run.${run.status}`;
}

/** The notification when a run ends: "review succeeded: 2 findings, $0.03 (1.2k tok)". */
export function finishedMessage(run: RunNode): string {
  const findings = `${run.findings} finding${run.findings === 1 ? "" : "s"}`;
  return `${run.workflow} ${run.status}: ${findings}, ${formatUsd(run.costUsd)} (${formatTokens(run.tokens)})`;
}

export interface StatusSummary {
  text: string;
  tooltip: string;
}

/** The status-bar item: running runs and what they spent so far. */
export function statusSummary(model: RunsModel, serverState: "starting" | "running" | "stopped" | "error"): StatusSummary {
  if (serverState === "starting") return { text: "$(loading~spin) Workcrew", tooltip: "Workcrew: starting the daemon…" };
  if (serverState === "error" || serverState === "stopped") {
    return { text: "$(warning) Workcrew", tooltip: "Workcrew: the daemon is not running. Click to open the Workflows view; see the Workcrew output for details." };
  }
  const active = model.active();
  if (!active.length) return { text: "$(checklist) Workcrew", tooltip: "Workcrew: no runs in progress. Click to open the Workflows view." };
  const spent = active.reduce((s, r) => s + r.costUsd, 0);
  const lines = active.map((r) => `${r.workflow} (${r.status}) ${formatUsd(r.costUsd)}`);
  return {
    text: `$(sync~spin) Workcrew: ${active.length} running · ${formatUsd(spent)}`,
    tooltip: `Workcrew runs in progress:\n${lines.join("\n")}`,
  };
}
