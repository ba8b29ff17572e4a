"""The operating system's boundary around the script host, tried by an attacker who already runs code in it.

A rule-by-rule sandbox inside CPython cannot hold, so these tests assume the worst: the script has broken
out of the dialect's own rules and runs arbitrary Python inside the child. Each attempt runs in a child
confined exactly as production confines the script host (the same bubblewrap command, an empty
environment, the same ``apply_inside``) and asserts, however it is blocked, that nothing outside was
read, written, reached or signalled.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from workcrew.engine import confine

SECRET = "sk-ant-confinement-canary-7f3a"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux confinement")


def run_confined(code: str, *, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run ``code`` as an attacker inside a child confined like the script host (after apply_inside)."""
    program = textwrap.dedent("""
        import workcrew.engine.workflows.dialects.python
        from workcrew.engine.confine import apply_inside, limit_memory
        layers = apply_inside()
        limit_memory(1 << 30)
        import sys
        print("LAYERS", layers, flush=True)
    """) + textwrap.dedent(code)
    command, _ = confine.host_command([sys.executable, "-I", "-c", program])
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env={}, cwd="/",
                          check=False)


@pytest.fixture
def canary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A workspace with secrets, a home with keys, and a place outside both where nothing may appear."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / ".env").write_text(f"ANTHROPIC_API_KEY={SECRET}\n")
    (workspace / "app.py").write_text("print('hello')\n")
    home = tmp_path / "home" / ".ssh"
    home.mkdir(parents=True)
    (home / "id_rsa").write_text(f"-----BEGIN KEY----- {SECRET}\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    return {"workspace": workspace, "home": home.parent, "outside": outside}


def test_the_host_is_confined_by_both_layers_here() -> None:
    done = run_confined("print('ok')")
    assert done.returncode == 0, done.stderr
    assert "LAYERS {'landlock': True}" in done.stdout  # Landlock on this kernel
    assert confine.bubblewrap() is not None  # and bubblewrap around it (.ci/run installs it)


READS = {
    "workspace secret file": "print(open({ws!r} + '/.env').read())",
    "workspace source file": "print(open({ws!r} + '/app.py').read())",
    "private key in home": "print(open({home!r} + '/.ssh/id_rsa').read())",
    "list the workspace": "import os; print(os.listdir({ws!r}))",
    "list the home": "import os; print(os.listdir({home!r}))",
    "own environment": "import os; print(dict(os.environ))",
    "parent environment": "print(open('/proc/{ppid}/environ').read())",
    "init environment": "print(open('/proc/1/environ', 'rb').read())",
    "own environ file": "print(open('/proc/self/environ').read())",
    "passwd": "print(open('/etc/passwd').read())",
    "shadow": "print(open('/etc/shadow').read())",
    "ssh host keys": "import glob; print([open(p).read() for p in glob.glob('/etc/ssh/*key*')])",
    "root home": "import os; print(os.listdir('/root'))",
    "tmp of the host": "import os; print(os.listdir('/tmp'), os.listdir({outside!r}))",
    "git config": "print(open(__import__('os').path.expanduser('~/.gitconfig')).read())",
    "symlink out via /proc/self/root": "print(open('/proc/self/root' + {ws!r} + '/.env').read())",
    "open by fd scan": "import os\nfor fd in range(3, 64):\n    try: print(os.read(fd, 100))\n    except OSError: pass",
    "path traversal": "print(open('/usr/../' + {ws!r}.lstrip('/') + '/.env').read())",
    "docker socket": "import socket; s = socket.socket(socket.AF_UNIX); s.connect('/var/run/docker.sock'); print('connected')",
    "kernel keyring": "print(open('/proc/keys').read())",
}


@pytest.mark.parametrize("attempt", list(READS), ids=list(READS))
def test_nothing_outside_the_interpreter_can_be_read(attempt: str, canary: dict[str, Path]) -> None:
    code = READS[attempt].format(ws=str(canary["workspace"]), home=str(canary["home"]), ppid=os.getpid(),
                                 outside=str(canary["outside"]))
    done = run_confined(code)
    assert SECRET not in done.stdout + done.stderr
    assert "hello" not in done.stdout  # the workspace's own source is out of reach too
    assert "connected" not in done.stdout


WRITES = {
    "a file outside": "open({outside!r} + '/pwned', 'w').write('x')",
    "a file in the workspace": "open({ws!r} + '/pwned', 'w').write('x')",
    "replace a workspace file": "open({ws!r} + '/app.py', 'w').write('evil()')",
    "tmp": "open('/tmp/pwned', 'w').write('x'); import shutil; shutil.copy('/tmp/pwned', {outside!r} + '/pwned')",
    "the venv": "import sys; open(sys.prefix + '/pwned', 'w').write('x')",
    "engine code": "import workcrew.engine, os; open(os.path.dirname(workcrew.engine.__file__) + '/pwned.py', 'w')",
    "a directory": "import os; os.mkdir({outside!r} + '/pwned')",
    "a symlink": "import os; os.symlink('/etc/passwd', {outside!r} + '/pwned')",
    "a fifo": "import os; os.mkfifo({outside!r} + '/pwned')",
    "rename a workspace file": "import os; os.rename({ws!r} + '/app.py', {outside!r} + '/pwned')",
    "remove a workspace file": "import os; os.remove({ws!r} + '/app.py'); open({outside!r} + '/pwned', 'w')",
    "dev shm": "open('/dev/shm/pwned', 'w').write('x'); open({outside!r} + '/pwned', 'w')",
}


@pytest.mark.parametrize("attempt", list(WRITES), ids=list(WRITES))
def test_nothing_can_be_written_anywhere(attempt: str, canary: dict[str, Path]) -> None:
    before = {p: p.read_bytes() for p in canary["workspace"].iterdir()}
    code = WRITES[attempt].format(ws=str(canary["workspace"]), outside=str(canary["outside"]))
    run_confined(code)
    assert not (canary["outside"] / "pwned").exists()
    assert not os.path.lexists(canary["outside"] / "pwned")
    assert {p: p.read_bytes() for p in canary["workspace"].iterdir()} == before
    import workcrew.engine

    assert not (Path(workcrew.engine.__file__).parent / "pwned.py").exists()
    assert not (Path(sys.prefix) / "pwned").exists()


@pytest.fixture
def listener() -> tuple[int, list[bytes]]:
    """A TCP server on loopback that records anything it receives."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            received.append(conn.recv(100) or b"(connected)")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join()
    server.close()


NETWORK = {
    "tcp to loopback": "import socket; s = socket.create_connection(('127.0.0.1', {port}), 2); s.send(b'leak')",
    "tcp by hostname": "import socket; s = socket.create_connection(('localhost', {port}), 2); s.send(b'leak')",
    "udp to loopback": "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'leak', ('127.0.0.1', {port}))",
    "ipv6 loopback": "import socket; s = socket.create_connection(('::1', {port}), 2); s.send(b'leak')",
    "bind a port": "import socket; s = socket.socket(); s.bind(('0.0.0.0', 0)); s.listen(); print('bound')",
    "urllib": "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=2)",
    "raw socket": "import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, 1); print('raw')",
    "abstract unix socket": "import socket; s = socket.socket(socket.AF_UNIX); s.connect('\\0workcrew-test'); print('connected')",
}


@pytest.mark.parametrize("attempt", list(NETWORK), ids=list(NETWORK))
def test_no_network(attempt: str, listener: tuple[int, list[bytes]]) -> None:
    port, received = listener
    done = run_confined(NETWORK[attempt].format(port=port))
    assert received == []
    assert "bound" not in done.stdout and "raw" not in done.stdout and "connected" not in done.stdout


PROCESSES = {
    "shell": "import subprocess; print(subprocess.run(['/bin/sh', '-c', 'echo ran'], capture_output=True).stdout)",
    "os.system": "import os; print(os.system('echo ran > /dev/null') == 0 and 'ran')",
    "exec python": "import os, sys; os.execv(sys.executable, [sys.executable, '-c', 'print(\"ran\")'])",
    "fork bomb stopped": "import os\nfor _ in range(5):\n    if os.fork() == 0:\n        print('ran'); os._exit(0)",
    "kill the parent": "import os, signal; os.kill({ppid}, signal.SIGTERM); print('sent')",
    "kill everything": "import os, signal; os.kill(-1, signal.SIGKILL)",
    "ptrace the parent": "import ctypes; libc = ctypes.CDLL(None); print('attached' if libc.ptrace(16, {ppid}, 0, 0) == 0 else 'no')",
    "setuid": "import os; os.setuid(0); os.setgid(0); print(open('/etc/shadow').read())",
    "mount": "import ctypes; libc = ctypes.CDLL(None); print('mounted' if libc.mount(b'none', b'/tmp', b'tmpfs', 0, None) == 0 else 'no')",
    "unshare user namespace": "import os; os.unshare(os.CLONE_NEWUSER); print(open('/proc/self/uid_map').read())",
}


@pytest.mark.parametrize("attempt", list(PROCESSES), ids=list(PROCESSES))
def test_no_programs_signals_or_privileges(attempt: str) -> None:
    parent_alive = threading.Event()
    old = signal.signal(signal.SIGTERM, lambda *a: parent_alive.set())
    try:
        done = run_confined(PROCESSES[attempt].format(ppid=os.getpid()))
    finally:
        signal.signal(signal.SIGTERM, old)
    assert not parent_alive.is_set()  # the test process (the "daemon") got no signal
    assert "ran" not in done.stdout and "sent" not in done.stdout.replace("LAYERS", "")
    assert "attached" not in done.stdout and "mounted" not in done.stdout


def test_memory_is_capped(canary: dict[str, Path]) -> None:
    done = run_confined("x = bytearray(3 * 1024 ** 3)\nprint('allocated')")
    assert "allocated" not in done.stdout
    assert "MemoryError" in done.stderr


def test_the_environment_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    done = run_confined("import os; print(sorted(os.environ))")
    assert SECRET not in done.stdout
    assert "ANTHROPIC_API_KEY" not in done.stdout and "AWS_SECRET_ACCESS_KEY" not in done.stdout
