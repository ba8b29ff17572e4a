import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BUILTIN_SECRET_PATTERNS,
  engineSettings,
  needsRestart,
  readConfig,
  redactEnv,
  serverCommand,
  serverEnvironment,
  SettingsError,
  substituteVariables,
  traceForLogLevel,
} from "../src/settings";

const getter = (values: Record<string, unknown>) => (key: string) => values[key];

test("defaults when nothing is set", () => {
  const config = readConfig(getter({}));
  assert.deepEqual(config.interpreter, []);
  assert.equal(config.provider, "anthropic");
  assert.equal(config.approval, "always");
  assert.equal(config.concurrency, 16);
  assert.equal(config.budgetUsd, null);
});

test("bad values name the setting and the expected shape", () => {
  assert.throws(() => readConfig(getter({ concurrency: 0 })), (e: Error) => e instanceof SettingsError && /workcrew\.concurrency/.test(e.message));
  assert.throws(() => readConfig(getter({ provider: "openai" })), /workcrew\.provider must be one of anthropic, simulated/);
  assert.throws(() => readConfig(getter({ interpreter: [3] })), /workcrew\.interpreter must be a list of strings/);
});

test("a string interpreter is accepted as a one-element command", () => {
  assert.deepEqual(readConfig(getter({ interpreter: "/opt/py/bin/python" })).interpreter, ["/opt/py/bin/python"]);
});

test("variables expand like VS Code's", () => {
  const ctx = { workspaceFolder: "/ws", home: "/home/u", env: { VENV: "/v" } };
  assert.equal(substituteVariables("${workspaceFolder}/.venv/bin/python", ctx), "/ws/.venv/bin/python");
  assert.equal(substituteVariables("~/py", ctx), "/home/u/py");
  assert.equal(substituteVariables("${env:VENV}/bin/python", ctx), "/v/bin/python");
  assert.equal(substituteVariables("${userHome}/x", ctx), "/home/u/x");
});

test("the daemon runs as a module of the chosen interpreter with its leading arguments", () => {
  assert.deepEqual(serverCommand(["py", "-3.12"], "workcrew.server", ["--log", "x"]), {
    command: "py",
    args: ["-3.12", "-m", "workcrew.server", "--log", "x"],
  });
  assert.throws(() => serverCommand([], "workcrew.server"), SettingsError);
});

test("provider settings and the stored API key reach the daemon through its environment", () => {
  const config = readConfig(getter({ provider: "simulated", scenario: "scen.json", stateDir: "${workspaceFolder}/state", "models.default": "claude-x" }));
  const env = serverEnvironment(config, { PATH: "/bin", VSCODE_IPC_HOOK_CLI: "/tmp/sock", WORKCREW_SCENARIO: "/stale" }, "sk-secret", "/ws");
  assert.equal(env.WORKCREW_PROVIDER, "simulated");
  assert.equal(env.WORKCREW_SCENARIO, "/ws/scen.json");
  assert.equal(env.WORKCREW_STATE_DIR, "/ws/state");
  assert.equal(env.WORKCREW_MODEL, "claude-x");
  assert.equal(env.ANTHROPIC_API_KEY, "sk-secret");
  assert.equal(env.PATH, "/bin");
  assert.equal(env.VSCODE_IPC_HOOK_CLI, undefined);
});

test("an API key exported in the editor's environment is kept when none is stored", () => {
  const env = serverEnvironment(readConfig(getter({})), { ANTHROPIC_API_KEY: "from-shell" }, undefined, undefined);
  assert.equal(env.ANTHROPIC_API_KEY, "from-shell");
  assert.equal(env.WORKCREW_SCENARIO, undefined);
});

test("logged environments never show secrets", () => {
  const shown = redactEnv({ ANTHROPIC_API_KEY: "sk-1", GITHUB_TOKEN: "t", WORKCREW_PROVIDER: "simulated" });
  assert.deepEqual(shown, { ANTHROPIC_API_KEY: "***", GITHUB_TOKEN: "***", WORKCREW_PROVIDER: "simulated" });
});

test("engine settings use workcrew.toml keys and extend the built-in secret patterns", () => {
  const config = readConfig(getter({ "models.verifier": "claude-haiku", budgetUsd: 2.5, concurrency: 4, approval: "threshold", secretPatterns: ["*.vault"], excludes: ["dist/**"] }));
  const settings = engineSettings(config);
  assert.deepEqual(settings.models, { verifier: "claude-haiku" });
  assert.equal(settings.budget_usd, 2.5);
  assert.equal(settings.concurrency, 4);
  assert.equal(settings.approval, "threshold");
  assert.deepEqual(settings.excludes, ["dist/**"]);
  assert.deepEqual(settings.secret_patterns, [...BUILTIN_SECRET_PATTERNS, "*.vault"]);
  assert.equal("secret_patterns" in engineSettings(readConfig(getter({}))), false);
});

test("the built-in secret patterns mirror the engine's list", async () => {
  const fs = await import("node:fs");
  const path = await import("node:path");
  const source = fs.readFileSync(path.join(__dirname, "..", "..", "..", "engine", "settings.py"), "utf8");
  const block = /DEFAULT_SECRET_PATTERNS = \[([\s\S]*?)\]/.exec(source);
  assert.ok(block, "engine/settings.py defines DEFAULT_SECRET_PATTERNS");
  const engine = [...block[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(BUILTIN_SECRET_PATTERNS, engine);
});

test("only settings that reach argv or the environment restart the daemon", () => {
  assert.equal(needsRestart((k) => k === "workcrew.provider"), true);
  assert.equal(needsRestart((k) => k === "workcrew.interpreter"), true);
  assert.equal(needsRestart((k) => k === "workcrew.concurrency"), false);
});

test("log level drives LSP tracing", () => {
  assert.equal(traceForLogLevel(1), "verbose");
  assert.equal(traceForLogLevel(2), "messages");
  assert.equal(traceForLogLevel(3), "off");
});

test("the check command that verifies fixes reaches the daemon as check_command, only when set", () => {
  assert.equal(engineSettings(readConfig(getter({ checkCommand: " python -m pytest -q " }))).check_command, "python -m pytest -q");
  assert.equal("check_command" in engineSettings(readConfig(getter({}))), false);
});
