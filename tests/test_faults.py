"""service.faults: the tree its docstring draws is the tree of its classes, codes included."""

from __future__ import annotations

import re

from service import faults
from service.faults import ServiceFault

_ROW = re.compile(r"^(?P<indent>[ │├└─]*?)(?:[├└]── )?(?P<name>[A-Za-z]+)(?:\s+(?P<code>\S+))?")


def drawn_tree() -> dict[str, tuple[str | None, str | None]]:
    """Each class the docstring draws: (its parent, the code in its row)."""
    doc = faults.__doc__ or ""
    rows = [line for line in doc.splitlines() if "Fault" in line and line.startswith("    ")]
    parents: list[tuple[int, str]] = []
    drawn: dict[str, tuple[str | None, str | None]] = {}
    for row in rows:
        match = re.search(r"([A-Za-z]+Fault)\b\s*(\S*)", row)
        assert match is not None, row
        name, code = match.group(1), match.group(2)
        depth = match.start(1)
        while parents and parents[-1][0] >= depth:
            parents.pop()
        drawn[name] = (parents[-1][1] if parents else None, code)
        parents.append((depth, name))
    return drawn


def actual_tree() -> dict[str, str | None]:
    found: dict[str, str | None] = {"ServiceFault": None}
    todo = [ServiceFault]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__ == faults.__name__:
                found[sub.__name__] = cls.__name__
                todo.append(sub)
    return found


def test_the_docstring_draws_every_fault_class_under_its_parent() -> None:
    drawn = drawn_tree()
    assert {name: parent for name, (parent, _) in drawn.items()} == actual_tree()


def test_the_docstring_gives_each_class_its_code() -> None:
    for name, (_, code) in drawn_tree().items():
        cls = getattr(faults, name)
        if code and (code.startswith(("Client", "Server", "wsse:")) or code in cls.code):
            if code != "wsse:*":
                assert code == cls.code, name
