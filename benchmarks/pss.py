"""Peak memory of a command together with its worker processes.

    python benchmarks/pss.py npverify redundant DATA/original/k8s

Runs the command, samples the summed PSS (proportional set size) of it and every process
below it every 0.2 s, and prints the peak. PSS splits a shared page between the processes
sharing it, so for forked workers the sum is what the process tree really holds, where
adding peak RSS values counts the pages they share with their parent twice. Linux only
(/proc).
"""

from __future__ import annotations

import subprocess
import sys
import time


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            for child in children.read().split():
                found += _tree(int(child))
    except OSError:  # the process has just ended
        pass
    return found


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(_pss_kib(pid) for pid in _tree(process.pid)))
        time.sleep(0.2)
    print(f"exit {process.returncode}, {time.perf_counter() - started:.1f} s wall, peak summed PSS {peak / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
