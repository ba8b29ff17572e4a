// Registers "Workcrew: Fix All (Verified)" (Runs view item and Command Palette) on top of fixes.ts.
import * as vscode from "vscode";
import { fixAllVerified, RunChoice } from "./fixes";
import { RunsModel } from "./runsModel";
import { RunsItem } from "./runsView";
import { WorkcrewServer } from "./server";

export interface FixCommandDeps {
  server: WorkcrewServer;
  model: RunsModel;
  log: vscode.LogOutputChannel;
}

export function registerFixCommands({ server, model, log }: FixCommandDeps): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand("workcrew.ui.fixAllVerified", async (item?: RunsItem) => {
      const runs: RunChoice[] = model.list();
      const fromView = item?.run ? (model.get(item.run.runId) ?? item.run) : undefined;
      await fixAllVerified(
        {
          pickRun: async (choices) =>
            (
              await vscode.window.showQuickPick(
                choices.map((run) => ({ label: run.workflow, description: `${run.status} · ${run.findings} finding(s) · ${run.runId}`, run })),
                { title: "Workcrew: Fix All (Verified)", placeHolder: "Run whose confirmed fixes to check and apply" },
              )
            )?.run,
          execute: (command, args) => server.execute(command, args),
          log: (line) => log.info(line),
          error: (message) => {
            log.error(message);
            void vscode.window.showErrorMessage(`Workcrew: ${message}`, "Show Output").then((choice) => choice && log.show());
          },
        },
        runs,
        fromView,
      );
    }),
  ];
}
