"""service.compat: spyne 2.14 imports on Python 3.11, 3.12 and 3.13."""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from service import compat


class _OldStyleImporter:
    """A PEP 302 finder and loader with no find_spec, like spyne's vendored six."""

    def __init__(self, names: dict[str, types.ModuleType]) -> None:
        self.names = names
        self.loaded: list[str] = []

    def find_module(self, fullname: str, path: Any = None) -> _OldStyleImporter | None:
        return self if fullname in self.names else None

    def load_module(self, fullname: str) -> types.ModuleType:
        self.loaded.append(fullname)
        module = self.names[fullname]
        sys.modules[fullname] = module
        return module

    def is_package(self, fullname: str) -> bool:
        return hasattr(self.names[fullname], "__path__")


@pytest.fixture
def old_style() -> Iterator[_OldStyleImporter]:
    package = types.ModuleType("shimtest.moves")
    package.__path__ = []
    leaf = types.ModuleType("shimtest.moves.leaf")
    leaf.value = 42  # type: ignore[attr-defined]
    importer = _OldStyleImporter({"shimtest.moves": package, "shimtest.moves.leaf": leaf})
    finder = compat.LegacyFinder("shimtest.moves")
    sys.modules["shimtest"] = types.ModuleType("shimtest")
    sys.modules["shimtest"].__path__ = []  # type: ignore[attr-defined]
    sys.meta_path.insert(0, finder)
    sys.meta_path.append(importer)
    yield importer
    sys.meta_path.remove(finder)
    sys.meta_path.remove(importer)
    for name in ("shimtest", "shimtest.moves", "shimtest.moves.leaf"):
        sys.modules.pop(name, None)


def test_a_find_module_only_importer_is_asked_through_find_spec(
    old_style: _OldStyleImporter,
) -> None:
    from shimtest.moves import leaf  # type: ignore[import-not-found]

    assert leaf.value == 42
    assert old_style.loaded == ["shimtest.moves", "shimtest.moves.leaf"]
    assert sys.modules["shimtest.moves"].__spec__.submodule_search_locations is not None


def test_names_outside_the_prefix_are_left_to_the_other_finders() -> None:
    finder = compat.LegacyFinder("shimtest.moves")
    assert finder.find_spec("shimtest.movesmore", None) is None
    assert finder.find_spec("json", None) is None


def test_needed_from_python_3_12() -> None:
    assert not compat.needed((3, 11))
    assert compat.needed((3, 12)) and compat.needed((3, 13))


def test_install_is_idempotent() -> None:
    compat.install()
    compat.install()
    shims = [f for f in sys.meta_path if isinstance(f, compat.LegacyFinder)]
    assert len(shims) == (1 if compat.needed() else 0)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_spyne_imports_through_the_service_package() -> None:
    done = _python(
        "import service, spyne, cgi\n"
        "from spyne.util.six.moves.collections_abc import MutableSet\n"
        "from service.app import create_app\n"
        "print(spyne.__version__)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2.14.0"


def test_without_the_shim_spyne_fails_exactly_where_python_changed() -> None:
    """The shim is there for a reason: on 3.12+ plain ``import spyne`` fails."""
    done = _python("import spyne")
    if compat.needed():
        assert "spyne.util.six.moves" in done.stderr
    else:
        assert done.returncode == 0, done.stderr
