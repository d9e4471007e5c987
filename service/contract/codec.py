"""Compiled message codecs: spyne's XmlDocument, without its per-request machinery.

spyne stays the definition of the contract, and its own code still converts
every value: a leaf is read with the protocol's ``from_unicode`` and written
with its ``to_unicode``. What is compiled away is the rest of spyne's path,
which costs ~150 µs a small call: the MethodContext, the handler lookups and
generators of ``from_element``/``to_parent`` for each element, and building a
response tree only to serialise it. The codec walks the element once, and
writes the response envelope as text.

It is compiled from each message's spyne class, and only for what it can
prove it handles exactly like spyne: complex types of simple leaves and of
each other, in the target namespace, with no arrays, alternative names,
attributes, read-only members or custom handlers. Anything else, in a class
(at compile time) or in a request or result (at run time: an attribute such as
``xsi:type``, a None value, a string lxml would refuse), is :data:`UNSUPPORTED`,
and the dispatcher takes spyne's own path for that call.
``tests/test_contract_codec.py`` proves the two paths equal on property-generated
requests and results, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, Final

from lxml import etree
from spyne import ByteArray, ComplexModelBase, ModelBase
from spyne.protocol.xml import XmlDocument

from service import ns
from service.contract import internals
from service.faults import NOT_XML


class _Unsupported(Exception):
    """This class, request or result takes spyne's own path."""


#: what ``decode`` and ``encode`` return when spyne's own path must run
UNSUPPORTED: Final = None

_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})

Decoder = Callable[[etree._Element], Any]
Encoder = Callable[[Any, list[str]], None]


def _is_simple(cls: type[ModelBase]) -> bool:
    return not issubclass(cls, ComplexModelBase)


def _check_members(protocol: XmlDocument, cls: type[ComplexModelBase]) -> None:
    if internals.protocol_attributes(protocol, cls).prot is not None:
        raise _Unsupported(cls)
    if cls.get_namespace() != ns.TNS or getattr(cls, "__extends__", None) is not None:
        raise _Unsupported(cls)
    if internals.has_alternate_fields(cls):
        raise _Unsupported(cls)
    for member in internals.fields(cls).values():
        attrs = member.Attributes
        if attrs.max_occurs > 1 or attrs.sub_ns is not None or attrs.sub_name is not None:
            raise _Unsupported(cls)
        if attrs.exc or getattr(attrs, "read_only", False):
            raise _Unsupported(cls)
        if internals.protocol_attributes(protocol, member).prot is not None:
            raise _Unsupported(member)


