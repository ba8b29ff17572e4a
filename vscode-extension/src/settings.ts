// The workcrew.* settings as plain data, and everything derived from them (daemon command line,
// environment, initialization options). No `vscode` import, so it is unit-tested with plain Node.
import * as os from "os";
import * as path from "path";

export const ROLES = ["default", "orchestrator", "finder", "verifier", "fixer", "synthesizer"] as const;
export type Role = (typeof ROLES)[number];
export type Provider = "anthropic" | "simulated";
export type ApprovalPolicy = "always" | "threshold" | "never";
export type Executor = "local" | "distributed";

/** The daemon's own limits (server/limits.py), camelCase as the daemon reads them; each one optional. */
export const LIMIT_BOUNDS = {
  commandArgumentsKb: [1, 256 * 1024],
  commandNesting: [4, 10_000],
  openDocuments: [1, 1_000_000],
  documentMb: [1, 4 * 1024],
} as const;
export type LimitName = keyof typeof LIMIT_BOUNDS;
export type ServerLimits = Partial<Record<LimitName, number>>;

export interface WorkcrewConfig {
  interpreter: string[];
  serverPackage: string;
  serverArgs: string[];
  provider: Provider;
  scenario: string;
  stateDir: string;
  models: Partial<Record<Role, string>>;
  budgetUsd: number | null;
  concurrency: number;
  approval: ApprovalPolicy;
  approvalThresholdUsd: number;
  approvalThresholdAgents: number;
  excludes: string[];
  secretPatterns: string[];
  /** The command that judges fixes before Apply and verify / Fix All (Verified) apply them; empty: workcrew.toml's. */
  checkCommand: string;
  /** Review Changes again when a file it covered is saved (the daemon's review_on_save). */
  reviewOnSave: boolean;
  /** Where agents' tools, worktrees and checks run: this machine, or a Ray cluster's workers (docs/scale-out.md). */
  executor: Executor;
  /** The cluster of a distributed run ("HOST:6379"); empty: workcrew.toml's `cluster`. */
  cluster: string;
  /** The daemon's limits on what the editor sends it (docs/editors.md, "Limits"); empty: its defaults. */
  limits: ServerLimits;
  /** Runs live in their own process and outlive the editor (the daemon's detach_runs). */
  detachRuns: boolean;
  /** OTLP/HTTP collector for run, phase and agent spans; empty: none. */
  otlpEndpoint: string;
}

/** Reads one `workcrew.<key>` value; the VS Code side passes `config.get`. */
export type ConfigGetter = (key: string) => unknown;

/** Setting keys whose change needs a new daemon process (they reach it through argv or the environment). */
export const RESTART_KEYS = [
  "interpreter",
  "serverArgs",
  "provider",
  "scenario",
  "stateDir",
  "models.default",
] as const;

/** The key under which the Anthropic API key is kept in SecretStorage (never in settings). */
export const API_KEY_SECRET = "workcrew.anthropicApiKey";

/** Mirrors engine/settings.py DEFAULT_SECRET_PATTERNS: user patterns add to these, never replace them. */
export const BUILTIN_SECRET_PATTERNS = [
  ".env", ".env.*", "*.pem", "*.key", "*.p12", "*.pfx", "id_rsa*", "id_ed25519*", "id_ecdsa*",
  "*credentials*", "*secret*", ".npmrc", ".pypirc", ".netrc", ".git-credentials", ".aws/**", ".ssh/**", ".gnupg/**",
];

export class SettingsError extends Error {}

function stringList(value: unknown, key: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return value.trim() ? [value] : [];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.filter((v) => v !== "");
  throw new SettingsError(`workcrew.${key} must be a list of strings, e.g. ["/usr/bin/python3"]; got ${JSON.stringify(value)}`);
}

function str(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value.trim() : fallback;
}

function num(value: unknown, key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new SettingsError(`workcrew.${key} must be a number between ${min} and ${max}; got ${JSON.stringify(value)}`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, key: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null || value === "") return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new SettingsError(`workcrew.${key} must be one of ${allowed.join(", ")}; got ${JSON.stringify(value)}`);
}

