// One status-bar item: the daemon's state, or the running runs and their spend; click opens the view.
import * as vscode from "vscode";
import { RunsModel, statusSummary } from "./runsModel";
import { ServerState } from "./server";

export class RunsStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("workcrew.status", vscode.StatusBarAlignment.Left, 50);

  constructor(private readonly model: RunsModel) {
    this.item.name = "Workcrew";
    this.item.command = "workbench.view.extension.workcrew";
    this.update("starting");
    this.item.show();
  }

  update(state: ServerState): void {
    const summary = statusSummary(this.model, state);
    this.item.text = summary.text;
    this.item.tooltip = summary.tooltip;
  }

  dispose(): void {
    this.item.dispose();
  }
}
