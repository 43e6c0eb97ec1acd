"""Run NCA's command line on many manifest files in one process (run with NCA's python).

Usage: ``python nca_batch.py JOBS.json RESULTS.json``: JOBS.json is a list of argument
lists for ``nca``; RESULTS.json gets, per job, ``{"returncode", "stdout", "stderr"}``.

NCA starts slowly (most of a second, for its imports), so the cross-check pays that once
per batch instead of once per cluster. ``nca.nca_cli.nca_main(argv)`` is the function
behind the ``nca`` command; it resets NCA's peer singleton at every call, which NCA's own
test suite relies on to run many queries in one process. This file imports nothing of
npverify: it runs in whatever environment NCA is installed in.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback


def main() -> None:
    from nca.nca_cli import nca_main

    with open(sys.argv[1], encoding="utf-8") as f:
        jobs = json.load(f)
    results = [run(nca_main, argv) for argv in jobs]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(results, f)


def run(nca_main, argv: list[str]) -> dict:
    """One ``nca`` command, its output captured at the file descriptors.

    NCA writes to ``sys.stderr`` as imported at its start (``from sys import stderr``), so
    swapping ``sys.stderr`` would miss those lines; redirecting fds 1 and 2 catches all.
    """
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    captured = {fd: tempfile.TemporaryFile(mode="w+", encoding="utf-8") for fd in (1, 2)}
    try:
        for fd, file in captured.items():
            os.dup2(file.fileno(), fd)
        try:
            code = nca_main(argv)
        except SystemExit as e:  # argparse errors
            code = e.code if isinstance(e.code, int) else 2
        except Exception:  # noqa: BLE001 - reported to the test, per job
            traceback.print_exc()
            code = 70
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
    finally:
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
    texts = {}
    for fd, file in captured.items():
        file.seek(0)
        texts[fd] = file.read()
        file.close()
    return {"returncode": code, "stdout": texts[1], "stderr": texts[2]}


if __name__ == "__main__":
    main()
