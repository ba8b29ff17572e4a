// "Workcrew: Review Changes": pick what changed (the uncommitted changes, or the diff against a branch) and
// ask the daemon to review it (workcrew.reviewChanges). The UI, git and the daemon are injected, so this
// module has no `vscode` import and is unit-tested.

export interface PickItem {
  label: string;
  description?: string;
  /** What the item stands for: the uncommitted changes, one branch, or "choose a branch". */
  value: { uncommitted: true } | { base: string } | { chooseBranch: true };
}

export interface ReviewChangesUi {
  /** Shows a quick pick; resolves to the chosen item, or undefined when dismissed. */
  pick(items: PickItem[], placeHolder: string): Promise<PickItem | undefined>;
  /** The repository's branches (local, then remote-tracking), or an error saying why there are none. */
  branches(): Promise<string[]>;
  /** workcrew.reviewChanges on the daemon. */
  execute(params: ReviewChangesParams): Promise<unknown>;
  info(message: string): void;
  error(message: string): void;
}

export type ReviewChangesParams = { uncommitted: true } | { base: string };

/** Branches people usually compare with come first: the configured base, then main/master and their remotes. */
export function orderBranches(names: string[], preferred: string): string[] {
  const rank = (name: string): number => {
    if (preferred && name === preferred) return 0;
    const bare = name.replace(/^[^/]+\//, "");
    if (["main", "master", "trunk", "develop"].includes(name)) return 1;
    if (name.includes("/") && ["main", "master", "trunk", "develop"].includes(bare)) return 2;
    return name.includes("/") ? 4 : 3;
  };
  const unique = [...new Set(names.filter((n) => n && !n.endsWith("/HEAD")))];
  return unique.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** What a command argument asks for: `{base: "main"}` or `{uncommitted: true}` (a keybinding's args); anything
 * else (the SCM view passes its source control) means "ask". */
export function presetFrom(arg: unknown): ReviewChangesParams | undefined {
  if (!arg || typeof arg !== "object") return undefined;
  const a = arg as Record<string, unknown>;
  if (typeof a.base === "string" && a.base.trim()) return { base: a.base.trim() };
  if (a.uncommitted === true) return { uncommitted: true };
  return undefined;
}

/** The first quick pick: uncommitted changes, the configured base (workcrew.reviewBase) if any, any branch. */
export function modeItems(reviewBase: string): PickItem[] {
  const items: PickItem[] = [
    { label: "Uncommitted changes", description: "staged, unstaged and untracked files", value: { uncommitted: true } },
  ];
  if (reviewBase) items.push({ label: `Against ${reviewBase}`, description: "workcrew.reviewBase: everything this branch changes", value: { base: reviewBase } });
  items.push({ label: "Against branch…", description: "from the merge-base with HEAD; work not committed yet included", value: { chooseBranch: true } });
  return items;
}

/** What the daemon answered, as one line for the user; empty when the daemon told them itself. */
export function describeReview(result: unknown): string {
  if (!result || typeof result !== "object") return "";
  const r = result as Record<string, unknown>;
  const summary = typeof r.summary === "string" ? r.summary : "";
  switch (r.status) {
    case "running":
      return `Reviewing ${summary || "the changes"}.`;
    case "nothing": // the daemon showed its message already (window/showMessage)
    case "cancelled":
      return "";
    case "review":
      return "Review the built-in review script, then run Review Changes again.";
    default:
      return typeof r.message === "string" ? r.message : "";
  }
}

/**
 * The whole command. `preset` skips the first pick (a keybinding or the SCM menu passing `{base}`).
 * Resolves to the params sent, or undefined when the user backed out or nothing could be sent.
 */
export async function reviewChanges(ui: ReviewChangesUi, reviewBase: string, preset?: ReviewChangesParams): Promise<ReviewChangesParams | undefined> {
  let params = preset;
  if (!params) {
    const mode = await ui.pick(modeItems(reviewBase), "Review what changed");
    if (!mode) return undefined;
    if ("chooseBranch" in mode.value) {
      let names: string[];
      try {
        names = orderBranches(await ui.branches(), reviewBase);
      } catch (err) {
        ui.error(`Workcrew: cannot list the branches: ${String((err as Error)?.message ?? err)}`);
        return undefined;
      }
      if (!names.length) {
        ui.error("Workcrew: this repository has no branch to compare with yet; review the uncommitted changes instead.");
        return undefined;
      }
      const branch = await ui.pick(names.map((name) => ({ label: name, value: { base: name } })), "Branch to compare with (its merge-base with HEAD)");
      if (!branch || !("base" in branch.value)) return undefined;
      params = { base: branch.value.base };
    } else {
      params = "base" in mode.value ? { base: mode.value.base } : { uncommitted: true };
    }
  }
  try {
    const text = describeReview(await ui.execute(params));
    if (text) ui.info(`Workcrew: ${text}`);
  } catch (err) {
    ui.error(`Workcrew: Review Changes failed: ${String((err as Error)?.message ?? err)}`);
    return undefined;
  }
  return params;
}
