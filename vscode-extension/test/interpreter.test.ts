import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { chooseInterpreter, decideLaunch, isProbe, meetsMinimum, probeInterpreter, Probe } from "../src/interpreter";

const REPO_VENV_PYTHON = path.resolve(__dirname, "..", "..", "..", ".venv", "bin", "python");
const probe = (version: [number, number, number], workcrew: string | null): Probe => ({ version, executable: "/x/python", workcrew });

test("priority: setting, then the Python extension, then python3 on PATH", () => {
  assert.deepEqual(chooseInterpreter(["/a/python"], ["/b/python"]), { command: ["/a/python"], source: "setting" });
  assert.deepEqual(chooseInterpreter([], ["/b/python"]), { command: ["/b/python"], source: "python-extension" });
  assert.deepEqual(chooseInterpreter([], undefined, "linux"), { command: ["python3"], source: "path" });
  assert.deepEqual(chooseInterpreter([], undefined, "win32"), { command: ["python"], source: "path" });
});

test("minimum version comparison", () => {
  assert.equal(meetsMinimum([3, 11, 0], "3.11"), true);
  assert.equal(meetsMinimum([3, 10, 9], "3.11"), false);
  assert.equal(meetsMinimum([4, 0, 0], "3.11"), true);
});

test("launch when the interpreter has workcrew", () => {
  const d = decideLaunch({ command: ["python3"], source: "path" }, probe([3, 12, 1], "0.1.0"), undefined, "3.11");
  assert.deepEqual(d, { kind: "launch", command: ["python3"], source: "path", version: "0.1.0" });
});

test("offer the private install when workcrew is missing, unless the private environment has it", () => {
  const missing = probe([3, 11, 2], null);
  assert.equal(decideLaunch({ command: ["python3"], source: "path" }, missing, undefined, "3.11").kind, "offer-install");
  const viaVenv = decideLaunch({ command: ["python3"], source: "path" }, missing, { command: ["/s/venv/bin/python"], probe: probe([3, 11, 2], "0.1.0") }, "3.11");
  assert.deepEqual(viaVenv, { kind: "launch", command: ["/s/venv/bin/python"], source: "private-venv", version: "0.1.0" });
});

test("an explicit interpreter setting is never silently replaced", () => {
  const d = decideLaunch({ command: ["/opt/py"], source: "setting" }, probe([3, 12, 0], null), { command: ["/s/venv/bin/python"], probe: probe([3, 12, 0], "0.1.0") }, "3.11");
  assert.equal(d.kind, "error");
  assert.match(d.kind === "error" ? d.message : "", /pip install workcrew/);
});

test("too old or missing Python gives an error that says what to do", () => {
  const old = decideLaunch({ command: ["python3"], source: "path" }, probe([3, 9, 0], null), undefined, "3.11");
  assert.match(old.kind === "error" ? old.message : "", /needs Python 3\.11 or newer/);
  const none = decideLaunch({ command: ["python3"], source: "path" }, { error: "python3: not found" }, undefined, "3.11");
  assert.match(none.kind === "error" ? none.message : "", /No Python found.*workcrew\.interpreter/);
});

test("probing a real interpreter reports its version and whether workcrew is importable", async () => {
  const system = await probeInterpreter(["python3"]);
  assert.ok(isProbe(system), JSON.stringify(system));
  assert.equal(system.version[0], 3);
  if (fs.existsSync(REPO_VENV_PYTHON)) {
    const venv = await probeInterpreter([REPO_VENV_PYTHON]);
    assert.ok(isProbe(venv) && venv.workcrew !== null, "the repository's .venv has workcrew installed");
  }
});

test("probing a missing interpreter fails with 'not found'", async () => {
  const result = await probeInterpreter(["/nonexistent/python3"]);
  assert.ok(!isProbe(result));
  assert.match(result.error, /not found/);
});
