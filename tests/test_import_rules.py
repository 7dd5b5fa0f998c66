"""The import rules hold (import-linter's contracts in pyproject.toml, and no circle between any two modules), and
the check really fails on a wrong import: the same contracts run on a copy of the code with one bad import added."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("web", "command", "geo", "dispatch", "pgnative")
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _import_graph_script():  # scripts/ is not a package: load the measuring script by path
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LINT_IMPORTS, "--no-cache", "--config", str(root / "pyproject.toml")], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=120)


def test_the_import_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_no_circle_between_modules() -> None:
    """Strongly connected components of the module graph (grimp's, the one import-linter uses): none larger than
    one module, in web/, command/, geo/, dispatch/ and pgnative/."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = _import_graph_script().strongly_connected(graph, set(graph.modules))
    assert cycles == []


@pytest.fixture(scope="module")
def copy_of_the_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("code")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__", "static",
                                                                                       "templates", "i18n", "*.lua"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


# (module file, the wrong import added to it, the contract whose name lint-imports reports as broken)
WRONG = [
    ("geo/coords.py", "import dispatch.keys", "dependencies point one way"),
    ("dispatch/keys.py", "import command.core.errors", "dependencies point one way"),
    ("pgnative/orm.py", "import geo.models", "dependencies point one way"),
    ("command/core/errors.py", "import web.errors", "dependencies point one way"),
    ("command/core/clock.py", "import command.intake.intake", "inside command/"),
    ("command/deadlines/rules.py", "import command.orders.work_orders", "inside command/"),
    ("command/reports/stats.py", "import command.admin.users", "inside command/"),
    ("web/ws_client.py", "import web.hub", "no import circle"),
]


@pytest.mark.parametrize(("path", "line", "contract"), [w for w in WRONG if w[2] is not None],
                         ids=[f"{w[0]}: {w[1]}" for w in WRONG if w[2] is not None])
def test_a_wrong_import_breaks_a_contract(copy_of_the_code: Path, path: str, line: str, contract: str) -> None:
    target = copy_of_the_code / path
    original = target.read_text()
    try:
        target.write_text(original + f"\n{line}  # added by tests/test_import_rules.py\n")
        result = lint_imports(copy_of_the_code)
    finally:
        target.write_text(original)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken
    assert path.removesuffix(".py").rsplit("/", 1)[1] in broken


def test_the_copy_is_clean_without_the_wrong_import(copy_of_the_code: Path) -> None:
    """The failures above come from the added line, not from the copy."""
    result = lint_imports(copy_of_the_code)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_cycle_finder_finds_a_circle(tmp_path: Path) -> None:
    package = tmp_path / "circled"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("import circled.b\n")
    (package / "b.py").write_text("def f() -> None:\n    from circled import c  # inside a function counts too\n")
    (package / "c.py").write_text("import circled.a\n")
    (package / "d.py").write_text("import circled.a\n")
    sys.path.insert(0, str(tmp_path))
    try:
        graph = grimp.build_graph("circled", cache_dir=None)
    finally:
        sys.path.remove(str(tmp_path))
    cycles = _import_graph_script().strongly_connected(graph, set(graph.modules))
    assert cycles == [["circled.a", "circled.b", "circled.c"]]
