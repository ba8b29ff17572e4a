// Builds the workcrew wheel into bundled/ so the .vsix can install the daemon into a private
// environment on a machine that only has Python (see src/venv.ts).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const extension = resolve(here, "..");
const repo = resolve(extension, "..");
const bundled = join(extension, "bundled");
const venvPython = join(repo, ".venv", process.platform === "win32" ? "Scripts/python.exe" : "bin/python");
const python = process.env.WORKCREW_PYTHON || (existsSync(venvPython) ? venvPython : "python3");

mkdirSync(bundled, { recursive: true });
for (const name of readdirSync(bundled)) if (name.endsWith(".whl")) rmSync(join(bundled, name));
try {
  // setuptools is chatty about package data; its output matters only when the build fails.
  execFileSync(python, ["-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check", "-w", bundled, repo], { stdio: "pipe" });
} catch (err) {
  process.stderr.write(String(err.stdout ?? "") + String(err.stderr ?? ""));
  console.error(`building the workcrew wheel with ${python} failed`);
  process.exit(1);
}
const wheels = readdirSync(bundled).filter((n) => /^workcrew-.+\.whl$/.test(n));
if (wheels.length !== 1) {
  console.error(`expected one workcrew wheel in ${bundled}, found: ${wheels.join(", ") || "none"}`);
  process.exit(1);
}
console.log(`bundled/${wheels[0]}`);
