"""The workspace as agents see it, packed once per run and content-addressed.

The snapshot holds exactly what a local agent's private copy would (``agents.isolation.copy_tree``: the
scope's files, ``.gitignore`` honoured, no secret files, no VCS or tool folders). Its name is the SHA-256 of
its contents, so a worker that already unpacked it for an earlier run with the same files uses that copy and
never fetches it again. Entries are sorted and carry no owner or time, so the same files give the same digest
on every machine.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..agents.tools import PathPolicy, walk
from ..settings import Settings


@dataclass(frozen=True)
class Snapshot:
    digest: str  # sha256 of ``data``
    data: bytes  # an uncompressed tar: file contents dominate, and workers unpack it once
    files: int


def pack(workspace: Path, settings: Settings) -> Snapshot:
    policy = PathPolicy(workspace, settings)
    buffer = io.BytesIO()
    files = 0
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in sorted(walk(policy.root, policy)):
            path = policy.root / rel
            try:
                data = path.read_bytes()
                mode = path.stat().st_mode
            except OSError:
                continue  # vanished or unreadable: the copy is best effort, like a checkout
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            info.mode = 0o755 if mode & 0o111 else 0o644
            tar.addfile(info, io.BytesIO(data))
            files += 1
    data = buffer.getvalue()
    return Snapshot(hashlib.sha256(data).hexdigest(), data, files)


def unpacked(cache: Path, digest: str, data: bytes) -> Path:
    """``cache/<digest>``, unpacked from ``data`` unless an earlier run left it there complete."""
    target = cache / digest
    if is_unpacked(cache, digest):
        return target
    if hashlib.sha256(data).hexdigest() != digest:
        raise ValueError("the workspace snapshot does not match its digest")
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=cache))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            tar.extractall(staging, filter="data")  # no links, devices or paths outside the folder
        try:
            os.rename(staging, target)
        except OSError:  # unpacked meanwhile (another run on this worker), or a partial copy of a crashed one
            if is_unpacked(cache, digest):
                return target
            shutil.rmtree(target, ignore_errors=True)
            os.rename(staging, target)
        # the mark sits beside the folder, never inside where agents would see it
        (cache / f"{digest}.done").write_text("")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def is_unpacked(cache: Path, digest: str) -> bool:
    return (cache / f"{digest}.done").exists() and (cache / digest).is_dir()
