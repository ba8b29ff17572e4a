// The extension's own commands (ids `workcrew.ui.*`, distinct from the daemon's `workcrew.*` ids, which
// vscode-languageclient registers by itself) and what they send to the daemon.
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import { RunNode, RunsModel } from "./runsModel";
import { RunsItem, WorkflowsTreeProvider } from "./runsView";
import { WorkcrewServer } from "./server";
import { API_KEY_SECRET, resolvePath } from "./settings";
import { describeResult, parseArgs, parseWorkflowList, selectionLabel, WorkflowInfo } from "./workflows";

/** Runs still under way: they can be paused or cancelled, not resumed from. */
const LIVE_STATUSES = ["running", "paused", "pending", "queued", "started"];

export interface CommandDeps {
  context: vscode.ExtensionContext;
  server: WorkcrewServer;
  model: RunsModel;
  workflows: WorkflowsTreeProvider;
  log: vscode.LogOutputChannel;
  refresh(): Promise<void>;
}

function errorText(err: unknown): string {
  const e = err as { message?: string; data?: unknown };
  return e?.message ?? String(err);
}

function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { server, model, log } = deps;

  const fail = (what: string, err: unknown): void => {
    const message = `${what}: ${errorText(err)}`;
    log.error(message);
    void vscode.window.showErrorMessage(message, "Show Output").then((c) => c && log.show());
  };

  const showResult = (what: string, result: unknown): void => {
    const text = describeResult(result);
    log.info(`${what}: ${JSON.stringify(result)?.slice(0, 2000)}`);
    if (text) void vscode.window.showInformationMessage(`Workcrew: ${text}`);
  };

  const pickRun = async (item: RunsItem | undefined, runs: RunNode[], placeHolder: string): Promise<RunNode | undefined> => {
    if (item?.run) return model.get(item.run.runId) ?? item.run;
    if (!runs.length) {
      void vscode.window.showInformationMessage("Workcrew: no matching runs. Start one with \"Workcrew: Run Workflow…\".");
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      runs.map((run) => ({ label: run.workflow, description: `${run.status} · ${run.runId}`, run })),
      { placeHolder },
    );
    return picked?.run;
  };

  const control = (verb: "cancel" | "pause" | "resume", statuses: string[]) => async (item?: RunsItem) => {
    const run = await pickRun(item, model.list().filter((r) => statuses.includes(r.status)), `Run to ${verb}`);
    if (!run) return;
    try {
      await server.execute(`workcrew.${verb}Run`, { runId: run.runId });
    } catch (err) {
      fail(`Could not ${verb} run ${run.runId}`, err);
    }
  };

  const runWorkflow = async (workflow: WorkflowInfo): Promise<void> => {
    const active = vscode.window.activeTextEditor?.document.uri;
    const suggested = active?.scheme === "file" ? vscode.workspace.asRelativePath(active, false) : "";
    const input = await vscode.window.showInputBox({
      title: `Workcrew: Run ${workflow.name}`,
      prompt: "Arguments: JSON, or file paths separated by commas (empty for none)",
      value: suggested,
      ignoreFocusOut: true,
      validateInput: (value) => {
        const parsed = parseArgs(value);
        return parsed.ok ? undefined : parsed.error;
      },
    });
    if (input === undefined) return;
    const parsed = parseArgs(input);
    if (!parsed.ok) return;
    const target = workflow.path ? { path: workflow.path } : { name: workflow.name };
    try {
      showResult(`Run ${workflow.name}`, await server.execute("workcrew.runWorkflow", { ...target, args: parsed.value }));
    } catch (err) {
      fail(`Workflow ${workflow.name} failed`, err);
    } finally {
      void deps.refresh();
    }
  };

  const register = (id: string, handler: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, handler);

  return [
    register("workcrew.ui.createWorkflowFromSelection", async (resource?: vscode.Uri, selected?: vscode.Uri[]) => {
      const editor = vscode.window.activeTextEditor;
      let uri: vscode.Uri;
      let range: vscode.Range | undefined;
      let uris: vscode.Uri[] = [];
      if (resource instanceof vscode.Uri) {
        uri = resource;
        uris = selected && selected.length > 1 ? selected : [];
        if (editor && editor.document.uri.toString() === uri.toString() && !editor.selection.isEmpty) range = editor.selection;
      } else if (editor) {
        uri = editor.document.uri;
        range = editor.selection.isEmpty ? undefined : editor.selection;
      } else {
        void vscode.window.showWarningMessage("Workcrew: select code in an editor, or right-click files or folders in the Explorer, then run \"Create Workflow from Selection\".");
        return;
      }
      const scope = range ? selectionLabel(range.start.line, range.end.line, range.end.character, path.basename(uri.fsPath)) : uris.length ? `${uris.length} items` : path.basename(uri.fsPath);
      const prompt = await vscode.window.showInputBox({
        title: "Workcrew: Create Workflow from Selection",
        prompt: `What should the workflow do with ${scope}?`,
        placeHolder: "e.g. Find real bugs here, verify each one and propose fixes",
        ignoreFocusOut: true,
        validateInput: (value) => (value.trim() ? undefined : "Describe what the agents should do."),
      });
      if (!prompt?.trim()) return;
      const argument: Record<string, unknown> = {
        uri: uri.toString(),
        range: range ? { start: { line: range.start.line, character: range.start.character }, end: { line: range.end.line, character: range.end.character } } : null,
        prompt: prompt.trim(),
      };
      if (uris.length) argument.uris = uris.map((u) => u.toString());
      try {
        showResult("Create workflow", await server.execute("workcrew.createWorkflowFromSelection", argument));
      } catch (err) {
        fail("Create Workflow from Selection failed", err);
      } finally {
        void deps.refresh();
      }
    }),

    register("workcrew.ui.runWorkflow", async () => {
      let workflows: WorkflowInfo[];
      try {
        workflows = parseWorkflowList(await server.execute("workcrew.listWorkflows"));
      } catch (err) {
        return fail("Could not list workflows", err);
      }
      deps.workflows.set(workflows);
      if (!workflows.length) {
        void vscode.window.showInformationMessage("Workcrew: no workflows yet. Save one under .claude/workflows/, or use \"Create Workflow from Selection\".");
        return;
      }
      const picked = await vscode.window.showQuickPick(
        workflows.map((w) => ({ label: w.name, description: w.origin === "builtin" ? "built-in" : w.origin, detail: w.description, workflow: w })),
        { title: "Workcrew: Run Workflow", placeHolder: "Workflow to run", matchOnDetail: true },
      );
      if (picked) await runWorkflow(picked.workflow);
    }),

    register("workcrew.ui.runSavedWorkflow", async (workflow?: WorkflowInfo) => {
      if (workflow) await runWorkflow(workflow);
      else await vscode.commands.executeCommand("workcrew.ui.runWorkflow");
    }),

    register("workcrew.ui.openWorkflow", async (workflow?: WorkflowInfo) => {
      if (!workflow?.path) return;
      const target = path.isAbsolute(workflow.path) ? workflow.path : path.join(workspaceFolder() ?? "", workflow.path);
      await vscode.window.showTextDocument(vscode.Uri.file(target));
    }),

    register("workcrew.ui.cancelRun", control("cancel", ["running", "paused", "pending", "queued", "started"])),
    register("workcrew.ui.pauseRun", control("pause", ["running", "started"])),
    register("workcrew.ui.resumeRun", control("resume", ["paused"])),

    register("workcrew.ui.resumeFromRun", async (item?: RunsItem) => {
      const ended = model.list().filter((run) => !LIVE_STATUSES.includes(run.status));
      const run = await pickRun(item, ended, "Run to run again: its agents are reused where the calls match and the files they read are unchanged");
      if (!run) return;
      try {
        showResult(`Run again from ${run.runId}`, await server.execute("workcrew.resumeFromRun", { runId: run.runId }));
      } catch (err) {
        fail(`Could not run again from run ${run.runId}`, err);
      } finally {
        void deps.refresh();
      }
    }),

    register("workcrew.ui.openReport", async (item?: RunsItem) => {
      const run = await pickRun(item, model.list(), "Run whose report to open");
      if (!run) return;
      const folder = workspaceFolder();
      const config = server.config();
      const stateDir = config.stateDir ? resolvePath(config.stateDir, { workspaceFolder: folder, env: process.env }) : path.join(folder ?? "", ".workcrew");
      const candidates = [run.reportPath && (path.isAbsolute(run.reportPath) ? run.reportPath : path.join(folder ?? "", run.reportPath)), path.join(stateDir, "runs", run.runId, "report.md")].filter(
        (p): p is string => Boolean(p),
      );
      const found = candidates.find((p) => fs.existsSync(p));
      if (!found) {
        void vscode.window.showWarningMessage(`Workcrew: run ${run.runId} has no report yet (looked for ${candidates.join(", ")}). Reports are written when a run finishes.`);
        return;
      }
      const uri = vscode.Uri.file(found);
      // The rendered report; the Markdown source when the built-in preview is unavailable.
      const previewed = found.endsWith(".md") && (await vscode.commands.executeCommand("markdown.showPreview", uri).then(() => true, () => false));
      if (!previewed) await vscode.window.showTextDocument(uri, { preview: false });
    }),

    register("workcrew.ui.applyAllFixes", async (item?: RunsItem) => {
      const run = await pickRun(item, model.list(), "Run whose fixes to apply");
      if (!run) return;
      try {
        showResult(`Apply fixes of ${run.runId}`, await server.execute("workcrew.applyAllFixes", { runId: run.runId }));
      } catch (err) {
        fail(`Could not apply the fixes of run ${run.runId}`, err);
      }
    }),

    register("workcrew.ui.setApiKey", async () => {
      const key = await vscode.window.showInputBox({
        title: "Workcrew: Set API Key",
        prompt: "Anthropic API key. Kept in VS Code's secret storage and handed to the Workcrew daemon only; empty removes the stored key.",
        password: true,
        ignoreFocusOut: true,
        placeHolder: "sk-ant-…",
        validateInput: (value) => (/\s/.test(value.trim()) ? "An API key has no spaces." : undefined),
      });
      if (key === undefined) return;
      if (key.trim()) await deps.context.secrets.store(API_KEY_SECRET, key.trim());
      else await deps.context.secrets.delete(API_KEY_SECRET);
      log.info(key.trim() ? "API key stored in SecretStorage; restarting the daemon." : "Stored API key removed; restarting the daemon.");
      await server.restart();
      void vscode.window.showInformationMessage(key.trim() ? "Workcrew: API key saved." : "Workcrew: API key removed.");
    }),

    register("workcrew.ui.restartServer", async () => {
      log.info("Restart requested.");
      await server.restart();
    }),

    register("workcrew.ui.showOutput", () => log.show()),
    register("workcrew.ui.refresh", () => deps.refresh()),

    register("workcrew.ui.listAgents", async () => {
      type Entry = { name: string; origin: string; path?: string | null; description?: string; model?: string | null; tools?: string[] | null; error?: string };
      let listed: { agent_types?: Entry[]; skills?: Entry[] };
      try {
        listed = (await server.execute("workcrew.listAgents")) as typeof listed;
      } catch (err) {
        return fail("Could not list agent types", err);
      }
      const item = (entry: Entry, kind: string) => ({
        label: entry.name,
        description: [kind, entry.origin, entry.model ? `model: ${entry.model}` : ""].filter(Boolean).join(" · "),
        detail: entry.error ?? [entry.description, entry.tools ? `tools: ${entry.tools.join(", ")}` : ""].filter(Boolean).join(" — "),
        path: entry.path ?? undefined,
      });
      const picked = await vscode.window.showQuickPick(
        [...(listed.agent_types ?? []).map((e) => item(e, "agent type")), ...(listed.skills ?? []).map((e) => item(e, "skill"))],
        { title: "Workcrew: Agent Types and Skills", placeHolder: "Open a definition", matchOnDescription: true, matchOnDetail: true },
      );
      if (picked?.path) await vscode.window.showTextDocument(vscode.Uri.file(picked.path));
    }),
  ];
}
