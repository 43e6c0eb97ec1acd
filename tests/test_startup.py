"""What starting npverify imports (issue 13.2): ``npverify --help`` and ``import npverify``
load neither z3 nor the library behind the commands, and the lazily loaded public API is
the same as the eagerly imported one was.

These are behaviour tests (which modules a fresh process holds), not timings: the times
are measured by benchmarks/startup.py.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import subprocess
import symtable
import sys
import types
from pathlib import Path

import pytest

import npverify

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "npverify"

#: Modules that a process which only parses the command line must not load: the solver, the
#: YAML and schema libraries, and every part of npverify but the package and its CLI.
HEAVY = ("z3", "yaml", "jsonschema", "attr", "attrs")


def _modules_after(code: str) -> list[str]:
    """The modules of npverify and of HEAVY loaded by a fresh interpreter after ``code``."""
    probe = (
        "import sys\n"
        f"{code}\n"
        "import json\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('npverify',) + heavy)))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_importing_the_cli_loads_no_solver_and_no_library():
    assert _modules_after("import npverify.cli") == ["npverify", "npverify.cli"]


def test_importing_the_package_loads_nothing_else():
    assert _modules_after("import npverify") == ["npverify"]


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["prove", "--help"], ["equiv", "--help"], ["redundant", "--help"], ["explain", "--help"], ["matrix", "--help"]])
def test_help_and_version_load_no_solver_and_no_library(argv):
    code = (
        "from npverify.cli import main\n"
        # main.main: click's entry, which returns to the probe (calling main() itself is the
        # process, which ends without returning once the output is written: npverify.cli).
        f"try:\n    main.main({argv!r})\n"
        "except SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
    )
    assert _modules_after(code) == ["npverify", "npverify.cli"]


def _bound_at_run_time(body: list[ast.stmt]) -> set[str]:
    """Names a module's top level binds when it runs (an ``if TYPE_CHECKING:`` block binds none)."""
    bound: set[str] = set()
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.If) and getattr(node.test, "id", None) != "TYPE_CHECKING":
            bound |= _bound_at_run_time(node.body) | _bound_at_run_time(node.orelse)
        elif isinstance(node, ast.Try):
            bound |= _bound_at_run_time(node.body + node.orelse + node.finalbody)
    return bound


def test_every_name_a_cli_function_uses_is_bound():
    """cli.py imports the library inside its functions; a function using a name that is
    imported only for type checkers, or no longer at the top, would fail only when run
    (a NameError: exit 3), so every function's global names are checked here."""
    source = (PACKAGE / "cli.py").read_text(encoding="utf-8")
    bound = _bound_at_run_time(ast.parse(source).body) | set(dir(builtins)) | {"__name__", "__file__", "__doc__"}
    unbound = []

    def visit(scope: symtable.SymbolTable) -> None:
        for child in scope.get_children():
            unbound.extend(
                f"{child.get_name()}: {symbol.get_name()}"
                for symbol in child.get_symbols()
                if symbol.is_referenced() and symbol.is_global() and symbol.get_name() not in bound
            )
            visit(child)

    visit(symtable.symtable(source, "cli.py", "exec"))
    assert unbound == []


def test_a_question_still_loads_the_solver():
    """The probe can see z3 when it is loaded: the tests above are not vacuous."""
    code = (
        "from npverify.cli import main\n"
        "try:\n    main.main(['prove', 'specs/examples/shop/invariants.yaml'])\n"
        "except SystemExit:\n    pass\n"
    )
    assert "z3" in _modules_after(code)


def test_only_the_smt_package_imports_z3():
    importers = []
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] == "smt":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name == "z3" or name.startswith("z3.") for name in names):
                importers.append(str(path.relative_to(ROOT)))
    assert importers == []


def test_every_public_name_is_importable_from_the_package():
    for name in npverify.__all__:
        namespace: dict = {}
        exec(f"from npverify import {name}", namespace)  # noqa: S102 - the statement users write
        assert namespace[name] is getattr(npverify, name)
    assert set(npverify.__all__) <= set(dir(npverify))


def test_public_names_come_from_the_modules_type_checkers_are_told_of():
    """The table ``__getattr__`` loads from, the TYPE_CHECKING imports and ``__all__`` agree."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    guarded = next(node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING")
    declared = {alias.name: node.module for node in guarded.body for alias in node.names}
    assert declared == npverify._MODULE_OF
    assert sorted(declared) == sorted(npverify.__all__)
    for name, module in declared.items():
        assert getattr(npverify, name) is getattr(sys.modules[module], name), name


def test_functions_named_like_submodules_stay_functions():
    """npverify.compare and npverify.explain are the functions, also when their submodules
    are imported first (by the CLI or the renderers), as with the eager imports before."""
    code = (
        "import npverify.compare, npverify.explain, npverify\n"
        "import types\n"
        "assert not isinstance(npverify.compare, types.ModuleType), npverify.compare\n"
        "assert not isinstance(npverify.explain, types.ModuleType), npverify.explain\n"
        "assert npverify.compare is sys.modules['npverify.compare'].compare\n"
        "assert npverify.explain is sys.modules['npverify.explain'].explain\n"
        "from npverify.explain import endpoint_name\n"
        "from npverify import explain\n"
        "assert explain is sys.modules['npverify.explain'].explain\n"
    )
    assert "npverify.explain" in _modules_after(code)
    assert callable(npverify.compare) and not isinstance(npverify.compare, types.ModuleType)


def test_submodules_are_attributes_of_the_package():
    """``import npverify`` then ``npverify.engine``, as code written against the eager package does."""
    code = "import npverify\nassert npverify.engine.Verifier is npverify.Verifier\nassert npverify.smt.Limits\n"
    assert "npverify.engine" in _modules_after(code)
    with pytest.raises(AttributeError):
        npverify.no_such_name  # noqa: B018
