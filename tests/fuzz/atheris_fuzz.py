"""Coverage-guided fuzzing of the manifest loader (or, with --invariants, the invariants parser) with atheris.

Not collected by pytest: its name does not start with ``test_``, and atheris is optional.
The property is the one tests/fuzz checks: a result, or an InputError whose every
diagnostic is located; any other exception is a crash that libFuzzer saves as
``crash-<sha1>``. ``-timeout`` turns a hang into a crash too. Run from the repository root::

    pip install atheris
    mkdir -p /tmp/corpus-manifests /tmp/corpus-invariants
    python tests/fuzz/atheris_fuzz.py -max_total_time=600 -timeout=10 /tmp/corpus-manifests tests/data/hostile/manifests tests/data/manifests
    python tests/fuzz/atheris_fuzz.py --invariants -max_total_time=600 -timeout=10 /tmp/corpus-invariants tests/data/hostile/invariants tests/data/invariants/valid

The folders are corpora of seeds; libFuzzer writes the inputs it finds into the first one,
so make that a scratch folder, not one in the repository. Minimize a crash with
``-minimize_crash=1 -runs=10000 crash-...``. Then add the crash to tests/data/hostile/ and
give its outcome in tests/fuzz/test_fuzz_corpus.py.
"""

from __future__ import annotations

import io
import sys

import atheris

with atheris.instrument_imports():
    from npverify.errors import InputError
    from npverify.invariants import parse_invariants
    from npverify.load import load_manifests

INVARIANTS = "--invariants" in sys.argv


class _Stdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def one_input(data: bytes) -> None:
    try:
        if INVARIANTS:
            parse_invariants(data.decode("utf-8", "surrogateescape"), "fuzz.yaml")
        else:
            load_manifests(["-"], stdin=_Stdin(data))  # type: ignore[arg-type]
    except InputError as exc:
        for diagnostic in exc.diagnostics:
            if diagnostic.location is None:
                raise AssertionError(f"no location: {diagnostic}") from None


def main() -> None:
    atheris.Setup([arg for arg in sys.argv if arg != "--invariants"], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