function limitsOf(value: unknown): ServerLimits {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new SettingsError(`workcrew.limits must be an object such as {"openDocuments": 2000}; got ${JSON.stringify(value)}`);
  }
  const out: ServerLimits = {};
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if (!(key in LIMIT_BOUNDS)) {
      throw new SettingsError(`workcrew.limits.${key} is not a limit; known: ${Object.keys(LIMIT_BOUNDS).join(", ")}`);
    }
    if (raw === undefined || raw === null) continue;
    const [min, max] = LIMIT_BOUNDS[key as LimitName];
    if (typeof raw !== "number" || !Number.isInteger(raw) || raw < min || raw > max) {
      throw new SettingsError(`workcrew.limits.${key} must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw)}`);
    }
    out[key as LimitName] = raw;
  }
  return out;
}

/** Validates the raw settings; a bad value raises a SettingsError that names the setting and the fix. */
export function readConfig(get: ConfigGetter): WorkcrewConfig {
  const models: Partial<Record<Role, string>> = {};
  for (const role of ROLES) {
    const model = str(get(`models.${role}`));
    if (model) models[role] = model;
  }
  const budget = get("budgetUsd");
  return {
    interpreter: stringList(get("interpreter"), "interpreter"),
    serverPackage: str(get("serverPackage")),
    serverArgs: stringList(get("serverArgs"), "serverArgs"),
    provider: oneOf(get("provider"), "provider", ["anthropic", "simulated"] as const, "anthropic"),
    scenario: str(get("scenario")),
    stateDir: str(get("stateDir")),
    models,
    budgetUsd: budget === null || budget === undefined ? null : num(budget, "budgetUsd", 0, 0),
    concurrency: Math.floor(num(get("concurrency"), "concurrency", 16, 1, 256)),
    approval: oneOf(get("approval"), "approval", ["always", "threshold", "never"] as const, "always"),
    approvalThresholdUsd: num(get("approvalThresholdUsd"), "approvalThresholdUsd", 1, 0),
    approvalThresholdAgents: Math.floor(num(get("approvalThresholdAgents"), "approvalThresholdAgents", 25, 1)),
    excludes: stringList(get("excludes"), "excludes"),
    secretPatterns: stringList(get("secretPatterns"), "secretPatterns"),
    checkCommand: str(get("checkCommand")),
    reviewOnSave: get("reviewOnSave") === true,
    executor: oneOf(get("executor"), "executor", ["local", "distributed"] as const, "local"),
    cluster: str(get("cluster")),
    limits: limitsOf(get("limits")),
    detachRuns: get("detachRuns") !== false,
    otlpEndpoint: str(get("otlpEndpoint")),
  };
}

export interface VariableContext {
  workspaceFolder?: string;
  home?: string;
  env?: Record<string, string | undefined>;
}

/** Expands `${workspaceFolder}`, `${userHome}`, `${env:NAME}` and a leading `~`, as VS Code users expect. */
export function substituteVariables(value: string, ctx: VariableContext): string {
  const home = ctx.home ?? os.homedir();
  let out = value.replace(/\$\{(workspaceFolder|userHome|env:([A-Za-z_][A-Za-z0-9_]*))\}/g, (whole, name: string, envName?: string) => {
    if (name === "workspaceFolder") return ctx.workspaceFolder ?? whole;
    if (name === "userHome") return home;
    return (envName && ctx.env?.[envName]) ?? "";
  });
  if (out === "~" || out.startsWith("~/")) out = home + out.slice(1);
  return out;
}

/** A path setting made absolute: relative paths are relative to the workspace folder. */
export function resolvePath(value: string, ctx: VariableContext): string {
  const expanded = substituteVariables(value, ctx);
  if (!expanded || path.isAbsolute(expanded) || !ctx.workspaceFolder) return expanded;
  return path.resolve(ctx.workspaceFolder, expanded);
}

export interface ServerCommand {
  command: string;
  args: string[];
}

