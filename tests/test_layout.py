"""The package's layers: data travels inputs → staging → warehouse → pipeline → answers → cli, and
no module imports a layer that sits after its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "sparkify"
#: Each layer may import itself and the layers before it, never one after it.
LAYERS = ["base", "inputs", "staging", "warehouse", "pipeline", "answers", "aws", "generate", "api", "cli"]
BASE_MODULES = {"errors", "config", "settings", "scratch", "__init__"}


def layer_of(module: str) -> str:
    """`sparkify.warehouse.duckdb` → `warehouse`; the top-level helper modules are `base`."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] in BASE_MODULES:
        return "base"
    if parts[1] == "__main__":  # `python -m sparkify` is the CLI
        return "cli"
    return parts[1]


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        found.append((".".join(relative.parts), path))
    return found


def imports_of(path: Path) -> set[str]:
    """Every sparkify module `path` imports, at module level or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sparkify"):
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("sparkify"))
    return names


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_no_import_runs_back_up_the_layers(module: str, path: Path) -> None:
    own = LAYERS.index(layer_of(module))
    if module == "sparkify.__init__":
        return  # the public API re-exports from every layer
    for imported in imports_of(path):
        other = layer_of(imported)
        if other in LAYERS and (module.split(".")[1:2] != imported.split(".")[1:2]):
            assert LAYERS.index(other) <= own or other == "base", f"{module} imports {imported} ({other} > {layer_of(module)})"


def test_every_layer_is_a_package_with_a_docstring() -> None:
    for layer in [name for name in LAYERS[1:] if name != "api"]:  # api is one module
        init = PACKAGE / layer / "__init__.py"
        assert init.is_file(), layer
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), f"{layer}/__init__.py says what it is for"
