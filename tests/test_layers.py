"""The package's import layers hold: no module imports a module of a higher layer.

Layers, lowest first (docs/ARCHITECTURE.md): errors / vocabulary / geodesy → io → radio →
engine (and footprints) → analysis / result / metrics → the feature verbs → maps / exports → cli.
Imports made only for type checking (``if TYPE_CHECKING:``) are exempt, as is the package's
``__init__`` (it resolves the public names lazily).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "coverage" / "telecov"

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "vocabulary", "geodesy"}),
    frozenset({"io"}),
    frozenset({"radio"}),
    frozenset({"engine", "footprints"}),
    frozenset({"analysis", "checks", "metrics", "options", "result"}),
    frozenset({"gaps", "pois", "targets", "crosswalk", "opencellid", "plan", "compare", "distributed"}),
    frozenset({"maps", "exports"}),
    frozenset({"cli"}),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _component(module: str) -> str:
    """``telecov.io.sites`` → ``io``; ``telecov.gaps`` → ``gaps``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, module: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module) of every runtime import of a telecov module in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = module or _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
            found += [(node.lineno, t) for t in names if t.startswith("telecov.")]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("telecov.")]
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_component_has_a_layer() -> None:
    components = {_component(_module_name(p)) for p in MODULES}
    assert components - set(RANK) == set(), "a new module needs a layer in this test and ARCHITECTURE.md"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_upwards(path: Path) -> None:
    own = _component(_module_name(path))
    upwards = [
        f"line {line}: {target}"
        for line, target in _imports(path)
        if _component(target) in RANK and RANK[_component(target)] > RANK[own]
    ]
    assert upwards == [], f"{path.relative_to(PACKAGE)} imports a higher layer"


def test_the_check_sees_upward_imports_and_skips_type_checking_ones(tmp_path: Path) -> None:
    fake = tmp_path / "fake.py"
    fake.write_text(
        "from typing import TYPE_CHECKING\n"
        "from ..errors import InputError\n"
        "from ..cli import app\n"
        "if TYPE_CHECKING:\n"
        "    from ..result import Result\n"
        "def f():\n"
        "    from ..maps.html import coverage_map\n",
        encoding="utf-8",
    )
    targets = [t for _, t in _imports(fake, module="telecov.io.fake")]
    assert targets == ["telecov.errors", "telecov.cli", "telecov.maps.html"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_private_names_of_another(path: Path) -> None:
    private = [
        f"line {node.lineno}: {alias.name}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("telecov"))
        for alias in node.names
        if alias.name.startswith("_") and alias.name != "__version__"
    ]
    assert private == []
