// Dismissing a finding: why (false positive / intended / won't fix) and an optional note, then the daemon's
// `workcrew.dismissFinding`. The "Dismiss finding" code action runs that daemon command with the finding's
// id only; the extension intercepts it (server.ts middleware) and asks here first, while other editors get
// the daemon's own question (window/showMessageRequest). The UI is injected: no `vscode` import, unit-tested.

export type DismissKind = "false-positive" | "intended" | "wont-fix";

export interface ReasonItem {
  kind: DismissKind;
  label: string;
  description: string;
  /** The daemon turns this reason into a project rule (.claude/workcrew-rules.md). */
  teaches: boolean;
}

export const REASONS: readonly ReasonItem[] = [
  { kind: "false-positive", label: "False positive", description: "Not a bug. Later reviews learn a project rule.", teaches: true },
  { kind: "intended", label: "Intended", description: "Works as designed. Later reviews learn a project rule.", teaches: true },
  { kind: "wont-fix", label: "Won't fix", description: "Real, but accepted. Hides this finding only.", teaches: false },
];

export const DISMISS_COMMAND = "workcrew.dismissFinding";

export interface NoteOptions {
  title: string;
  prompt: string;
  placeHolder: string;
}

export interface DismissUi {
  /** A quick pick of the reasons; undefined when it is closed. */
  pickReason(items: readonly ReasonItem[], title: string): Promise<ReasonItem | undefined>;
  /** An input box; "" when left empty, undefined when it is closed (Escape). */
  inputNote(options: NoteOptions): Promise<string | undefined>;
}

export interface DismissRequest {
  findingId: string;
  reason: DismissKind;
  note?: string;
}

/** The finding's id when `command` is the daemon's dismiss run without a reason (what the code action sends). */
export function dismissWithoutReason(command: string, args: readonly unknown[]): string | undefined {
  if (command !== DISMISS_COMMAND) return undefined;
  const first = args[0] as { findingId?: unknown; reason?: unknown } | undefined;
  if (!first || typeof first !== "object" || typeof first.findingId !== "string" || !first.findingId) return undefined;
  return first.reason === undefined || first.reason === null ? first.findingId : undefined;
}

/** Asks why, then for a note; undefined when either question is closed (nothing is dismissed then). */
export async function askDismissal(findingId: string, ui: DismissUi, what = "this finding"): Promise<DismissRequest | undefined> {
  const reason = await ui.pickReason(REASONS, `Dismiss ${what}: why?`);
  if (!reason) return undefined;
  const note = await ui.inputNote({
    title: `Dismiss ${what} as ${reason.label.toLowerCase()}`,
    prompt: reason.teaches
      ? "Why, in a sentence (optional): it becomes part of the project rule later reviews read."
      : "Why, in a sentence (optional): kept with the dismissal.",
    placeHolder: reason.kind === "intended" ? "e.g. callers validate the input before this point" : "e.g. the list is never empty here",
  });
  if (note === undefined) return undefined;
  const trimmed = note.trim();
  return trimmed ? { findingId, reason: reason.kind, note: trimmed } : { findingId, reason: reason.kind };
}

export interface DismissOutcome {
  message: string;
  warning: boolean;
  /** The rule the dismissal added, to reveal in the rules file. */
  rule?: { id: string; path: string; line: number };
}

const KIND_WORDS: Record<string, string> = { "false-positive": "a false positive", intended: "intended", "wont-fix": "won't fix" };

/** What to tell the user about the daemon's answer; undefined when nothing was dismissed. */
export function describeDismissal(result: unknown): DismissOutcome | undefined {
  const r = (result ?? {}) as { dismissed?: unknown; reason?: unknown; rule?: unknown; ruleError?: unknown; alsoDismissed?: unknown };
  if (r.dismissed !== true) return undefined;
  const kind = typeof r.reason === "string" ? r.reason.split(":")[0] : "";
  const base = `Dismissed as ${KIND_WORDS[kind] ?? kind}`;
  const rule = r.rule as { id?: unknown; path?: unknown; line?: unknown } | null | undefined;
  if (rule && typeof rule.id === "string" && typeof rule.path === "string") {
    const line = typeof rule.line === "number" && rule.line > 0 ? rule.line : 1;
    const others = Array.isArray(r.alsoDismissed) ? r.alsoDismissed.length : 0;
    const also = others ? ` It also covers ${others} other open finding${others === 1 ? "" : "s"}, dismissed with it.` : "";
    return { message: `${base}; later reviews follow the new project rule ${rule.id}.${also}`, warning: false, rule: { id: rule.id, path: rule.path, line } };
  }
  if (typeof r.ruleError === "string" && r.ruleError) {
    return { message: `${base}, but its project rule could not be written: ${r.ruleError}`, warning: true };
  }
  return { message: `${base}.`, warning: false };
}
