// "Fix All (Verified)": every confirmed fix of a run, each checked by the daemon on a scratch copy with the
// project's check command; only those that keep the check passing reach the editor (workcrew.fixAll).
// The daemon shows its own summary (window/showMessage) and a cancellable progress bar; this module picks the
// run and writes what was kept and refused to the output channel. The UI is injected, so it is unit-tested.

export interface FixRef {
  findingId: string;
  title: string;
}

export interface RefusedFix extends FixRef {
  reason: string;
  check?: { outputTail?: string };
}

export interface FixAllResult {
  runId: string;
  applied: boolean;
  cancelled?: boolean;
  reason?: string;
  check?: { command?: string; origin?: string };
  kept: FixRef[];
  refused: RefusedFix[];
}

export interface RunChoice {
  runId: string;
  workflow: string;
  status: string;
  findings: number;
}

export interface FixAllUi {
  /** Lets the user choose a run (Command Palette); undefined when dismissed. */
  pickRun(runs: RunChoice[]): Promise<RunChoice | undefined>;
  execute(command: string, args: Record<string, unknown>): Promise<unknown>;
  log(line: string): void;
  error(message: string): void;
}

/** What the output channel says about a Fix All: the check, each fix kept, each refused with its reason. */
export function describeFixAll(result: FixAllResult): string[] {
  const lines: string[] = [];
  const command = result.check?.command ? ` with \`${result.check.command}\` (${result.check.origin ?? "check"})` : "";
  if (result.cancelled) lines.push(`Fix All of run ${result.runId}: cancelled; nothing was applied.`);
  else if (!result.kept.length && !result.refused.length) lines.push(`Fix All of run ${result.runId}: ${result.reason ?? "nothing to fix"}.`);
  else lines.push(`Fix All of run ${result.runId}${command}: ${result.kept.length} applied, ${result.refused.length} refused.`);
  for (const fix of result.kept) lines.push(`  applied: ${fix.title}`);
  for (const fix of result.refused) {
    lines.push(`  refused: ${fix.title}: ${fix.reason}`);
    const tail = fix.check?.outputTail?.trim();
    if (tail) lines.push(...tail.split("\n").map((line) => `    | ${line}`));
  }
  return lines;
}

/** Runs worth offering: the ones that reported findings (all runs when none did, so the choice is never empty). */
export function fixableRuns(runs: RunChoice[]): RunChoice[] {
  const withFindings = runs.filter((run) => run.findings > 0);
  return withFindings.length ? withFindings : runs;
}

/** The command behind "Fix All (Verified)": the run from the Runs view, else one the user picks. */
export async function fixAllVerified(ui: FixAllUi, runs: RunChoice[], fromView?: RunChoice): Promise<FixAllResult | undefined> {
  const run = fromView ?? (await ui.pickRun(fixableRuns(runs)));
  if (!run) return undefined;
  try {
    const result = (await ui.execute("workcrew.fixAll", { runId: run.runId, verify: true })) as FixAllResult;
    for (const line of describeFixAll(result)) ui.log(line);
    return result;
  } catch (err) {
    const message = (err as { message?: string })?.message ?? String(err);
    ui.error(`Could not fix the findings of run ${run.runId}: ${message}`);
    return undefined;
  }
}
