"""The macOS layer: the ``sandbox-exec`` profile the script host starts under there.

Linux machines (CI) check what the profile allows and that the host command uses it only where the
probe succeeded; a macOS machine also starts Python under it and tries to leave."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from workcrew.engine import confine


def rules(profile: str) -> list[str]:
    return profile.splitlines()


def test_the_profile_denies_by_default_and_allows_only_reading_the_interpreter() -> None:
    readable = confine.interpreter_paths()
    profile = confine.seatbelt_profile(readable)
    lines = rules(profile)
    assert lines[:2] == ["(version 1)", "(deny default)"]
    assert "(deny network*)" in lines and "(deny process-fork)" in lines
    reads = next(line for line in lines if line.startswith("(allow file-read* "))
    for path in readable:
        assert f'(subpath "{path}")' in reads
    assert str(Path.home()) not in reads or any(Path.home() in (p, *p.parents) for p in readable)
    # the only write is to /dev/null; nothing may be executed but the interpreter
    writes = [line for line in lines if "file-write" in line]
    assert writes == ['(allow file-write-data (literal "/dev/null"))']
    execs = [line for line in lines if "process-exec" in line]
    assert len(execs) == 1 and str(Path(sys.executable).resolve()) in execs[0]


def test_paths_are_quoted_so_a_folder_name_cannot_add_rules() -> None:
    profile = confine.seatbelt_profile([Path('/opt/x") (allow default) ("')])
    # the quotes are escaped: "(allow default)" stays inside the path's string
    assert '(subpath "/opt/x\\") (allow default) (\\"")' in profile


def test_the_host_uses_sandbox_exec_only_where_the_probe_succeeded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(confine, "seatbelt", lambda: True)
    command, layer = confine.host_command(["python", "-I"])
    assert layer == "sandbox-exec" and command[:2] == [confine.SANDBOX_EXEC, "-p"] and command[-2:] == ["python", "-I"]
    monkeypatch.setattr(confine, "seatbelt", lambda: False)
    assert confine.host_command(["python", "-I"])[1] in ("bubblewrap", "none")


def test_the_probe_says_no_off_macos_and_without_sandbox_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    confine.seatbelt.cache_clear()
    try:
        monkeypatch.setattr(confine.sys, "platform", "linux")
        assert confine.seatbelt() is False
        confine.seatbelt.cache_clear()
        monkeypatch.setattr(confine.sys, "platform", "darwin")
        monkeypatch.setattr(confine, "SANDBOX_EXEC", "/nonexistent/sandbox-exec")
        assert confine.seatbelt() is False
    finally:
        confine.seatbelt.cache_clear()


ESCAPES = [
    "open('/etc/hosts').read()",
    "open(str(__import__('pathlib').Path.home() / '.zshrc')).read()",
    "open('/tmp/workcrew-seatbelt-canary', 'w').write('x')",
    "__import__('socket').create_connection(('1.1.1.1', 80), 2)",
    "__import__('os').system('true')",
]


if sys.platform == "darwin":  # defined only where it can run: never a skip counted as a pass
    @pytest.mark.parametrize("attempt", ESCAPES, ids=str)
    def test_on_macos_python_starts_under_the_profile_and_cannot_leave(attempt: str) -> None:
        assert confine.seatbelt(), "sandbox-exec could not start Python under the profile"
        profile = confine.seatbelt_profile(confine.interpreter_paths())
        code = f"import json\ntry:\n    {attempt}\n    print('ESCAPED')\nexcept Exception as e:\n    print('blocked', e)"
        done = subprocess.run([confine.SANDBOX_EXEC, "-p", profile, sys.executable, "-I", "-c", code],
                              capture_output=True, text=True, timeout=30, check=False)
        assert "ESCAPED" not in done.stdout and not Path("/tmp/workcrew-seatbelt-canary").exists()


def test_an_interpreter_under_tmp_is_mounted_over_the_private_tmp(monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout (and its virtualenv) under /tmp must stay visible: bubblewrap applies its mounts in order,
    so the private /tmp comes first and the interpreter's folders are bound on top of it."""
    monkeypatch.setattr(confine, "seatbelt", lambda: False)
    monkeypatch.setattr(confine, "bubblewrap", lambda: "/usr/bin/bwrap")
    monkeypatch.setattr(confine, "interpreter_paths", lambda: [Path("/usr"), Path("/tmp/checkout/.venv")])
    command, layer = confine.host_command(["python", "-I"])
    assert layer == "bubblewrap"
    private_tmp = command.index("--tmpfs")
    assert command[private_tmp + 1] == "/tmp"
    assert command.index("/tmp/checkout/.venv") > private_tmp
