// Saved and built-in workflows as the daemon lists them, and the run arguments the user types.
// No `vscode` import (unit-tested).

export interface WorkflowInfo {
  name: string;
  description: string;
  path: string;
  /** "project", "personal" or "builtin" (whatever the daemon reports). */
  origin: string;
  whenToUse: string;
}

type Json = Record<string, unknown>;

function s(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** Accepts a list, or an object holding it under `workflows`; entries without a name are dropped. */
export function parseWorkflowList(result: unknown): WorkflowInfo[] {
  const list = Array.isArray(result) ? result : Array.isArray((result as Json | null)?.workflows) ? ((result as Json).workflows as unknown[]) : [];
  const out: WorkflowInfo[] = [];
  for (const raw of list) {
    if (!raw || typeof raw !== "object") continue;
    const w = raw as Json;
    const meta = (w.meta && typeof w.meta === "object" ? w.meta : {}) as Json;
    const name = s(w.name) || s(meta.name);
    if (!name) continue;
    out.push({
      name,
      description: s(w.description) || s(meta.description),
      path: s(w.path),
      origin: s(w.origin) || s(w.source) || s(w.scope) || (s(w.path) ? "project" : "builtin"),
      whenToUse: s(w.when_to_use) || s(meta.when_to_use),
    });
  }
  return out;
}

export type ParsedArgs = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * The run's `args`: empty → null; JSON (object, list, string, number) as is; otherwise a comma-separated
 * list of file paths, the most common input (`{"files": [...]}`).
 */
export function parseArgs(input: string): ParsedArgs {
  const trimmed = input.trim();
  if (!trimmed) return { ok: true, value: null };
  if (/^[[{"]/.test(trimmed) || /^-?\d/.test(trimmed) || ["true", "false", "null"].includes(trimmed)) {
    try {
      return { ok: true, value: JSON.parse(trimmed) };
    } catch (err) {
      return { ok: false, error: `Arguments look like JSON but do not parse (${(err as Error).message}). Fix the JSON, or type file paths separated by commas.` };
    }
  }
  const files = trimmed.split(",").map((f) => f.trim()).filter(Boolean);
  return { ok: true, value: { files } };
}

/** One line for a finished command: status, findings and spend, from whatever the daemon returned. */
export function describeResult(result: unknown): string {
  if (result === null || result === undefined) return "";
  if (typeof result === "string") return result;
  if (typeof result !== "object" || Array.isArray(result)) return "";
  const r = result as Json;
  const status = s(r.status) || s(r.state);
  if (!status) return s(r.message);
  const name = s(r.workflow) || s(r.name) || "workflow";
  const findingsRaw = r.findings ?? (r.counts as Json | undefined)?.findings;
  const findings = Array.isArray(findingsRaw) ? findingsRaw.length : typeof findingsRaw === "number" ? findingsRaw : undefined;
  const usage = (r.usage && typeof r.usage === "object" ? r.usage : {}) as Json;
  const cost = typeof usage.cost_usd === "number" ? usage.cost_usd : typeof r.cost_usd === "number" ? r.cost_usd : undefined;
  if (status === "running") {
    const runId = s(r.runId) || s(r.run_id);
    return `${name} started${runId ? ` (run ${runId})` : ""}; follow it in the Workflows view.`;
  }
  if (status === "review") return `review ${s(r.path) || "the script"}, then run it again when ready.`;
  const parts = [`${name} ${status}`];
  if (findings !== undefined) parts.push(`${findings} finding${findings === 1 ? "" : "s"}`);
  if (cost !== undefined) parts.push(`$${cost.toFixed(cost < 0.01 && cost > 0 ? 4 : 2)}`);
  const message = s(r.message);
  return parts.join(", ") + (message ? ` — ${message}` : "");
}

/**
 * "lines 4–6 of calc.py" for an editor selection (0-based lines); a selection that ends at column 0 of
 * the next line (a whole-line selection) does not include that line.
 */
export function selectionLabel(startLine: number, endLine: number, endCharacter: number, file: string): string {
  const last = endCharacter === 0 && endLine > startLine ? endLine - 1 : endLine;
  return last === startLine ? `line ${startLine + 1} of ${file}` : `lines ${startLine + 1}–${last + 1} of ${file}`;
}
