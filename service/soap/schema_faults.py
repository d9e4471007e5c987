"""libxml2's schema complaints, said as a ValidationFault a client's developer can act on.

libxml2 reports a failure as a message and an XPath-like path spelled with the
client's own prefixes (``/tns:A/tns:b``, or ``/*/*[2]`` for a default
namespace). The path is walked on the tree itself to name the field, and the
message is reworded: a missing field is "is required and missing", an unknown
one "is not part of the contract here", a facet failure keeps libxml2's words
without its Clark-notation names.
"""

from __future__ import annotations

import re
from typing import Any, Final

from lxml import etree

from service.faults import ValidationFault

_EXPECTED: Final = re.compile(r"Expected is (?:one of )?\( ([^ )]+)")
_CLARK: Final = re.compile(r"\{[^}]*\}")
_QUOTED_LONG: Final = re.compile(r"(?:^|(?<=value ))'[^']{40,}'")
_SEGMENT: Final = re.compile(r"^(?:(?P<prefix>[^:\[]*):)?(?P<name>[^\[]+)(?:\[(?P<index>\d+)\])?$")


def field_names(root: etree._Element, path: str) -> list[str]:
    """Local names along libxml2's error path, below ``root``."""
    names: list[str] = []
    node = root
    for segment in [s for s in path.split("/") if s][1:]:
        match = _SEGMENT.match(segment)
        if match is None:
            break
        wanted = match.group("name")
        index = int(match.group("index") or 1) - 1
        children = [
            child
            for child in node
            if isinstance(child.tag, str)
            and (wanted == "*" or etree.QName(child).localname == wanted)
        ]
        if index >= len(children):
            break
        node = children[index]
        names.append(etree.QName(node).localname)
    return names


def validation_fault(error: Any, operation: str, root: etree._Element) -> ValidationFault:
    """A ValidationFault naming the field libxml2 complained about, in plain words."""
    message: str = error.message if error is not None else "does not match the schema"
    segments = field_names(root, (error.path or "") if error is not None else "")
    expected = _EXPECTED.search(message)
    expected_name = _CLARK.sub("", expected.group(1)) if expected else None
    if "Missing child element" in message and expected_name:
        segments.append(expected_name)
        reason = "is required and missing"
    elif "This element is not expected" in message and expected_name:
        found = segments[-1] if segments else "?"
        segments[-1:] = [expected_name]
        reason = f"is required and missing (found '{found}' in its place)"
    elif "This element is not expected" in message:
        reason = "is not part of the contract here"
    else:
        reason = re.sub(r"^Element '[^']*'(?:, attribute '[^']*')?: ", "", message)
        reason = re.sub(r"^\[facet '[^']*'\] ", "", reason)
        reason = _CLARK.sub("", reason).replace("atomic type ", "type ")
    reason = _QUOTED_LONG.sub(lambda m: m.group(0)[:41] + "...'", reason).strip().rstrip(".")
    return ValidationFault("/".join(segments) or operation, reason[:300])
