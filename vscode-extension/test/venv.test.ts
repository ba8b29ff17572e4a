import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { findBundledWheel, installPlan, InstallError, needsUpdate, runInstall, serverRequirement, updatePlan, venvPaths, wheelVersion } from "../src/venv";

test("venv paths per platform", () => {
  assert.equal(venvPaths("/g", "linux").python, path.join("/g", "venv", "bin", "python"));
  assert.equal(venvPaths("/g", "win32").python, path.join("/g", "venv", "Scripts", "python.exe"));
});

test("what to install: setting, else the bundled wheel, else PyPI", () => {
  const ext = fs.mkdtempSync(path.join(os.tmpdir(), "wc-ext-"));
  assert.equal(findBundledWheel(ext), undefined);
  fs.mkdirSync(path.join(ext, "bundled"));
  fs.writeFileSync(path.join(ext, "bundled", "workcrew-0.1.0-py3-none-any.whl"), "");
  fs.writeFileSync(path.join(ext, "bundled", "other-1.0-py3-none-any.whl"), "");
  const wheel = findBundledWheel(ext);
  assert.equal(wheel, path.join(ext, "bundled", "workcrew-0.1.0-py3-none-any.whl"));
  assert.equal(serverRequirement("", wheel), wheel);
  assert.equal(serverRequirement("/src/workcrew", wheel), "/src/workcrew");
  assert.equal(serverRequirement("", undefined), "workcrew");
});

test("the plan creates the venv with the base interpreter and installs with the venv's pip", () => {
  const paths = venvPaths("/g", "linux");
  const steps = installPlan(["py", "-3.12"], paths, "/w/workcrew.whl");
  assert.deepEqual(steps[0].args, ["-3.12", "-m", "venv", "--clear", paths.dir]);
  assert.equal(steps[0].command, "py");
  assert.equal(steps[2].command, paths.python);
  assert.deepEqual(steps[2].args.slice(-1), ["/w/workcrew.whl"]);
});

test("a failing install names the step, shows pip's output and says what to do", async () => {
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), "wc-venv-"));
  const paths = venvPaths(storage);
  const missing = path.join(storage, "no-such-wheel-0.0.0-py3-none-any.whl");
  // The real venv module and pip: creating works, installing a missing local file fails without network.
  const steps = installPlan(["python3"], paths, missing).filter((s) => !s.title.startsWith("Upgrading"));
  steps[1].args.splice(3, 0, "--no-index");
  const seen: string[] = [];
  await assert.rejects(
    runInstall(steps, (title) => seen.push(title), () => undefined),
    (err: unknown) => {
      assert.ok(err instanceof InstallError);
      assert.match(err.message, /^Installing no-such-wheel.* failed: exit code [1-9]/);
      assert.match(err.message, /workcrew\.serverPackage/);
      return true;
    },
  );
  assert.deepEqual(seen, ["Creating a private Python environment", `Installing ${path.basename(missing)}`]);
  assert.ok(fs.existsSync(paths.python), "the venv itself was created");
});

test("a missing base interpreter is reported as not found", async () => {
  const steps = installPlan(["/nonexistent/python3"], venvPaths(os.tmpdir()), "workcrew").slice(0, 1);
  await assert.rejects(runInstall(steps, () => undefined, () => undefined), /not found[\s\S]*python3-venv/);
});

test("the private environment follows the bundled wheel's version, not a user-chosen package", () => {
  const wheel = "/ext/bundled/workcrew-0.2.0-py3-none-any.whl";
  assert.equal(wheelVersion(wheel), "0.2.0");
  assert.equal(needsUpdate("0.1.0", wheel, ""), true);
  assert.equal(needsUpdate("0.2.0", wheel, ""), false);
  assert.equal(needsUpdate("0.1.0", wheel, "/src/workcrew"), false);
  assert.equal(needsUpdate("0.1.0", undefined, ""), false);
  const steps = updatePlan(venvPaths("/g", "linux"), wheel);
  assert.ok(steps[0].args.includes("--force-reinstall"));
  assert.equal(steps.every((s) => s.command === venvPaths("/g", "linux").python), true);
});
