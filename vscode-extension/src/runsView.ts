// The Workflows view: Runs (run → phase → agent, live from workcrew/runUpdate) and Saved Workflows.
import * as vscode from "vscode";
import {
  AgentNode,
  agentDescription,
  agentTooltip,
  PhaseNode,
  phaseDescription,
  runContextValue,
  runDescription,
  RunNode,
  RunsModel,
  runTooltip,
  stateIcon,
} from "./runsModel";
import { WorkflowInfo } from "./workflows";

export type RunsItem =
  | { kind: "run"; run: RunNode }
  | { kind: "phase"; run: RunNode; phase: PhaseNode; index: number }
  | { kind: "agent"; run: RunNode; agent: AgentNode; phaseIndex: number };

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsItem> {
  private readonly changed = new vscode.EventEmitter<RunsItem | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(readonly model: RunsModel) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(element?: RunsItem): RunsItem[] {
    if (!element) return this.model.list().map((run) => ({ kind: "run", run }));
    if (element.kind === "run") {
      const run = this.model.get(element.run.runId) ?? element.run;
      return run.phases.map((phase, index) => ({ kind: "phase", run, phase, index }));
    }
    if (element.kind === "phase") {
      return element.phase.agents.map((agent) => ({ kind: "agent", run: element.run, agent, phaseIndex: element.index }));
    }
    return [];
  }

  getTreeItem(element: RunsItem): vscode.TreeItem {
    if (element.kind === "run") {
      const { run } = element;
      // a run listed from the store (after a reload) has no phases yet: no arrow that opens onto nothing
      const state = run.phases.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None;
      const item = new vscode.TreeItem(run.workflow, state);
      // a new id once phases arrive: VS Code keeps an element's collapsed state by id
      item.id = run.phases.length ? `run:${run.runId}` : `run:${run.runId}:listed`;
      item.description = runDescription(run);
      item.iconPath = new vscode.ThemeIcon(stateIcon(run.status));
      item.contextValue = runContextValue(run);
      item.tooltip = new vscode.MarkdownString(runTooltip(run));
      return item;
    }
    if (element.kind === "phase") {
      const { phase } = element;
      const allDone = phase.total > 0 && phase.done >= phase.total;
      const item = new vscode.TreeItem(phase.title, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `run:${element.run.runId}/phase:${element.index}`;
      item.description = phaseDescription(phase);
      item.iconPath = new vscode.ThemeIcon(allDone ? "pass" : phase.total ? "sync~spin" : "circle-outline");
      item.contextValue = "phase";
      return item;
    }
    const { agent } = element;
    const item = new vscode.TreeItem(agent.label, vscode.TreeItemCollapsibleState.None);
    item.id = `run:${element.run.runId}/phase:${element.phaseIndex}/agent:${agent.id || agent.label}`;
    item.description = agentDescription(agent);
    item.iconPath = new vscode.ThemeIcon(stateIcon(agent.state));
    item.contextValue = `agent.${agent.state}`;
    item.tooltip = agentTooltip(agent);
    return item;
  }
}

export class WorkflowsTreeProvider implements vscode.TreeDataProvider<WorkflowInfo> {
  private readonly changed = new vscode.EventEmitter<WorkflowInfo | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private workflows: WorkflowInfo[] = [];

  set(workflows: WorkflowInfo[]): void {
    this.workflows = workflows;
    this.changed.fire(undefined);
  }

  list(): WorkflowInfo[] {
    return this.workflows;
  }

  getChildren(element?: WorkflowInfo): WorkflowInfo[] {
    return element ? [] : this.workflows;
  }

  getTreeItem(workflow: WorkflowInfo): vscode.TreeItem {
    const item = new vscode.TreeItem(workflow.name, vscode.TreeItemCollapsibleState.None);
    item.id = `workflow:${workflow.origin}:${workflow.path || workflow.name}`;
    item.description = workflow.origin === "builtin" ? `built-in · ${workflow.description}` : workflow.description;
    item.tooltip = [workflow.description, workflow.whenToUse && `When to use: ${workflow.whenToUse}`, workflow.path].filter(Boolean).join("\n");
    item.iconPath = new vscode.ThemeIcon(workflow.origin === "builtin" ? "package" : "symbol-event");
    item.contextValue = "workflow";
    if (workflow.path) item.command = { command: "workcrew.ui.openWorkflow", title: "Open Script", arguments: [workflow] };
    return item;
  }
}
