// Which Python runs the daemon, and whether it can: probe an interpreter, then decide between launching,
// offering the private-environment install, or a clear error. No `vscode` import (unit-tested).
import { execFile } from "child_process";

export type InterpreterSource = "setting" | "python-extension" | "path" | "private-venv";

export interface Candidate {
  command: string[];
  source: InterpreterSource;
}

/** Priority: the workcrew.interpreter setting, else the Python extension's choice, else python3 on PATH. */
export function chooseInterpreter(setting: string[], fromPythonExtension: string[] | undefined, platform = process.platform): Candidate {
  if (setting.length) return { command: setting, source: "setting" };
  if (fromPythonExtension && fromPythonExtension.length) return { command: fromPythonExtension, source: "python-extension" };
  return { command: [platform === "win32" ? "python" : "python3"], source: "path" };
}

export interface Probe {
  version: [number, number, number];
  executable: string;
  /** Version of the installed workcrew distribution, or null when the server module is not importable. */
  workcrew: string | null;
}

// Printed as one JSON line; importing only importlib keeps the probe fast and side-effect free.
export const PROBE_SCRIPT = [
  "import sys, json, importlib.util, importlib.metadata as m",
  "try:",
  "    ok = importlib.util.find_spec('workcrew.server') is not None",
  "except Exception:",
  "    ok = False",
  "v = None",
  "if ok:",
  "    try:",
  "        v = m.version('workcrew')",
  "    except Exception:",
  "        v = '0'",
  "print(json.dumps({'version': list(sys.version_info[:3]), 'executable': sys.executable, 'workcrew': v}))",
].join("\n");

export function parseProbe(stdout: string): Probe | null {
  const line = stdout.trim().split(/\r?\n/).pop() ?? "";
  try {
    const data = JSON.parse(line) as Partial<Probe>;
    if (!Array.isArray(data.version) || typeof data.executable !== "string") return null;
    return { version: data.version as Probe["version"], executable: data.executable, workcrew: data.workcrew ?? null };
  } catch {
    return null;
  }
}

export interface ProbeFailure {
  error: string;
}

/** Runs the interpreter with PROBE_SCRIPT (10 s limit). */
export function probeInterpreter(command: string[], timeoutMs = 10_000): Promise<Probe | ProbeFailure> {
  return new Promise((resolve) => {
    execFile(command[0], [...command.slice(1), "-c", PROBE_SCRIPT], { timeout: timeoutMs, windowsHide: true }, (err, stdout, stderr) => {
      const probe = parseProbe(String(stdout));
      if (probe) return resolve(probe);
      const reason = err ? ((err as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : err.message) : "printed no version";
      resolve({ error: `${command.join(" ")}: ${reason}${stderr ? ` (${String(stderr).trim().split("\n").pop()})` : ""}` });
    });
  });
}

export function isProbe(result: Probe | ProbeFailure): result is Probe {
  return (result as Probe).version !== undefined;
}

export function parseMinimum(minimum: string): [number, number] {
  const [major, minor] = minimum.split(".").map((p) => Number.parseInt(p, 10));
  return [major || 3, minor || 0];
}

export function meetsMinimum(version: readonly number[], minimum: string): boolean {
  const [major, minor] = parseMinimum(minimum);
  return version[0] > major || (version[0] === major && version[1] >= minor);
}

export type LaunchDecision =
  | { kind: "launch"; command: string[]; source: InterpreterSource; version: string }
  | { kind: "offer-install"; basePython: string[]; reason: string }
  | { kind: "error"; message: string };

/**
 * What to do with the chosen interpreter's probe and, if one exists, the private environment's probe.
 * The private environment wins over a candidate that lacks workcrew, but an explicit setting is honoured
 * strictly: when the user named an interpreter, we tell them what is wrong with it instead of silently
 * using another one.
 */
export function decideLaunch(
  candidate: Candidate,
  probe: Probe | ProbeFailure,
  privateVenv: { command: string[]; probe: Probe | ProbeFailure } | undefined,
  minimumPython: string,
): LaunchDecision {
  if (isProbe(probe) && probe.workcrew !== null && meetsMinimum(probe.version, minimumPython)) {
    return { kind: "launch", command: candidate.command, source: candidate.source, version: probe.workcrew };
  }
  if (candidate.source === "setting") {
    if (!isProbe(probe)) {
      return { kind: "error", message: `The interpreter in workcrew.interpreter does not run: ${probe.error}. Fix the setting or clear it to use python3 from PATH.` };
    }
    if (!meetsMinimum(probe.version, minimumPython)) {
      return { kind: "error", message: `workcrew.interpreter points at Python ${probe.version.join(".")}; Workcrew needs Python ${minimumPython} or newer. Point the setting at a newer interpreter.` };
    }
    return { kind: "error", message: `Workcrew is not installed for ${probe.executable}. Run \`${probe.executable} -m pip install workcrew\` or clear workcrew.interpreter to let the extension install a private copy.` };
  }
  if (privateVenv && isProbe(privateVenv.probe) && privateVenv.probe.workcrew !== null) {
    return { kind: "launch", command: privateVenv.command, source: "private-venv", version: privateVenv.probe.workcrew };
  }
  if (!isProbe(probe)) {
    return { kind: "error", message: `No Python found (${probe.error}). Install Python ${minimumPython} or newer, or set workcrew.interpreter to its path, then run "Workcrew: Restart Server".` };
  }
  if (!meetsMinimum(probe.version, minimumPython)) {
    return { kind: "error", message: `${probe.executable} is Python ${probe.version.join(".")}; Workcrew needs Python ${minimumPython} or newer. Install a newer Python or set workcrew.interpreter, then run "Workcrew: Restart Server".` };
  }
  return { kind: "offer-install", basePython: candidate.command, reason: `Workcrew is not installed for ${probe.executable}.` };
}
