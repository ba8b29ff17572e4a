// The daemon's lifecycle: pick and probe the interpreter, offer the private install, start the language
// client with the right environment, restart on demand, and send the server's executeCommand requests.
import * as path from "path";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  ShowMessageRequest,
  State,
  Trace,
} from "vscode-languageclient/node";
import { answerMessageRequest, ApprovalUi, MessageRequest } from "./approval";
import { chooseInterpreter, decideLaunch, probeInterpreter } from "./interpreter";
import { pythonFromExtension } from "./pythonExtension";
import {
  API_KEY_SECRET,
  engineSettings,
  readConfig,
  redactEnv,
  serverCommand,
  serverEnvironment,
  substituteVariables,
  traceForLogLevel,
  WorkcrewConfig,
} from "./settings";
import { findBundledWheel, installPlan, InstallError, needsUpdate, runInstall, serverRequirement, updatePlan, venvPaths } from "./venv";

export type ServerState = "starting" | "running" | "stopped" | "error";

interface ServerInfo {
  name: string;
  module: string;
  minimumPython: string;
}

/**
 * Handles one of the daemon's commands in the extension before it is sent (e.g. asking why a finding is
 * dismissed); returns undefined to let the command go to the daemon unchanged.
 */
export type CommandInterceptor = (command: string, args: unknown[]) => Promise<unknown> | undefined;

export const RUN_UPDATE = "workcrew/runUpdate";
export const RUN_FINISHED = "workcrew/runFinished";

