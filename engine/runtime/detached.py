"""Runs that outlive whoever started them: each such run is owned by its own run process.

``launch()`` writes what the run needs (the script, its args, the approved settings and estimate, the run to
reuse) to ``<state>/runs/ID/spec.json`` and starts ``python -m workcrew.engine.runtime.detached SPEC`` in a
new session, so closing the editor, the terminal or ``Ctrl-C`` in ``workcrew attach`` leaves it running.
The run process records itself as the run's owner in the store; anyone follows it from the store
(``follow.py``) and controls it through the store (``store/controls.py``). If it is killed, the store
marks the run ``interrupted`` with what its agents spent, and ``--reuse`` resumes it without paying again
for a finished agent.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio

from ..errors import UsageError, WorkcrewError
from ..settings import Settings
from ..store import RunStore, StoreError, controls
from ..workflows.workflow import Workflow, load_workflow
from .run import new_run_id, start

STARTUP_TIMEOUT_S = 30.0


def launch(workflow: Workflow, args: Any, settings: Settings, *, estimate: dict[str, Any] | None = None,
           reuse_from: str | None = None, force: bool = False) -> str:
    """Start the run in its own process and return its id once the run is recorded in the store.

    Raises :class:`UsageError` with the process's own words when it could not start the run."""
    run_id = new_run_id()
    folder = settings.resolved_state_dir() / "runs" / run_id
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "run_id": run_id, "name": workflow.name, "path": str(workflow.path) if workflow.path else None,
        "source": workflow.source, "args": args, "settings": json.loads(settings.model_dump_json()),
        "estimate": estimate, "reuse_from": reuse_from, "force": force,
    }
    spec_path = folder / "spec.json"
    spec_path.write_text(json.dumps(spec, default=str), encoding="utf-8")
    log_path = folder / "process.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "workcrew.engine.runtime.detached", str(spec_path)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
            cwd=str(settings.workspace),
        )
    _wait_recorded(settings, run_id, process, log_path)
    return run_id


def _wait_recorded(settings: Settings, run_id: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    store = RunStore(settings.resolved_state_dir())
    try:
        while time.monotonic() < deadline:
            if store.get_run(run_id) is not None:
                return
            if process.poll() is not None:
                tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
                raise UsageError(f"the run process ended before the run started (exit code {process.returncode})"
                                 + (": " + " / ".join(tail) if tail else ""))
            time.sleep(0.05)
    finally:
        store.close()
    raise UsageError(f"the run process did not record run {run_id} within {STARTUP_TIMEOUT_S:g} s; see {log_path}")


class StoreAsker:
    """``ask()`` in a run process: the question is an ``ask`` event in the store, and whoever follows the run
    (the editor, `workcrew attach` on a terminal) answers it there; the run waits for the first answer."""

    POLL_S = 0.25

    def __init__(self, store: RunStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.asked = 0

    async def __call__(self, question: str, choices: list[str] | None) -> str | None:
        self.asked += 1
        number = self.asked
        while True:
            found, value = await anyio.to_thread.run_sync(controls.answered, self.store, self.run_id, number)
            if found:
                return value
            await asyncio.sleep(self.POLL_S)


def _workflow(spec: dict[str, Any]) -> Workflow:
    # the script as it was approved (its source is in the spec), even if the file changed since
    return load_workflow(spec.get("path") or spec["name"], source=spec["source"])


async def _serve(spec: dict[str, Any]) -> int:
    from ..providers.factory import make_client
    from .resume import ResumeCache

    settings = Settings.model_validate(spec["settings"])
    workflow = _workflow(spec)
    store = RunStore(settings.resolved_state_dir())
    try:
        resume = None
        if spec.get("reuse_from"):
            resume = await anyio.to_thread.run_sync(lambda: ResumeCache.load(
                store, spec["reuse_from"], workflow.name, force=bool(spec.get("force")), settings=settings))
        client = make_client(settings)
        try:
            handle = start(workflow, spec.get("args"), settings, client=client, store=store,
                           estimate=spec.get("estimate"), run_id=spec["run_id"], resume=resume,
                           asker=StoreAsker(store, spec["run_id"]))
            loop = asyncio.get_running_loop()
            # a terminal's Ctrl-C never reaches this process (its own session); a plain `kill` cancels the run
            # with its bookkeeping done, rather than leaving it to be found interrupted
            loop.add_signal_handler(signal.SIGTERM, handle.cancel)
            loop.add_signal_handler(signal.SIGHUP, lambda: None)
            outcome = await handle.result()
        finally:
            await client.aclose()
    finally:
        store.close()
    return 0 if outcome.status == "succeeded" else 1


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m workcrew.engine.runtime.detached SPEC.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    from .heap import freeze_startup_heap
    from .scripthost.spawn import prewarm

    prewarm()
    freeze_startup_heap()
    try:
        return anyio.run(_serve, spec)
    except (WorkcrewError, StoreError) as exc:
        print(f"workcrew run process: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
