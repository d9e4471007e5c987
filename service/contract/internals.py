"""Every use of spyne beyond its documented API, in one place.

spyne 2.14.0 is its last release (2022), and the service leans on parts of it
that are not promised to anyone:

- a message class's fields (``_type_info``, ``_type_info_alt``): the attribute
  spyne's own examples *declare* models with, read back here;
- ``XmlDocument``'s handler tables (``deserialization_handlers``,
  ``serialization_handlers``, ``_from_unicode_handlers``, ``_to_unicode_handlers``)
  and its ``get_cls_attrs``, which the compiled codecs (``service.contract.codec``)
  consult to prove a class takes spyne's plain path, down to the converter of
  each leaf's text;
- what a complex type's constructor leaves in a fresh instance (``blank_factory``),
  so the codecs make spyne's instances without running it per request;
- a ``MethodContext`` made without spyne's transport machinery (a stand-in
  transport), and the operation's function reached through its method descriptor
  (``interface.service_method_map`` and ``descriptor.function``), so an operation
  is called without spyne's server loop;
- ``from_element``/``to_parent`` of the protocol, called directly.

The dependency is pinned to the exact version (``pyproject.toml``), and
``tests/test_contract_internals.py`` fails when any of these changes shape.
Nothing outside this module reaches into spyne this way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from lxml import etree
from spyne import ComplexModelBase, MethodContext
from spyne.application import Application
from spyne.protocol._inbase import InProtocolBase
from spyne.protocol._outbase import OutProtocolBase
from spyne.protocol.xml import XmlDocument

#: The spyne release these internals were read from.
SPYNE_VERSION: Final = "2.14.0"


# --- the fields of a model ---


def fields(cls: Any) -> Mapping[str, Any]:
    """A complex type's fields in order, name to spyne type."""
    return cls._type_info  # type: ignore[no-any-return]


def has_alternate_fields(cls: Any) -> bool:
    """Whether a class declares fields under other names (spyne's ``_type_info_alt``)."""
    return bool(cls._type_info_alt)


# --- XmlDocument's handler tables ---

#: What ``reader_kind`` and ``writer_kind`` answer for a handler that is none of spyne's plain ones.
OTHER: Final = "other"


def reader_kind(protocol: XmlDocument, cls: Any) -> str:
    """Which of spyne's plain readers ``protocol`` uses for ``cls``: ``unicode``,
    ``base``, ``byte_array``, ``complex`` or ``other``."""
    handler = protocol.deserialization_handlers[cls]
    for kind, plain in (
        ("unicode", protocol.unicode_from_element),
        ("base", protocol.base_from_element),
        ("byte_array", protocol.byte_array_from_element),
        ("complex", protocol.complex_from_element),
    ):
        if handler == plain:
            return kind
    return OTHER


def writer_kind(protocol: XmlDocument, cls: Any) -> str:
    """Which of spyne's plain writers ``protocol`` uses for ``cls``: ``leaf``,
    ``complex`` or ``other``."""
    handler = protocol.serialization_handlers[cls]
    if handler == protocol.modelbase_to_parent:
        return "leaf"
    if handler == protocol.complex_to_parent:
        return "complex"
    return OTHER


#: The text converters ``value_reader`` and ``value_writer`` name (spyne's plain ones).
UNICODE: Final = "unicode"
INTEGER: Final = "integer"
BOOLEAN: Final = "boolean"
DATETIME: Final = "datetime"


def value_reader(protocol: XmlDocument, cls: Any) -> str:
    """Which of spyne's plain text converters ``protocol.from_unicode`` runs for ``cls``:
    ``unicode``, ``integer``, ``boolean`` or ``other`` (``from_unicode`` itself not
    overridden, so its None and ``empty_is_none`` rules are spyne's own)."""
    if type(protocol).from_unicode is not InProtocolBase.from_unicode:
        return OTHER
    handler = protocol._from_unicode_handlers[cls]
    for kind, plain in (
        (UNICODE, protocol.unicode_from_bytes),
        (INTEGER, protocol.integer_from_bytes),
        (BOOLEAN, protocol.boolean_from_bytes),
    ):
        if handler == plain:
            return kind
    return OTHER


def value_writer(protocol: XmlDocument, cls: Any) -> str:
    """Which of spyne's plain text converters ``protocol.to_unicode`` runs for ``cls``:
    ``unicode``, ``integer``, ``boolean``, ``datetime`` or ``other``. ``datetime``
    only when the formatting it delegates to (``_datetime_to_unicode``, ``strftime``)
    is spyne's own."""
    if type(protocol).to_unicode is not OutProtocolBase.to_unicode:
        return OTHER
    handler = protocol._to_unicode_handlers[cls]
    for kind, plain in (
        (UNICODE, protocol.unicode_to_unicode),
        (INTEGER, protocol.integer_to_unicode),
        (BOOLEAN, protocol.boolean_to_unicode),
    ):
        if handler == plain:
            return kind
    if (
        handler == protocol.datetime_to_unicode
        and type(protocol)._datetime_to_unicode is OutProtocolBase._datetime_to_unicode
        and type(protocol).strftime.__func__ is OutProtocolBase.strftime.__func__
    ):
        return DATETIME
    return OTHER


