"""Worker processes for questions made of independent parts (redundancy items, batches of
a matrix proof). Results never depend on how many workers there are.

Workers are forked where the platform allows, so each inherits the loaded cluster instead
of receiving a copy; elsewhere (Windows, macOS's default) they are spawned and sent it.
Each worker builds its own solver state once, in ``start``, and keeps it for every part.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

Part = TypeVar("Part")
Result = TypeVar("Result")


def workers_for(requested: int, parts: int, per_worker: int = 1) -> int:
    """Worker processes to use: ``requested``, or for 0 one per CPU this process may use,
    but no more than ``parts`` keep busy at ``per_worker`` parts each."""
    if requested:
        return requested
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, parts // per_worker))


def forked() -> bool:
    """Whether workers are forked (they share the parent's objects) rather than spawned
    (they get copies)."""
    return "fork" in multiprocessing.get_all_start_methods()


def in_workers(
    jobs: int,
    start: Callable[..., None],
    start_args: tuple[Any, ...],
    work: Callable[[Part], Result],
    parts: Iterable[Part],
) -> Iterator[Result]:
    """``work(part)`` for each part, in ``jobs`` processes that each ran ``start(*start_args)``
    first; results in the order of ``parts``, as they come."""
    method = "fork" if forked() else "spawn"
    # Forked workers share the parent's pages until they write to them, and a garbage
    # collection in a worker writes to every object it visits: frozen, the parent's
    # objects are left alone, and stay shared (gigabytes at 100,000 pods).
    gc.freeze()
    try:
        with multiprocessing.get_context(method).Pool(jobs, initializer=start, initargs=start_args) as pool:
            yield from pool.imap(work, parts)
    finally:
        gc.unfreeze()
