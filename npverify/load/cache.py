"""The load cache: the documents of manifest files read before, keyed by their content.

CI runs re-read mostly unchanged files, and at 20,000 pods reading (parsing YAML and
validating every field) is most of a command's time. A file's documents depend only on its
bytes, its name (locations show it), the input limits and ``--default-namespace``, and the
code that reads them; the key is a SHA-256 over all of these, the code included (every
source file of the npverify package), so a changed file or a changed npverify never meets an
old entry. What is kept is exactly what reading adds to a load (``manifests.Document``);
the checks across files (an object defined twice) run again on every load, and files with
an error are never kept, so every error is found afresh.

Entries are pickles, written to a temporary file and renamed into place (a reader sees a
whole entry or none), and carry the SHA-256 of their payload, checked before it is read: a
damaged or truncated entry is removed and the file read again. Pickles run code when read,
so the cache lives in a directory only its owner can write (made so, and a directory others
can write is not used). Where it is and how to turn it off: docs/cache.md.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: The first bytes of every entry; a new format changes it (and the key).
MAGIC = b"npvload2"
#: Entries are removed, oldest first, once the cache holds more than this.
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
#: Turns the cache off when set to anything but "" or "0".
DISABLE_VARIABLE = "NPVERIFY_NO_CACHE"
#: The cache's directory, instead of the platform's user cache directory.
DIRECTORY_VARIABLE = "NPVERIFY_CACHE_DIR"

_DIGEST = hashlib.sha256().digest_size
_code_fingerprint: bytes | None = None


def default_directory() -> Path:
    """``$NPVERIFY_CACHE_DIR``, else the user cache directory of the platform
    (``$XDG_CACHE_HOME/npverify``, ``~/.cache/npverify``; ``~/Library/Caches/npverify`` on
    macOS; ``%LOCALAPPDATA%\\npverify\\Cache`` on Windows)."""
    given = os.environ.get(DIRECTORY_VARIABLE)
    if given:
        return Path(given).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser(r"~\AppData\Local")
        return Path(base) / "npverify" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "npverify"
    xdg = os.environ.get("XDG_CACHE_HOME")
    # The XDG spec: a relative path in the variable is invalid and is ignored.
    return (Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache") / "npverify"


def disabled_by_environment() -> bool:
    return os.environ.get(DISABLE_VARIABLE, "") not in ("", "0")


def code_fingerprint() -> bytes:
    """A digest of every source file of the npverify package (and the versions of Python
    and PyYAML): what a cached document was read by."""
    global _code_fingerprint
    if _code_fingerprint is None:
        import yaml

        digest = hashlib.sha256(f"{sys.implementation.name} {sys.version_info[:2]} {yaml.__version__}".encode())
        package = Path(__file__).resolve().parent.parent
        for source in sorted(package.rglob("*.py")):
            digest.update(str(source.relative_to(package)).encode() + b"\0")
            digest.update(source.read_bytes())
        _code_fingerprint = digest.digest()
    return _code_fingerprint


class LoadCache:
    """A directory of cached file documents. Every failure to read or write it only costs
    reading the file again: the cache never changes an answer."""

    def __init__(self, directory: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        #: Why the cache is not used, when it is not (a directory others can write).
        self.unusable: str | None = None
        self.hits = 0
        self.misses = 0
        self._written = 0
        self._ready = False

    @classmethod
    def default(cls) -> LoadCache | None:
        """The cache at its default directory, or None when the environment turns it off."""
        return None if disabled_by_environment() else cls(default_directory())

    def key(self, name: str, data: bytes, options: Any) -> str:
        digest = hashlib.sha256(MAGIC)
        digest.update(code_fingerprint())
        digest.update(repr(options).encode() + b"\0")
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(data)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / key[2:]

    def get(self, key: str) -> Any | None:
        """The documents kept under ``key``, or None."""
        if not self._usable():
            return None
        path = self._path(key)
        try:
            with open(path, "rb") as file:
                blob = file.read()
        except OSError:
            self.misses += 1
            return None
        header = len(MAGIC) + _DIGEST
        payload = blob[header:]
        if blob[: len(MAGIC)] != MAGIC or blob[len(MAGIC) : header] != hashlib.sha256(payload).digest():
            self._discard(path)
            return None
        try:
            value = pickle.loads(payload)
        except Exception:  # a payload that passed its digest but is not ours: never an answer
            self._discard(path)
            return None
        self.hits += 1
        return value

    def put(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key`` (quietly not, when the directory cannot be written)."""
        if not self._usable():
            return
        path = self._path(key)
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            path.parent.mkdir(mode=0o700, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(MAGIC + hashlib.sha256(payload).digest() + payload)
                os.replace(temporary, path)
            except BaseException:
                _remove(Path(temporary))
                raise
        except (OSError, pickle.PicklingError, RecursionError):
            return
        self._written += len(payload)
        if self._written > self.max_bytes // 16:
            self._written = 0
            self.prune()

    def entries(self) -> Iterable[Path]:
        try:
            shards = [d for d in self.directory.iterdir() if d.is_dir() and len(d.name) == 2]
        except OSError:
            return
        for shard in shards:
            try:
                yield from (p for p in shard.iterdir() if p.is_file())
            except OSError:
                continue

    def size(self) -> tuple[int, int]:
        """How many entries the cache holds, and their bytes."""
        count = total = 0
        for entry in self.entries():
            try:
                total += entry.stat().st_size
            except OSError:
                continue
            count += 1
        return count, total

    def prune(self) -> None:
        """Remove the entries least recently written or read until the cache holds at most
        three quarters of ``max_bytes``."""
        sized = []
        for entry in self.entries():
            try:
                info = entry.stat()
            except OSError:
                continue
            sized.append((max(info.st_atime, info.st_mtime), info.st_size, entry))
        total = sum(size for _, size, _ in sized)
        if total <= self.max_bytes:
            return
        for _, size, entry in sorted(sized, key=lambda e: e[0]):
            if total <= self.max_bytes * 3 // 4:
                break
            _remove(entry)
            total -= size

    def clear(self) -> int:
        """Remove every entry; how many were removed."""
        removed = 0
        for entry in list(self.entries()):
            if _remove(entry):
                removed += 1
        return removed

    def _usable(self) -> bool:
        if not self._ready:
            self._ready = True
            self.unusable = _check_directory(self.directory)
        return self.unusable is None

    def _discard(self, path: Path) -> None:
        self.misses += 1
        _remove(path)


def _check_directory(directory: Path) -> str | None:
    """Make the cache directory (owner only); why it must not be used, or None."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.stat()
    except OSError as exc:
        return f"cannot make the cache directory {directory}: {exc.strerror or exc}"
    if os.name == "posix":
        if info.st_uid != os.getuid():
            return f"the cache directory {directory} belongs to another user"
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return f"the cache directory {directory} can be written by others (chmod 700 it)"
    return None


def _remove(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except OSError:
        return False