def datetime_format(protocol: XmlDocument, cls: Any) -> str | None:
    """The strftime format spyne's ``_datetime_to_unicode`` writes ``cls`` with (None:
    ``isoformat()``), picked among its aliases as spyne picks it."""
    return protocol._get_datetime_format(protocol.get_cls_attrs(cls))  # type: ignore[no-any-return]


def strftime_refuses(protocol: XmlDocument, fmt: str) -> bool:
    """Whether spyne's ``strftime`` raises for ``fmt`` (it does not handle ``%s``)."""
    return bool(type(protocol)._illegal_s.search(fmt))


def blank_factory(cls: Any) -> Callable[[], Any] | None:
    """A maker of the instance spyne's ``get_deserialization_instance`` gives for ``cls``
    (its constructor run with no arguments: every field set to None), without running
    the constructor; None when that instance is anything else (a default, a
    read-only property, sqlalchemy, slots), which then keeps spyne's own way."""
    native = cls.__orig__ if cls.__orig__ is not None else cls
    sample = cls.get_deserialization_instance(None)
    if type(sample) is not native or not isinstance(sample, ComplexModelBase):
        return None
    if type(native).__call__ is not type.__call__ or native.__new__ is not object.__new__:
        return None
    if native.__init__ is not ComplexModelBase.__init__ or hasattr(native, "_sa_class_manager"):
        return None
    if native.__setattr__ is not object.__setattr__:
        return None
    blank = dict(sample.__dict__)
    if list(blank) != list(native.get_flat_type_info(native)):
        return None
    if any(value is not None for value in blank.values()):
        return None
    if any(hasattr(native, name) for name in blank):  # a class attribute or a property
        return None
    new = object.__new__

    def make() -> Any:
        inst = new(native)
        inst.__dict__.update(blank)
        return inst

    return make


def soft_validation(protocol: XmlDocument) -> bool:
    """Whether the protocol validates values itself (its ``validator``)."""
    return protocol.validator is not None


def protocol_attributes(protocol: XmlDocument, cls: Any) -> Any:
    """The per-protocol attributes spyne keeps for a class (``prot``, ``sub_name``, ...)."""
    return protocol.get_cls_attrs(cls)


# --- operations ---


def method_descriptor(app: Application, namespace: str, name: str) -> Any:
    """spyne's MethodDescriptor of an operation (``in_message``, ``out_message``, ``faults``)."""
    return app.interface.service_method_map[f"{{{namespace}}}{name}"][0]


def implementation(descriptor: Any) -> Callable[..., Any]:
    """The Python function an operation's descriptor wraps (its docstring documents it)."""
    return descriptor.function  # type: ignore[no-any-return]


# --- calling an operation without spyne's server ---


class _Transport:
    """What spyne's MethodContext wants to know about the transport."""

    type = "soap-service"

    def __init__(self, app: Application) -> None:
        self.app = app


class LightContext:
    """What the operations use of spyne's MethodContext (``ctx.udc``), on the codecs' path."""

    __slots__ = ("udc",)

    def __init__(self, udc: Any) -> None:
        self.udc = udc


class Engine:
    """spyne's application, called one operation at a time."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self._transport = _Transport(app)

    def context(self, udc: Any = None) -> MethodContext:
        """A server-side MethodContext whose ``udc`` is ``udc``."""
        ctx = MethodContext(self._transport, MethodContext.SERVER)
        ctx.udc = udc
        return ctx

    def function(self, namespace: str, name: str) -> Callable[..., Any]:
        """The Python function behind an operation (its first method descriptor's)."""
        return implementation(method_descriptor(self.app, namespace, name))

    def read(self, ctx: Any, cls: Any, element: etree._Element) -> Any:
        """``element`` as an instance of ``cls``, by spyne's own reader."""
        return self.app.in_protocol.from_element(ctx, cls, element)

    def write(
        self,
        ctx: Any,
        cls: Any,
        value: Any,
        parent: etree._Element,
        namespace: str,
        name: str | None = None,
    ) -> None:
        """``value`` written as a child of ``parent`` by spyne's own writer."""
        if name is None:
            self.app.out_protocol.to_parent(ctx, cls, value, parent, namespace)
        else:
            self.app.out_protocol.to_parent(ctx, cls, value, parent, namespace, name)
