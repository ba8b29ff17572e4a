// Registers "Workcrew: Review Changes" (command palette and the Source Control view's title bar): the logic
// is in reviewChanges.ts; this module gives it VS Code's quick pick, messages, git and the daemon.
import { execFile } from "child_process";
import * as vscode from "vscode";
import { presetFrom, reviewChanges, ReviewChangesUi } from "./reviewChanges";
import { WorkcrewServer } from "./server";

const GIT_TIMEOUT_MS = 10_000;

/** Local and remote-tracking branches of the repository at `cwd` (read-only, with a timeout). */
function gitBranches(cwd: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile("git", ["for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/remotes"],
      { cwd, timeout: GIT_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(String(stderr).trim() || err.message));
        else resolve(String(stdout).split("\n").map((line) => line.trim()).filter(Boolean));
      });
  });
}

export function registerReviewChanges(server: WorkcrewServer, log: vscode.LogOutputChannel, refresh: () => Promise<void>): vscode.Disposable[] {
  const ui: ReviewChangesUi = {
    pick: async (items, placeHolder) => vscode.window.showQuickPick(items, { placeHolder, title: "Workcrew: Review Changes" }),
    branches: async () => {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      if (!folder) throw new Error("open a folder first");
      return gitBranches(folder);
    },
    execute: async (params) => {
      const result = await server.execute("workcrew.reviewChanges", params);
      log.info(`Review Changes ${JSON.stringify(params)}: ${JSON.stringify(result)?.slice(0, 2000)}`);
      return result;
    },
    info: (message) => void vscode.window.showInformationMessage(message),
    error: (message) => {
      log.error(message);
      void vscode.window.showErrorMessage(message, "Show Output").then((choice) => choice && log.show());
    },
  };
  return [
    vscode.commands.registerCommand("workcrew.ui.reviewChanges", async (arg?: unknown) => {
      const base = (vscode.workspace.getConfiguration("workcrew").get<string>("reviewBase") ?? "").trim();
      await reviewChanges(ui, base, presetFrom(arg));
      void refresh();
    }),
  ];
}
