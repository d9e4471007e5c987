"""The operation element against the contract's own schema, before any operation code runs.

The schema is the one in the published WSDL (rendered from the same models),
compiled once per thread (an ``XMLSchema`` is not to be shared between
threads). Two readings come first: ``xsi:nil`` where toolkits use it to mean
"not given" (see ``drop_nil_placeholders``), and the large-base64 shortcut
(``service.soap.binary``). Each failure becomes a ValidationFault naming the
field (``service.soap.schema_faults``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Final

from lxml import etree

from service import ns
from service.faults import ValidationFault
from service.soap import binary
from service.soap.schema_faults import validation_fault
from service.storage import Content

_XSI_NIL: Final = f"{{{ns.XSI}}}nil"


class Validator:
    def __init__(self, schema_document: etree._Element, predecode: bool = True) -> None:
        """``predecode=False``: no large-base64 shortcut (spyne's own path, for the
        differential tests)."""
        self._document = schema_document
        self._predecode = predecode
        self._local = threading.local()

    def _schema(self) -> etree.XMLSchema:
        schema: etree.XMLSchema | None = getattr(self._local, "schema", None)
        if schema is None:
            schema = etree.XMLSchema(self._document)
            self._local.schema = schema
        return schema

    def validate(
        self,
        operation: str,
        element: etree._Element,
        base64_fields: frozenset[str],
        optional: frozenset[str],
        spooled: Mapping[etree._Element, Content] | None = None,
    ) -> dict[etree._Element, bytes | Content]:
        """Checks the operation element against the schema; returns the base64Binary
        fields already decoded on the way (see ``service.soap.binary``), and those left
        in the spool (``service.soap.spooled``: their elements still hold its marker)."""
        drop_nil_placeholders(element, optional)
        schema = getattr(self._local, "schema", None) or self._schema()
        decoded: dict[etree._Element, bytes | Content] = {}
        if self._predecode and base64_fields:
            decoded.update(binary.take_canonical_base64(element, base64_fields))
        for child, value in (spooled or {}).items():
            if (
                self._predecode
                and child.getparent() is element
                and etree.QName(child).localname in base64_fields
                and not len(child)
            ):
                child.text = None  # canonical base64: what take_canonical_base64 empties
                decoded[child] = value
            else:
                child.text = value.text()  # type: ignore[attr-defined]
        if not schema.validate(element):
            binary.restore(decoded)  # the fault must read as it would have
            schema.validate(element)
            raise validation_fault(schema.error_log.last_error, operation, element)
        # libxml2's base64Binary check skips characters outside the alphabet (and
        # outside ASCII), which base64 decoding would then drop or choke on: refuse
        # them here, naming the field. A field the shortcut took was canonical.
        for child in element if base64_fields else ():
            text = child.text
            if not text:
                continue
            field = etree.QName(child).localname
            if field in base64_fields:
                problem = binary.lexical_problem(text)
                if problem is not None:
                    raise ValidationFault(field, problem)
        return decoded


_NIL: Final = ("true", "1")


def _is_nil(element: etree._Element) -> bool:
    if not element.keys():  # no attribute at all, the usual case: cheaper than get()
        return False
    flag = element.get(_XSI_NIL)
    return flag is not None and flag.strip() in _NIL and len(element) == 0


def drop_nil_placeholders(wrapper: etree._Element, optional: frozenset[str]) -> None:
    """Reads ``xsi:nil`` where toolkits use it to mean "not given".

    Some clients send an empty request wrapper as ``<GetTime xsi:nil="true"/>``,
    and WCF (and Mono) send a null optional argument as ``<timezone
    xsi:nil="true"/>``. Nothing in the contract is nillable, so these can only
    mean "absent": the wrapper's flag is dropped, and so is a nil element of an
    optional argument. A nil *required* field is left for the schema to refuse.
    """
    if wrapper.keys() and _is_nil(wrapper):
        del wrapper.attrib[_XSI_NIL]
    for child in wrapper[:]:
        if (
            child.keys()
            and isinstance(child.tag, str)
            and _is_nil(child)
            and etree.QName(child).localname in optional
            and not (child.text or "").strip()
        ):
            wrapper.remove(child)
