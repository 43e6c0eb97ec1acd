"""Manifests read from a git revision (``REV:path``), without a checkout.

Refactors live in git: ``npverify equiv main:k8s/ k8s/`` compares the policies on main
with the working tree. ``path`` is relative to the repository's top level, as in
``git show REV:path`` (write ``REV:./path`` for a path relative to the current folder).
"""

from __future__ import annotations

import os
import subprocess

from npverify.errors import InputError
from npverify.model import Diagnostic

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def looks_like_revision(spec: str) -> bool:
    """``REV:path`` that is not an existing file (Windows drive letters aside), nor a live
    cluster (``cluster:`` or ``cluster:CONTEXT``: write ``heads/cluster:path`` for a branch
    named cluster)."""
    rev, colon, _ = spec.partition(":")
    return bool(colon and rev and not os.path.exists(spec) and len(rev) > 1 and rev != "cluster")


def _git(*args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], capture_output=True, check=False, timeout=60)
    except FileNotFoundError:
        raise InputError(Diagnostic("reading a git revision needs the git command, which is not installed")) from None
    except subprocess.TimeoutExpired:
        raise InputError(Diagnostic(f"git {' '.join(args)} did not finish within 60 s")) from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(Diagnostic(f"git {' '.join(args)}: {message[-1] if message else 'failed'}"))
    return done.stdout


def read_revision(spec: str) -> list[tuple[str, bytes]]:
    """The manifest files at ``REV:path`` as (display name, bytes), sorted by name."""
    rev, _, path = spec.partition(":")
    path = path.rstrip("/") or "."
    object_name = f"{rev}:{path}" if path != "." else f"{rev}:"
    try:
        kind = _git("cat-file", "-t", object_name).decode().strip()
    except InputError as exc:
        raise InputError(
            Diagnostic(f"{spec}: not a file or folder of a git revision ({exc.diagnostics[0].message})")
        ) from None
    if kind == "blob":
        return [(spec, _git("cat-file", "blob", object_name))]
    if kind != "tree":
        raise InputError(Diagnostic(f"{spec}: a git {kind}, not a file or folder"))
    # --full-tree: without it, ls-tree run from a subfolder lists only what lies below it.
    names = _git("ls-tree", "-r", "-z", "--full-tree", "--name-only", object_name).decode("utf-8", "replace").split("\0")
    files = []
    for name in sorted(n for n in names if n):
        parts = name.split("/")
        if any(p.startswith(".") for p in parts) or not name.lower().endswith(MANIFEST_SUFFIXES):
            continue
        full = f"{path}/{name}" if path != "." else name
        files.append((f"{rev}:{full}", _git("cat-file", "blob", f"{rev}:{full}")))
    if not files:
        raise InputError(Diagnostic(f"{spec}: the folder has no .yaml, .yml or .json files at that revision"))
    return files
