"""Compatibility shim loaded before spyne: spyne 2.14 on Python 3.12 and later.

spyne vendors an old ``six`` whose meta-path importer has only the PEP 302
``find_module``/``load_module`` pair; Python 3.12 stopped calling
``find_module`` (it removed ``importlib``'s own fallback), so
``import spyne.util.six.moves...`` fails with ``ModuleNotFoundError`` and spyne
does not import at all. :func:`install` puts one finder at the front of
``sys.meta_path`` that gives such legacy finders a ``find_spec``, which is what
Python 3.11 did internally. Nothing in spyne is changed or copied.

Python 3.13 also removed the ``cgi`` module spyne imports; the ``legacy-cgi``
distribution (a dependency on 3.13 and later) provides it.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, Final

#: The only modules the shim answers for: spyne's vendored six.moves.
PREFIX: Final = "spyne.util.six.moves"


class _LegacyLoader(importlib.abc.Loader):
    """Runs a PEP 302 loader's ``load_module`` under the PEP 451 protocol."""

    def __init__(self, legacy: Any) -> None:
        self.legacy = legacy

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.legacy.load_module(spec.name)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        """``load_module`` has already made the module whole."""


class LegacyFinder(importlib.abc.MetaPathFinder):
    """``find_spec`` for names under ``prefix``, asked of finders that have only
    ``find_module``."""

    def __init__(self, prefix: str = PREFIX) -> None:
        self.prefix = prefix

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.prefix and not fullname.startswith(self.prefix + "."):
            return None
        for finder in sys.meta_path:
            if finder is self or hasattr(finder, "find_spec"):
                continue
            find_module = getattr(finder, "find_module", None)
            loader = find_module(fullname, path) if find_module else None
            if loader is not None:
                is_package = bool(getattr(loader, "is_package", lambda _: False)(fullname))
                return importlib.util.spec_from_loader(
                    fullname, _LegacyLoader(loader), is_package=is_package
                )
        return None


def needed(version: tuple[int, int] = sys.version_info[:2]) -> bool:
    """Python 3.12 removed the ``find_module`` fallback spyne's six relies on."""
    return version >= (3, 12)


def install() -> None:
    """Idempotent; a no-op where Python still calls ``find_module`` itself."""
    if needed() and not any(isinstance(f, LegacyFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, LegacyFinder())
