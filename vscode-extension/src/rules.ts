// "Workcrew: Review Rules": the project's review rules (.claude/workcrew-rules.md, from `workcrew.listRules`)
// in a quick pick; a rule can be revealed in the file or removed (`workcrew.removeRule`), and the file's
// problems (a rule that is not applied) are listed with their line. UI and daemon injected: unit-tested.

export interface RuleInfo {
  id: string;
  kind: string;
  text: string;
  glob: string;
  category: string | null;
  matches: string | null;
  origin: string;
  line: number;
}

export interface RuleProblemInfo {
  line: number;
  message: string;
}

export interface RulesListing {
  path: string;
  exists: boolean;
  rules: RuleInfo[];
  problems: RuleProblemInfo[];
}

const text = (value: unknown, fallback = ""): string => (typeof value === "string" ? value : fallback);
const line = (value: unknown): number => (typeof value === "number" && value > 0 ? Math.floor(value) : 1);

/** The daemon's answer to workcrew.listRules, defensively (a malformed entry is skipped, never thrown on). */
export function parseRulesListing(value: unknown): RulesListing {
  const v = (value ?? {}) as Record<string, unknown>;
  const rules = (Array.isArray(v.rules) ? v.rules : [])
    .filter((r): r is Record<string, unknown> => !!r && typeof r === "object" && typeof (r as { id?: unknown }).id === "string")
    .map((r) => ({
      id: text(r.id),
      kind: text(r.kind, "false-positive"),
      text: text(r.text),
      glob: text(r.glob, "**"),
      category: typeof r.category === "string" ? r.category : null,
      matches: typeof r.matches === "string" ? r.matches : null,
      origin: text(r.origin),
      line: line(r.line),
    }));
  const problems = (Array.isArray(v.problems) ? v.problems : [])
    .filter((p): p is Record<string, unknown> => !!p && typeof p === "object")
    .map((p) => ({ line: typeof p.line === "number" ? p.line : 0, message: text(p.message, "unreadable rule") }));
  return { path: text(v.path), exists: v.exists === true, rules, problems };
}

export type RuleItem =
  | { kind: "file"; label: string; description: string; detail?: string; line: number }
  | { kind: "problem"; label: string; description: string; detail?: string; line: number }
  | { kind: "rule"; label: string; description: string; detail?: string; line: number; rule: RuleInfo };

/** The quick pick's items: the file itself, then its problems, then every rule. */
export function ruleItems(listing: RulesListing): RuleItem[] {
  const count = `${listing.rules.length} rule${listing.rules.length === 1 ? "" : "s"}`;
  const items: RuleItem[] = [{ kind: "file", label: "$(go-to-file) Open the rules file", description: `${count} · ${listing.path}`, line: 1 }];
  for (const problem of listing.problems) {
    items.push({ kind: "problem", label: `$(warning) Line ${problem.line || 1}: not applied`, description: problem.message, line: Math.max(problem.line, 1) });
  }
  for (const rule of listing.rules) {
    const scope = [rule.glob, rule.category, rule.matches ? `title has “${rule.matches}”` : null].filter(Boolean).join(" · ");
    items.push({ kind: "rule", label: `${rule.id}: ${rule.text}`, description: `${rule.kind} · ${scope}`, detail: rule.origin || undefined, line: rule.line, rule });
  }
  return items;
}

export const OPEN = "Open in rules file";
export const REMOVE = "Remove rule";

export interface RulesUi {
  pick(items: RuleItem[], placeHolder: string): Promise<RuleItem | undefined>;
  /** What to do with one rule: OPEN or REMOVE; undefined when closed. */
  pickAction(rule: RuleInfo, actions: string[]): Promise<string | undefined>;
  confirmRemove(rule: RuleInfo): Promise<boolean>;
  reveal(path: string, line: number): Promise<void>;
  info(message: string): void;
}

export interface RulesDaemon {
  list(): Promise<unknown>;
  remove(id: string): Promise<unknown>;
}

export type ReviewOutcome = "empty" | "cancelled" | "opened" | "removed";

export async function reviewRules(daemon: RulesDaemon, ui: RulesUi): Promise<ReviewOutcome> {
  const listing = parseRulesListing(await daemon.list());
  if (!listing.exists && !listing.rules.length && !listing.problems.length) {
    ui.info("No project rules yet. Dismiss a finding as a false positive or intended to add one (or run `workcrew rules add`).");
    return "empty";
  }
  const item = await ui.pick(ruleItems(listing), "Project review rules: pick one to open or remove");
  if (!item) return "cancelled";
  if (item.kind !== "rule") {
    await ui.reveal(listing.path, item.line);
    return "opened";
  }
  const action = await ui.pickAction(item.rule, [OPEN, REMOVE]);
  if (action === OPEN) {
    await ui.reveal(listing.path, item.rule.line);
    return "opened";
  }
  if (action !== REMOVE || !(await ui.confirmRemove(item.rule))) return "cancelled";
  await daemon.remove(item.rule.id);
  ui.info(`Removed rule ${item.rule.id}: later runs no longer follow it.`);
  return "removed";
}
