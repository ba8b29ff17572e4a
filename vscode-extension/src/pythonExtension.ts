// The Python extension's interpreter, looked up at runtime: a soft dependency (a hard
// extensionDependencies entry blocks activation offline and on machines without it).
import * as vscode from "vscode";

interface EnvironmentPath {
  path: string;
}
interface ResolvedEnvironment {
  executable?: { uri?: vscode.Uri };
}
interface PythonApi {
  environments?: {
    getActiveEnvironmentPath?(resource?: vscode.Uri): EnvironmentPath | undefined;
    resolveEnvironment?(env: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
  settings?: { getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] } };
}

/** The interpreter the Python extension selected for the first folder, or undefined (never throws). */
export async function pythonFromExtension(log: vscode.LogOutputChannel): Promise<string[] | undefined> {
  const extension = vscode.extensions.getExtension<PythonApi>("ms-python.python");
  if (!extension) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
    const active = api?.environments?.getActiveEnvironmentPath?.(resource);
    if (active?.path) {
      const resolved = await api?.environments?.resolveEnvironment?.(active);
      return [resolved?.executable?.uri?.fsPath ?? active.path];
    }
    const command = api?.settings?.getExecutionDetails?.(resource)?.execCommand;
    return command?.length ? command : undefined;
  } catch (err) {
    log.warn(`The Python extension did not name an interpreter: ${String(err)}`);
    return undefined;
  }
}

/** Calls `onChange` when the Python extension's selected interpreter changes (nothing when it is absent). */
export async function watchPythonExtension(log: vscode.LogOutputChannel, onChange: () => void): Promise<vscode.Disposable | undefined> {
  const extension = vscode.extensions.getExtension<PythonApi>("ms-python.python");
  if (!extension) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    return api?.environments?.onDidChangeActiveEnvironmentPath?.(() => onChange());
  } catch (err) {
    log.warn(`Not following the Python extension's interpreter: ${String(err)}`);
    return undefined;
  }
}
