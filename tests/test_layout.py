"""The layout's one rule: imports point down (README, "Layout").

Each package of ``service/`` may import only the packages below it; the
top-level modules ``ns``, ``config``, ``faults``, ``imaging``, ``answer`` and
``compat`` are the ground everything stands on (``faults`` reads its detail
types from ``contract.models``, the one model module with no other import).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parent.parent / "service"

#: what each package may import, besides itself and the ground
MAY_IMPORT: dict[str, set[str]] = {
    "storage": set(),
    "observability": set(),
    "security": {"storage"},
    "contract": {"storage", "security"},
    "soap": {"contract", "security", "storage"},
    "http": {"soap", "contract", "security", "storage"},
}
GROUND = {"ns", "config", "faults", "imaging", "answer", "compat"}


def imported(path: Path) -> set[str]:
    """The ``service.X`` names a module imports (X: a package or a top-level module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "service":
                continue
            if len(parts) > 1:
                names.add(parts[1])
            else:
                names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "service" and len(parts) > 1:
                    names.add(parts[1])
    return names


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_a_package_imports_only_what_is_below_it(package: str) -> None:
    allowed = MAY_IMPORT[package] | GROUND | {package}
    for path in sorted((SERVICE / package).rglob("*.py")):
        wrong = imported(path) - allowed
        assert not wrong, f"{path.relative_to(SERVICE)} imports service.{wrong} (above it)"


@pytest.mark.parametrize("module", sorted(GROUND))
def test_the_ground_imports_no_package(module: str) -> None:
    wrong = imported(SERVICE / f"{module}.py") - GROUND
    if module == "faults":
        wrong -= {"contract"}  # contract.models: the fault details' types, nothing else
        assert "from service.contract.models import" in (SERVICE / "faults.py").read_text()
    assert not wrong, f"service/{module}.py imports service.{wrong}"
