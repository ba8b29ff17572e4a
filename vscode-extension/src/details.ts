// The approval's details panel: "Details" on the approval notification fetches the details
// (workcrew.approvalDetails) and shows them in a webview; its Run / Always run / Cancel answer the pending
// approval, Open script opens the script, and Edit scope cancels the approval and starts the workflow again on
// the narrowed scope (workcrew.runWorkflow with `exclude`), so a fresh estimate and question follow.
// The page and the checks of its messages are in detailsModel.ts (unit-tested).
import { randomBytes } from "crypto";
import * as path from "path";
import * as vscode from "vscode";
import { CANCEL, setDetailsHandler } from "./approval";
import { ApprovalDetails, parseDetails, parsePanelMessage, renderDetailsHtml, scopeRows } from "./detailsModel";
import { WorkcrewServer } from "./server";
import { describeResult } from "./workflows";

export function registerApprovalDetails(server: WorkcrewServer, log: vscode.LogOutputChannel): vscode.Disposable {
  setDetailsHandler(async (id, titles) => {
    let details: ApprovalDetails | undefined;
    try {
      details = parseDetails(await server.execute("workcrew.approvalDetails", { id }));
    } catch (err) {
      log.warn(`Approval details ${id}: ${(err as Error).message ?? String(err)}`);
      return undefined;
    }
    if (!details) {
      log.warn(`Approval details ${id}: the daemon's answer is not approval details`);
      return undefined;
    }
    return showDetails(details, titles, server, log);
  });
  return new vscode.Disposable(() => setDetailsHandler(undefined));
}

function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** Shows the panel; resolves with the title that answers the approval (Cancel when the panel is closed). */
function showDetails(details: ApprovalDetails, titles: string[], server: WorkcrewServer, log: vscode.LogOutputChannel): Promise<string> {
  const panel = vscode.window.createWebviewPanel("workcrew.approvalDetails", `Run ${details.workflow}?`, vscode.ViewColumn.Active, {
    enableScripts: true,
    localResourceRoots: [], // the page loads nothing from disk
    retainContextWhenHidden: true, // unticked rows survive switching tabs while the question is open
  });
  const nonce = randomBytes(16).toString("base64");
  panel.webview.html = renderDetailsHtml(details, { nonce, cspSource: panel.webview.cspSource, titles });
  const rows = scopeRows(details);
  return new Promise<string>((resolve) => {
    let answered = false;
    const answer = (title: string): void => {
      if (answered) return;
      answered = true;
      resolve(title);
      panel.dispose();
    };
    panel.onDidDispose(() => answer(CANCEL));
    panel.webview.onDidReceiveMessage(async (raw: unknown) => {
      const message = parsePanelMessage(raw, titles, rows);
      if (!message) {
        log.warn(`Approval details: ignored a message the panel may not send: ${JSON.stringify(raw)?.slice(0, 200)}`);
        return;
      }
      if (message.kind === "answer") return answer(message.title);
      if (message.kind === "openScript") {
        if (!details.script.path) return;
        const file = path.isAbsolute(details.script.path) ? details.script.path : path.join(workspaceFolder() ?? "", details.script.path);
        try {
          await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false, viewColumn: vscode.ViewColumn.Beside });
        } catch (err) {
          void vscode.window.showWarningMessage(`Workcrew: cannot open ${file}: ${(err as Error).message ?? String(err)}`);
        }
        return;
      }
      if (!message.exclude.length) {
        void vscode.window.showInformationMessage("Workcrew: untick a file or folder, or type a pattern to leave out, then Run with this scope.");
        return;
      }
      answer(CANCEL);
      // after the approval is answered: this run is cancelled, the narrowed one asks anew
      setTimeout(() => void runNarrowed(details, message.exclude, server, log), 0);
    });
  });
}

async function runNarrowed(details: ApprovalDetails, exclude: string[], server: WorkcrewServer, log: vscode.LogOutputChannel): Promise<void> {
  const target = details.target.path ? { path: details.target.path } : { name: details.target.name };
  log.info(`Run ${details.workflow} again without: ${exclude.join(", ")}`);
  try {
    const result = await server.execute("workcrew.runWorkflow", { ...target, args: details.args, exclude });
    const text = describeResult(result);
    if (text) void vscode.window.showInformationMessage(`Workcrew: ${text}`);
  } catch (err) {
    const message = `Workcrew: ${details.workflow} with the narrowed scope: ${(err as Error).message ?? String(err)}`;
    log.error(message);
    void vscode.window.showErrorMessage(message);
  }
}
