import assert from "node:assert/strict";
import { test } from "node:test";
import { engineSettings, LIMIT_BOUNDS, readConfig, SettingsError } from "../src/settings";

const getter = (values: Record<string, unknown>) => (key: string) => values[key];

test("a distributed executor and its cluster reach the daemon under workcrew.toml's keys", () => {
  const settings = engineSettings(readConfig(getter({ executor: "distributed", cluster: " 10.0.0.5:6379 " })));
  assert.equal(settings.executor, "distributed");
  assert.equal(settings.cluster, "10.0.0.5:6379");
});

test("the local default sends neither key, so workcrew.toml's executor and cluster stay in force", () => {
  const settings = engineSettings(readConfig(getter({ executor: "local", cluster: "" })));
  assert.equal("executor" in settings, false);
  assert.equal("cluster" in settings, false);
  assert.equal(readConfig(getter({})).executor, "local");
});

test("an unknown executor names the setting and its choices", () => {
  assert.throws(() => readConfig(getter({ executor: "kubernetes" })), (e: Error) =>
    e instanceof SettingsError && /workcrew\.executor must be one of local, distributed/.test(e.message));
});

test("the daemon's limits are sent as its camelCase limits object, only the keys that are set", () => {
  const settings = engineSettings(readConfig(getter({ limits: { openDocuments: 2000, documentMb: 32 } })));
  assert.deepEqual(settings.limits, { openDocuments: 2000, documentMb: 32 });
  assert.equal("limits" in engineSettings(readConfig(getter({ limits: {} }))), false);
  assert.equal("limits" in engineSettings(readConfig(getter({}))), false);
});

test("a bad limit names the key and its range; an unknown one lists the known ones", () => {
  assert.throws(() => readConfig(getter({ limits: { commandNesting: 2 } })), /workcrew\.limits\.commandNesting must be a whole number from 4 to 10000; got 2/);
  assert.throws(() => readConfig(getter({ limits: { openDocuments: 1.5 } })), /workcrew\.limits\.openDocuments must be a whole number/);
  assert.throws(() => readConfig(getter({ limits: { maxFiles: 3 } })), /workcrew\.limits\.maxFiles is not a limit; known: commandArgumentsKb, commandNesting, openDocuments, documentMb/);
  assert.throws(() => readConfig(getter({ limits: [1] })), /workcrew\.limits must be an object/);
});

test("the limits and their bounds mirror the daemon's (server/limits.py) and the settings schema", async () => {
  const fs = await import("node:fs");
  const path = await import("node:path");
  const root = path.join(__dirname, "..", "..", "..");
  const source = fs.readFileSync(path.join(root, "server", "limits.py"), "utf8");
  const block = /BOUNDS = \{([\s\S]*?)\}/.exec(source);
  assert.ok(block, "server/limits.py defines BOUNDS");
  const evaluate = (expr: string) => expr.split("*").reduce((product, part) => product * Number(part.trim().replace("KIB", "1024").replaceAll("_", "")), 1);
  const server: Record<string, [number, number]> = {};
  for (const m of block[1].matchAll(/"(\w+)": \(([^,]+), ([^)]+)\)/g)) {
    const camel = m[1].replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
    server[camel] = [evaluate(m[2]), evaluate(m[3])];
  }
  assert.deepEqual(server, LIMIT_BOUNDS);
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "vscode-extension", "package.json"), "utf8"));
  const schema = manifest.contributes.configuration.properties["workcrew.limits"].properties;
  for (const [name, [min, max]] of Object.entries(LIMIT_BOUNDS)) {
    assert.deepEqual([schema[name].minimum, schema[name].maximum], [min, max], name);
  }
});

test("workcrew.detachRuns and workcrew.otlpEndpoint reach the daemon (they were declared but never sent)", () => {
  assert.equal("detach_runs" in engineSettings(readConfig(getter({}))), false); // workcrew.toml's stays in force
  assert.equal(engineSettings(readConfig(getter({ detachRuns: false }))).detach_runs, false);
  assert.equal("otlp_endpoint" in engineSettings(readConfig(getter({}))), false);
  assert.equal(engineSettings(readConfig(getter({ otlpEndpoint: " http://localhost:4318 " }))).otlp_endpoint,
    "http://localhost:4318");
});