/** `python -m workcrew.server <extra>` for an interpreter given as command + leading arguments. */
export function serverCommand(interpreter: string[], module: string, extraArgs: string[] = []): ServerCommand {
  if (interpreter.length === 0) throw new SettingsError("no Python interpreter to run the Workcrew daemon");
  return { command: interpreter[0], args: [...interpreter.slice(1), "-m", module, ...extraArgs] };
}

/**
 * The daemon's environment: the editor's own, plus the provider settings as WORKCREW_* variables and the
 * API key from SecretStorage. A key already in the environment is kept when none is stored.
 */
export function serverEnvironment(
  config: WorkcrewConfig,
  base: Record<string, string | undefined>,
  apiKey: string | undefined,
  workspaceFolder: string | undefined,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  // An outer VS Code terminal's IPC hook would turn child tools into clients of that instance.
  delete env.VSCODE_IPC_HOOK_CLI;
  const ctx: VariableContext = { workspaceFolder, env: base };
  env.WORKCREW_PROVIDER = config.provider;
  if (config.scenario) env.WORKCREW_SCENARIO = resolvePath(config.scenario, ctx);
  else delete env.WORKCREW_SCENARIO;
  if (config.stateDir) env.WORKCREW_STATE_DIR = resolvePath(config.stateDir, ctx);
  else delete env.WORKCREW_STATE_DIR;
  if (config.models.default) env.WORKCREW_MODEL = config.models.default;
  if (apiKey) env.ANTHROPIC_API_KEY = apiKey;
  env.PYTHONUNBUFFERED = "1";
  return env;
}

/** Engine-shaped settings (the keys of workcrew.toml) sent as initializationOptions and on change. */
export function engineSettings(config: WorkcrewConfig): Record<string, unknown> {
  const models: Record<string, string> = {};
  for (const [role, model] of Object.entries(config.models)) if (model) models[role] = model;
  const out: Record<string, unknown> = {
    provider: config.provider,
    concurrency: config.concurrency,
    approval: config.approval,
    approval_threshold_usd: config.approvalThresholdUsd,
    approval_threshold_agents: config.approvalThresholdAgents,
  };
  if (Object.keys(models).length) out.models = models;
  if (config.budgetUsd !== null) out.budget_usd = config.budgetUsd;
  if (config.excludes.length) out.excludes = config.excludes;
  // The engine's key replaces its list, so user patterns are sent on top of the built-in ones.
  if (config.secretPatterns.length) out.secret_patterns = [...BUILTIN_SECRET_PATTERNS, ...config.secretPatterns];
  if (config.checkCommand) out.check_command = config.checkCommand;
  out.review_on_save = config.reviewOnSave; // always sent: turning it off must reach a daemon started with it on
  // "local", the default, is not sent: a workcrew.toml that sends the project's runs to its cluster stays in force
  if (config.executor === "distributed") out.executor = "distributed";
  if (config.cluster) out.cluster = config.cluster;
  // the daemon's own limits, camelCase as it reads them; without the key it goes back to its defaults
  if (Object.keys(config.limits).length) out.limits = { ...config.limits };
  // only "off" is sent: the default leaves a workcrew.toml's detach_runs in force (settings are rebuilt from
  // the files and these keys on every change, so turning it back on needs no key)
  if (!config.detachRuns) out.detach_runs = false;
  if (config.otlpEndpoint) out.otlp_endpoint = config.otlpEndpoint;
  return out;
}

/** True when a configuration change touches a key that only a restart can apply. */
export function needsRestart(affects: (key: string) => boolean): boolean {
  return RESTART_KEYS.some((key) => affects(`workcrew.${key}`));
}

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL)/i;

/** The environment as it may be logged: secret-looking variables masked. */
export function redactEnv(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) out[k] = SECRET_NAME.test(k) && v ? "***" : v;
  return out;
}

/** vscode.LogLevel (Off=0, Trace=1, Debug=2, Info=3, Warning=4, Error=5) → LSP trace ("off"|"messages"|"verbose"). */
export function traceForLogLevel(level: number): "off" | "messages" | "verbose" {
  if (level === 1) return "verbose";
  if (level === 2) return "messages";
  return "off";
}
