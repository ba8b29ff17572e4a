// Entry point: wires the daemon, the Workflows view, the status bar and the commands together.
import * as vscode from "vscode";
import { registerCommands } from "./commands";
import { registerApprovalDetails } from "./details";
import { registerFixCommands } from "./fixCommands";
import { registerReviewChanges } from "./reviewChangesCommand";
import { registerDismissal } from "./dismissCommands";
import { finishedMessage, RunsModel } from "./runsModel";
import { RunsTreeProvider, WorkflowsTreeProvider } from "./runsView";
import { watchPythonExtension } from "./pythonExtension";
import { WorkcrewServer } from "./server";
import { needsRestart } from "./settings";
import { RunsStatusBar } from "./statusBar";
import { parseWorkflowList } from "./workflows";

let server: WorkcrewServer | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel("Workcrew", { log: true });
  const model = new RunsModel();
  server = new WorkcrewServer(context, log);
  const runs = new RunsTreeProvider(model);
  const workflows = new WorkflowsTreeProvider();
  const status = new RunsStatusBar(model);
  const daemon = server;

  const refresh = async (): Promise<void> => {
    if (daemon.state !== "running") return;
    try {
      const listed = await daemon.execute("workcrew.listRuns");
      const entries = Array.isArray(listed) ? listed : Array.isArray((listed as { runs?: unknown[] })?.runs) ? (listed as { runs: unknown[] }).runs : [];
      // Oldest first so the newest run ends up on top.
      for (const entry of [...entries].reverse()) model.apply(entry);
      runs.refresh();
      status.update(daemon.state);
    } catch (err) {
      log.warn(`Listing runs: ${String(err)}`);
    }
    try {
      workflows.set(parseWorkflowList(await daemon.execute("workcrew.listWorkflows")));
    } catch (err) {
      log.warn(`Listing workflows: ${String(err)}`);
    }
  };

  const watcher = vscode.workspace.createFileSystemWatcher("**/.claude/workflows/*.{py,js,mjs}");
  context.subscriptions.push(
    log,
    server,
    status,
    watcher,
    vscode.window.createTreeView("workcrew.runs", { treeDataProvider: runs, showCollapseAll: true }),
    vscode.window.createTreeView("workcrew.savedWorkflows", { treeDataProvider: workflows }),
    server.onDidChangeState((state) => {
      status.update(state);
      if (state === "running") void refresh();
    }),
    server.onRunUpdate((payload) => {
      if (model.apply(payload)) {
        runs.refresh();
        status.update(daemon.state);
      }
    }),
    server.onRunFinished((payload) => {
      const run = model.apply(payload);
      if (!run) return;
      runs.refresh();
      status.update(daemon.state);
      const note = finishedMessage(run);
      const show = run.status === "succeeded" ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
      void show(`Workcrew: ${note}`, "Show Problems", "Open Report").then((choice) => {
        if (choice === "Show Problems") void vscode.commands.executeCommand("workbench.actions.view.problems");
        if (choice === "Open Report") void vscode.commands.executeCommand("workcrew.ui.openReport", { kind: "run", run });
      });
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!event.affectsConfiguration("workcrew")) return;
      if (needsRestart((key) => event.affectsConfiguration(key))) void daemon.restart();
      else daemon.notifyConfiguration();
    }),
    watcher.onDidCreate(() => void refresh()),
    watcher.onDidDelete(() => void refresh()),
    watcher.onDidChange(() => void refresh()),
    ...registerCommands({ context, server, model, workflows, log, refresh }),
    ...registerFixCommands({ server: daemon, model, log }),
    ...registerReviewChanges(daemon, log, refresh),
    ...registerDismissal({ server, log }),
    registerApprovalDetails(daemon, log),
  );
  void server.start();
  // Without an interpreter setting the daemon runs on the Python extension's choice: follow it.
  void watchPythonExtension(log, () => {
    let explicit = false;
    try {
      explicit = daemon.config().interpreter.length > 0;
    } catch {
      // an invalid setting: the restart reports it
    }
    if (!explicit) void daemon.restart();
  }).then((watch) => watch && context.subscriptions.push(watch));
}

export async function deactivate(): Promise<void> {
  await server?.stop();
}
