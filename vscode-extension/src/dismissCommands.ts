// VS Code's side of dismissals and project rules: asks why a finding is dismissed before the daemon's
// `workcrew.dismissFinding` runs (the code action's command, intercepted), "Workcrew: Dismiss Finding…" for
// the finding at the cursor, and "Workcrew: Review Rules". The logic is in dismiss.ts and rules.ts.
import * as vscode from "vscode";
import { askDismissal, describeDismissal, DISMISS_COMMAND, DismissUi, dismissWithoutReason } from "./dismiss";
import { reviewRules, RuleItem, RulesUi } from "./rules";
import { WorkcrewServer } from "./server";

export interface DismissDeps {
  server: WorkcrewServer;
  log: vscode.LogOutputChannel;
}

const dismissUi: DismissUi = {
  pickReason: async (items, title) => {
    const picked = await vscode.window.showQuickPick(
      items.map((item) => ({ label: item.label, description: item.description, item })),
      { title, placeHolder: "Why is this finding wrong or not worth fixing?", ignoreFocusOut: true },
    );
    return picked?.item;
  },
  inputNote: (options) => Promise.resolve(vscode.window.showInputBox({ ...options, ignoreFocusOut: true })),
};

async function reveal(file: string, line: number): Promise<void> {
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const position = new vscode.Position(Math.max(line - 1, 0), 0);
  await vscode.window.showTextDocument(document, { selection: new vscode.Range(position, position), preview: false });
}

function report(result: unknown, log: vscode.LogOutputChannel): void {
  log.info(`Dismiss: ${JSON.stringify(result)?.slice(0, 2000)}`);
  const outcome = describeDismissal(result);
  if (!outcome) return;
  if (outcome.warning) {
    void vscode.window.showWarningMessage(`Workcrew: ${outcome.message}`);
    return;
  }
  const rule = outcome.rule;
  if (!rule) {
    void vscode.window.showInformationMessage(`Workcrew: ${outcome.message}`);
    return;
  }
  void vscode.window.showInformationMessage(`Workcrew: ${outcome.message}`, "Open Rule").then((choice) => {
    if (choice === "Open Rule") void reveal(rule.path, rule.line);
  });
}

/** The Workcrew findings at the cursor (their `data` carries the finding's id). */
function findingsAtCursor(): { findingId: string; title: string }[] {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return [];
  const found: { findingId: string; title: string }[] = [];
  for (const diagnostic of vscode.languages.getDiagnostics(editor.document.uri)) {
    const id = (diagnostic as { data?: { findingId?: unknown } }).data?.findingId;
    if (diagnostic.source === "workcrew" && typeof id === "string" && diagnostic.range.contains(editor.selection.active)) {
      found.push({ findingId: id, title: diagnostic.message.split("\n")[0] });
    }
  }
  return found;
}

export function registerDismissal({ server, log }: DismissDeps): vscode.Disposable[] {
  const fail = (what: string, err: unknown): void => {
    const message = `${what}: ${(err as { message?: string })?.message ?? String(err)}`;
    log.error(message);
    void vscode.window.showErrorMessage(`Workcrew: ${message}`);
  };

  const dismiss = async (findingId: string, title?: string): Promise<unknown> => {
    const request = await askDismissal(findingId, dismissUi, title ? `“${title}”` : undefined);
    if (!request) return undefined;
    const result = await server.execute(DISMISS_COMMAND, { ...request });
    report(result, log);
    return result;
  };

  const rulesUi: RulesUi = {
    pick: async (items, placeHolder) =>
      (
        await vscode.window.showQuickPick(
          items.map((item: RuleItem) => ({ label: item.label, description: item.description, detail: item.detail, item })),
          { placeHolder, matchOnDescription: true, matchOnDetail: true },
        )
      )?.item,
    pickAction: async (rule, actions) => vscode.window.showQuickPick(actions, { placeHolder: `${rule.id}: ${rule.text}` }),
    confirmRemove: async (rule) =>
      (await vscode.window.showWarningMessage(`Remove rule ${rule.id}? Later runs report such findings again.`, { modal: true, detail: rule.text }, "Remove")) === "Remove",
    reveal,
    info: (message) => void vscode.window.showInformationMessage(`Workcrew: ${message}`),
  };

  return [
    // the code action (and any other caller) runs the daemon's command with the id only: ask why first
    server.addCommandInterceptor((command, args) => {
      const findingId = dismissWithoutReason(command, args);
      return findingId === undefined ? undefined : dismiss(findingId).catch((err) => fail("Could not dismiss the finding", err));
    }),
    vscode.commands.registerCommand("workcrew.ui.dismissFinding", async (arg?: { findingId?: unknown }) => {
      let target = typeof arg?.findingId === "string" ? { findingId: arg.findingId, title: "" } : undefined;
      if (!target) {
        const here = findingsAtCursor();
        if (here.length > 1) {
          target = (await vscode.window.showQuickPick(here.map((f) => ({ label: f.title, f })), { placeHolder: "Which finding?" }))?.f;
          if (!target) return;
        } else {
          target = here[0];
        }
      }
      if (!target) {
        void vscode.window.showInformationMessage("Workcrew: put the cursor on a Workcrew finding (Problems panel, source workcrew) to dismiss it.");
        return;
      }
      try {
        await dismiss(target.findingId, target.title || undefined);
      } catch (err) {
        fail("Could not dismiss the finding", err);
      }
    }),
    vscode.commands.registerCommand("workcrew.ui.reviewRules", async () => {
      try {
        await reviewRules({ list: () => server.execute("workcrew.listRules"), remove: (id) => server.execute("workcrew.removeRule", { id }) }, rulesUi);
      } catch (err) {
        fail("Project rules", err);
      }
    }),
  ];
}
