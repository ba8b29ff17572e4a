// The private virtualenv in the extension's global storage: the plan (create, upgrade pip, install the
// server) and running it with clear failure messages. No `vscode` import (unit-tested with real Python).
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface VenvPaths {
  dir: string;
  python: string;
}

export function venvPaths(storageDir: string, platform = process.platform): VenvPaths {
  const dir = path.join(storageDir, "venv");
  const python = platform === "win32" ? path.join(dir, "Scripts", "python.exe") : path.join(dir, "bin", "python");
  return { dir, python };
}

export interface InstallStep {
  title: string;
  command: string;
  args: string[];
  /** What the user should do when this step fails. */
  advice: string;
}

/** The newest bundled workcrew wheel (`bundled/workcrew-*.whl`), if the .vsix ships one. */
export function findBundledWheel(extensionDir: string): string | undefined {
  const dir = path.join(extensionDir, "bundled");
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  const wheels = names.filter((n) => /^workcrew-.+\.whl$/.test(n)).sort();
  return wheels.length ? path.join(dir, wheels[wheels.length - 1]) : undefined;
}

/** What to install: the serverPackage setting, else the bundled wheel, else `workcrew` from PyPI. */
export function serverRequirement(setting: string, bundledWheel: string | undefined): string {
  return setting || bundledWheel || "workcrew";
}

export function installPlan(basePython: string[], paths: VenvPaths, requirement: string): InstallStep[] {
  const pipEnvAdvice = "Check the network connection or set workcrew.serverPackage to a local wheel, then run \"Workcrew: Restart Server\".";
  return [
    {
      title: "Creating a private Python environment",
      command: basePython[0],
      args: [...basePython.slice(1), "-m", "venv", "--clear", paths.dir],
      advice: `"${basePython.join(" ")} -m venv" failed. On Debian/Ubuntu install the venv module (sudo apt install python3-venv), or set workcrew.interpreter to a Python with Workcrew installed, then run "Workcrew: Restart Server".`,
    },
    {
      title: "Upgrading pip",
      command: paths.python,
      args: ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade", "pip"],
      advice: pipEnvAdvice,
    },
    {
      title: `Installing ${path.basename(requirement)}`,
      command: paths.python,
      args: ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
      advice: `pip could not install ${requirement}. ${pipEnvAdvice}`,
    },
  ];
}

/** The version in a wheel's file name (`workcrew-0.2.0-py3-none-any.whl` → "0.2.0"). */
export function wheelVersion(wheel: string): string | undefined {
  return /^[A-Za-z0-9_.]+-([^-]+)-.+\.whl$/.exec(path.basename(wheel))?.[1];
}

/**
 * The private environment was made by an older (or newer) extension when its workcrew differs from the
 * bundled wheel: the daemon must match the client it ships with. Only for the bundled wheel, never for
 * a user-chosen serverPackage.
 */
export function needsUpdate(installed: string, bundledWheel: string | undefined, serverPackageSetting: string): boolean {
  if (serverPackageSetting || !bundledWheel) return false;
  const bundled = wheelVersion(bundledWheel);
  return bundled !== undefined && bundled !== installed;
}

/** Reinstalls the server into an existing private environment. */
export function updatePlan(paths: VenvPaths, requirement: string): InstallStep[] {
  return [
    {
      title: `Updating Workcrew to ${path.basename(requirement)}`,
      command: paths.python,
      args: ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--force-reinstall", "--no-deps", requirement],
      advice: "Run \"Workcrew: Restart Server\" to try again, or set workcrew.interpreter to a Python with Workcrew installed.",
    },
    {
      title: "Checking dependencies",
      command: paths.python,
      args: ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
      advice: "Check the network connection, then run \"Workcrew: Restart Server\".",
    },
  ];
}

export class InstallError extends Error {
  constructor(
    readonly step: InstallStep,
    readonly detail: string,
  ) {
    super(`${step.title} failed: ${detail}\n${step.advice}`);
  }
}

/** The last meaningful lines of a failed command's output, for the error message. */
export function tail(output: string, lines = 6): string {
  return output.trim().split(/\r?\n/).filter((l) => l.trim()).slice(-lines).join("\n");
}

function runStep(step: InstallStep, log: (line: string) => void, cancel?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    log(`$ ${step.command} ${step.args.join(" ")}`);
    const child = spawn(step.command, step.args, { windowsHide: true, signal: cancel, env: { ...process.env, PIP_NO_INPUT: "1" } });
    let output = "";
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      for (const line of text.split(/\r?\n/)) if (line.trim()) log(line);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", (err) => reject(new InstallError(step, (err as NodeJS.ErrnoException).code === "ENOENT" ? `${step.command} not found` : err.message)));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new InstallError(step, `exit code ${code}${output ? `\n${tail(output)}` : ""}`))));
  });
}

/** Runs the steps in order; `progress` hears each title before it starts. Rejects with an InstallError. */
export async function runInstall(
  steps: InstallStep[],
  progress: (title: string, index: number) => void,
  log: (line: string) => void,
  cancel?: AbortSignal,
): Promise<void> {
  for (const [index, step] of steps.entries()) {
    progress(step.title, index);
    await runStep(step, log, cancel);
  }
}