export class WorkcrewServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  private readonly runUpdateEmitter = new vscode.EventEmitter<unknown>();
  private readonly runFinishedEmitter = new vscode.EventEmitter<unknown>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly interceptors: CommandInterceptor[] = [];
  private current: ServerState = "stopped";

  /** Fires on every state change; `ready` consumers re-query lists when it becomes "running". */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Every `workcrew/runUpdate` payload as received. */
  readonly onRunUpdate = this.runUpdateEmitter.event;
  /** `workcrew/runFinished`: final status, findings count and usage of a run. */
  readonly onRunFinished = this.runFinishedEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      log.onDidChangeLogLevel((level) => void this.client?.setTrace(Trace.fromString(traceForLogLevel(level)))),
    );
  }

  get state(): ServerState {
    return this.current;
  }

  private setState(state: ServerState): void {
    this.current = state;
    this.stateEmitter.fire(state);
  }

  private get info(): ServerInfo {
    const info = (this.context.extension.packageJSON as { serverInfo?: Partial<ServerInfo> }).serverInfo ?? {};
    return { name: info.name ?? "Workcrew", module: info.module ?? "workcrew.server", minimumPython: info.minimumPython ?? "3.11" };
  }

  private workspaceFolder(): string | undefined {
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  }

  config(): WorkcrewConfig {
    const section = vscode.workspace.getConfiguration("workcrew", vscode.workspace.workspaceFolders?.[0]?.uri);
    return readConfig((key) => section.get(key));
  }

  /** Starts the daemon unless it is already starting or running; never throws (errors are shown). */
  start(): Promise<void> {
    if (!this.starting) {
      this.starting = this.doStart().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  async restart(): Promise<void> {
    await this.starting;
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.log.warn(`Stopping the daemon: ${String(err)}`);
      }
      await client.dispose().catch(() => undefined);
    }
    this.setState("stopped");
  }

  /** Lets an extension module handle a daemon command run from the editor (a code action's) first. */
  addCommandInterceptor(interceptor: CommandInterceptor): vscode.Disposable {
    this.interceptors.push(interceptor);
    return new vscode.Disposable(() => {
      const index = this.interceptors.indexOf(interceptor);
      if (index >= 0) this.interceptors.splice(index, 1);
    });
  }

  /** Sends one of the daemon's commands (design §7) with its single argument object. */
  async execute<T = unknown>(command: string, argument?: Record<string, unknown>): Promise<T> {
    if (this.starting) await this.starting;
    const client = this.client;
    if (!client || !client.isRunning()) {
      throw new Error('The Workcrew daemon is not running. Run "Workcrew: Restart Server" and check the Workcrew output.');
    }
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: argument === undefined ? [] : [argument] })) as T;
  }

  /** Pushes changed engine settings to the running daemon without a restart. */
  notifyConfiguration(): void {
    const client = this.client;
    if (!client?.isRunning()) return;
    try {
      void client.sendNotification("workspace/didChangeConfiguration", { settings: { workcrew: engineSettings(this.config()) } });
    } catch (err) {
      this.log.warn(String(err));
    }
  }

  private async doStart(): Promise<void> {
    this.setState("starting");
    let config: WorkcrewConfig;
    try {
      config = this.config();
    } catch (err) {
      return this.fail((err as Error).message);
    }
    const folder = this.workspaceFolder();
    const interpreterSetting = config.interpreter.map((part) => substituteVariables(part, { workspaceFolder: folder, env: process.env }));
    const candidate = chooseInterpreter(interpreterSetting, await pythonFromExtension(this.log));
    this.log.info(`Interpreter (${candidate.source}): ${candidate.command.join(" ")}`);
    const paths = venvPaths(this.context.globalStorageUri.fsPath);
    const probe = await probeInterpreter(candidate.command);
    const privateProbe = candidate.source === "setting" ? undefined : { command: [paths.python], probe: await probeInterpreter([paths.python]) };
    let decision = decideLaunch(candidate, probe, privateProbe, this.info.minimumPython);
    if (decision.kind === "offer-install") {
      const installed = await this.offerInstall(decision.basePython, decision.reason, config);
      if (!installed) {
        this.setState("stopped");
        return;
      }
      decision = decideLaunch(candidate, probe, { command: [paths.python], probe: await probeInterpreter([paths.python]) }, this.info.minimumPython);
    }
    if (decision.kind !== "launch") {
      return this.fail(decision.kind === "error" ? decision.message : "Workcrew could not be installed.");
    }
    this.log.info(`Workcrew ${decision.version} found (${decision.source}).`);
    if (decision.source === "private-venv") await this.updatePrivateEnvironment(decision.version, config);
    await this.launch(decision.command, config, folder);
  }

  private async launch(interpreter: string[], config: WorkcrewConfig, folder: string | undefined): Promise<void> {
    const apiKey = await this.context.secrets.get(API_KEY_SECRET);
    const env = serverEnvironment(config, process.env, apiKey, folder);
    const { command, args } = serverCommand(interpreter, this.info.module, config.serverArgs);
    const shown = redactEnv(env);
    this.log.info(`Starting: ${command} ${args.join(" ")} (provider ${shown.WORKCREW_PROVIDER}${env.WORKCREW_SCENARIO ? `, scenario ${env.WORKCREW_SCENARIO}` : ""}${apiKey ? ", API key from SecretStorage" : ""})`);
    // No `transport`: TransportKind.stdio would append `--stdio`, which `workcrew serve` does not take.
    const serverOptions: ServerOptions = { command, args, options: { cwd: folder, env } };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      outputChannel: this.log,
      traceOutputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // The daemon reads the engine-shaped settings from the "workcrew" key.
      initializationOptions: { workcrew: engineSettings(config) },
      middleware: {
        // a daemon command run from the editor (a code action's) may be handled here first: addCommandInterceptor
        executeCommand: (command, args, next) => {
          for (const intercept of this.interceptors) {
            const handled = intercept(command, args);
            if (handled) return handled;
          }
          return next(command, args);
        },
        workspace: {
          // The daemon asks for section "workcrew" and gets the engine-shaped settings (snake_case keys).
          configuration: (params, token, next) => {
            if (params.items.every((item) => item.section === "workcrew")) {
              return params.items.map(() => engineSettings(this.config()));
            }
            return next(params, token);
          },
        },
      },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => {
          // A failed start is reported by launch(); only a crash of a running daemon needs this message.
          const wasRunning = this.current === "running";
          this.setState("error");
          if (!wasRunning) return { action: CloseAction.DoNotRestart, handled: true };
          vscode.window
            .showErrorMessage("The Workcrew daemon stopped unexpectedly.", "Restart Server", "Show Output")
            .then((choice) => {
              if (choice === "Restart Server") void this.restart();
              if (choice === "Show Output") this.log.show();
            });
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    };
    const client = new LanguageClient("workcrew", this.info.name, serverOptions, clientOptions);
    const ui: ApprovalUi = {
      ask: async (type, message, titles) => {
        const show = type === 1 ? vscode.window.showErrorMessage : type === 2 ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
        return show(message, ...titles);
      },
      openScript: async (script) => {
        const target = path.isAbsolute(script) ? script : folder ? path.join(folder, script) : script;
        try {
          await vscode.window.showTextDocument(vscode.Uri.file(target), { preview: false });
          return true;
        } catch {
          return false;
        }
      },
    };
    // Registered before start() so they replace the client's defaults from the first message on.
    client.onRequest(ShowMessageRequest.type, (params) => answerMessageRequest(params as MessageRequest, ui));
    client.onNotification(RUN_UPDATE, (payload: unknown) => this.runUpdateEmitter.fire(payload));
    client.onNotification(RUN_FINISHED, (payload: unknown) => this.runFinishedEmitter.fire(payload));
    this.client = client;
    try {
      await client.start();
      // start() can resolve although initialization failed (the process exited): check, don't assume.
      if (!client.isRunning()) throw new Error("the daemon exited during initialization");
      await client.setTrace(Trace.fromString(traceForLogLevel(this.log.logLevel)));
    } catch (err) {
      this.client = undefined;
      return this.fail(`The Workcrew daemon did not start: ${(err as Error).message ?? String(err)}. See the Workcrew output.`);
    }
    this.log.info("Workcrew daemon running.");
    this.setState("running");
  }

  private async offerInstall(basePython: string[], reason: string, config: WorkcrewConfig): Promise<boolean> {
    const choice = await vscode.window.showWarningMessage(
      `${reason} Install Workcrew into a private environment for this extension (needs a few minutes and network access to PyPI)?`,
      "Install",
      "Choose Interpreter…",
    );
    if (choice === "Choose Interpreter…") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "workcrew.interpreter");
      return false;
    }
    if (choice !== "Install") return false;
    const paths = venvPaths(this.context.globalStorageUri.fsPath);
    const requirement = serverRequirement(config.serverPackage, findBundledWheel(this.context.extensionPath));
    const steps = installPlan(basePython, paths, requirement);
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: "Workcrew", cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          await runInstall(
            steps,
            (title, index) => progress.report({ message: `${title}…`, increment: index === 0 ? 0 : 100 / steps.length }),
            (line) => this.log.info(line),
            abort.signal,
          );
        },
      );
    } catch (err) {
      const message = err instanceof InstallError ? err.message : `Installing Workcrew failed: ${String(err)}`;
      this.log.error(message);
      void vscode.window.showErrorMessage(message, "Show Output").then((c) => c && this.log.show());
      return false;
    }
    void vscode.window.showInformationMessage("Workcrew is installed in a private environment.");
    return true;
  }

  /** After an extension update the private environment gets the bundled daemon (consent was given at install). */
  private async updatePrivateEnvironment(installed: string, config: WorkcrewConfig): Promise<void> {
    const wheel = findBundledWheel(this.context.extensionPath);
    if (!wheel || !needsUpdate(installed, wheel, config.serverPackage)) return;
    const steps = updatePlan(venvPaths(this.context.globalStorageUri.fsPath), wheel);
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: "Workcrew" }, (progress) =>
        runInstall(steps, (title) => progress.report({ message: `${title}…` }), (line) => this.log.info(line)),
      );
    } catch (err) {
      // The old daemon still starts; the user learns why it was not updated.
      const message = err instanceof InstallError ? err.message : String(err);
      this.log.error(message);
      void vscode.window.showWarningMessage(`Workcrew could not update its private environment: ${message}`, "Show Output").then((c) => c && this.log.show());
    }
  }

  private fail(message: string): void {
    this.log.error(message);
    this.setState("error");
    void vscode.window.showErrorMessage(message, "Show Output", "Open Settings").then((choice) => {
      if (choice === "Show Output") this.log.show();
      if (choice === "Open Settings") void vscode.commands.executeCommand("workbench.action.openSettings", "workcrew");
    });
  }

  isRunning(): boolean {
    return this.client?.state === State.Running;
  }

  dispose(): void {
    void this.stop();
    for (const d of this.disposables) d.dispose();
    this.stateEmitter.dispose();
    this.runUpdateEmitter.dispose();
    this.runFinishedEmitter.dispose();
  }
}
