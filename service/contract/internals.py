"""Every use of spyne beyond its documented API, in one place.

spyne 2.14.0 is its last release (2022), and the service leans on parts of it
that are not promised to anyone:

- a message class's fields (``_type_info``, ``_type_info_alt``): the attribute
  spyne's own examples *declare* models with, read back here;
- ``XmlDocument``'s handler tables (``deserialization_handlers``,
  ``serialization_handlers``) and its ``get_cls_attrs``, which the compiled codecs
  (``service.contract.codec``) consult to prove a class takes spyne's plain path;
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
from spyne import MethodContext
from spyne.application import Application
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