class MessageCodec:
    """Decodes one operation's request wrapper and encodes its response envelope."""

    def __init__(
        self, in_protocol: XmlDocument, out_protocol: XmlDocument, in_message: Any, out_message: Any
    ) -> None:
        self.in_protocol = in_protocol
        self.out_protocol = out_protocol
        self.out_message = out_message
        self._decode: Decoder | None
        self._encode: Encoder | None
        try:
            self._decode = self._decoder(in_message, top=True)
        except _Unsupported:
            self._decode = None
        try:
            self._encode = self._encoder(out_message, out_message.get_type_name(), top=True)
        except _Unsupported:
            self._encode = None

    # --- requests ---

    def decode(self, wrapper: etree._Element) -> Any:
        """The request's fields as spyne's ``from_element`` would give them (attributes
        of the object returned), or UNSUPPORTED."""
        if self._decode is None:
            return UNSUPPORTED
        for element in wrapper.iter():
            if element.attrib:  # xsi:type (spyne follows it), xsi:nil, ...
                return UNSUPPORTED
        try:
            return self._decode(wrapper)
        except _Unsupported:
            return UNSUPPORTED

    def _decoder(self, cls: Any, top: bool = False) -> Decoder:
        """``top``: the message wrapper, whose fields go into a plain object (spyne's
        instance of it is only ever read, field by field, by the dispatcher)."""
        protocol = self.in_protocol
        if _is_simple(cls):
            reader = internals.reader_kind(protocol, cls)
            from_unicode = protocol.from_unicode
            if internals.soft_validation(protocol):  # spyne's soft validation: not compiled
                raise _Unsupported(cls)
            if reader == "unicode":
                return lambda element: from_unicode(cls, element.text or "")
            if reader == "base":
                return lambda element: from_unicode(cls, element.text)
            if reader == "byte_array":
                encoding = protocol.binary_encoding
                return lambda element: from_unicode(cls, element.text, encoding)
            raise _Unsupported(cls)
        if internals.reader_kind(protocol, cls) != "complex":
            raise _Unsupported(cls)
        if internals.protocol_attributes(protocol, cls)._xml_tag_body_as is not None:
            raise _Unsupported(cls)
        _check_members(protocol, cls)
        members = {name: self._decoder(member) for name, member in internals.fields(cls).items()}
        make = cls.get_deserialization_instance
        if top:
            defaults = {name: getattr(make(None), name, None) for name in members}
            if any(value is not None for value in defaults.values()):
                raise _Unsupported(cls)

            def make(_: None) -> SimpleNamespace:
                return SimpleNamespace(**defaults)

        def decode(element: etree._Element) -> Any:
            inst = make(None)
            for child in element:
                tag = child.tag
                if not isinstance(tag, str):
                    raise _Unsupported(tag)
                key = tag.rpartition("}")[2]
                member = members.get(key)
                if member is not None:  # spyne ignores elements it does not know
                    setattr(inst, key, member(child))
            return inst

        return decode

    # --- responses ---

    def encode(self, envelope_ns: str, values: tuple[Any, ...]) -> bytes | None:
        """The response envelope spyne's ``to_parent`` and ``tostring`` would give, or
        UNSUPPORTED."""
        if self._encode is None:
            return UNSUPPORTED
        parts = [
            "<?xml version='1.0' encoding='utf-8'?>\n<soap:Envelope xmlns:soap=\"",
            envelope_ns,
            f'" xmlns:tns="{ns.TNS}"><soap:Body>',
        ]
        try:
            self._encode(values, parts)
        except _Unsupported:
            return UNSUPPORTED
        parts.append("</soap:Body></soap:Envelope>")
        return "".join(parts).encode()

    def _encoder(self, cls: Any, name: str, top: bool = False) -> Encoder:
        """``top``: the message wrapper, given its fields' values in order (what
        spyne would set on an instance of it, and read back)."""
        protocol = self.out_protocol
        start, end = f"<tns:{name}>", f"</tns:{name}>"
        if _is_simple(cls):
            if internals.writer_kind(protocol, cls) != "leaf":
                raise _Unsupported(cls)
            if issubclass(cls, ByteArray):
                raise _Unsupported(cls)
            to_unicode = protocol.to_unicode
            empty = f"<tns:{name}/>"

            def leaf(value: Any, parts: list[str]) -> None:
                if value is None:
                    raise _Unsupported(name)
                text = to_unicode(cls, value)
                if text is None:
                    parts.append(empty)
                    return
                if NOT_XML.search(text):  # lxml refuses it; spyne's path faults
                    raise _Unsupported(name)
                parts += (start, text.translate(_ESCAPES), end)

            return leaf
        if internals.writer_kind(protocol, cls) != "complex":
            raise _Unsupported(cls)
        attrs = internals.protocol_attributes(protocol, cls)
        if attrs.sub_name is not None or attrs.sub_ns is not None:
            raise _Unsupported(cls)
        _check_members(protocol, cls)
        members = [
            (key, self._encoder(member, key)) for key, member in internals.fields(cls).items()
        ]
        serialization_instance = cls.get_serialization_instance

        empty = f"<tns:{name}/>"

        def complex_(value: Any, parts: list[str]) -> None:
            if value is None:
                raise _Unsupported(name)
            if top:
                fields = value
            else:
                inst = serialization_instance(value)
                fields = [getattr(inst, key, None) for key, _ in members]
            parts.append(start)
            opened = len(parts)
            for (_, member), field in zip(members, fields, strict=True):
                member(field, parts)
            if len(parts) == opened:
                parts[-1] = empty
            else:
                parts.append(end)

        return complex_
