"""The contract's types, with their constraints on the types.

Every constrained simple type is *named* here (``type_name=...``): named simple
types give readable generated code in every toolkit and are rendered once in the
schema. Fields are required (``minOccurs="1"``, not nillable) unless declared with
:data:`OPTIONAL`; nothing is nillable, because nillable fields turn into
``JAXBElement<T>`` in Java.
"""

from __future__ import annotations

from typing import Any, Final

from spyne import Boolean, ByteArray, ComplexModel, DateTime, Integer32, Integer64, Unicode

from service.contract import internals
from service.ns import TNS, UTC_FORMAT

REQUIRED: Final[dict[str, Any]] = {"min_occurs": 1, "nillable": False}
OPTIONAL: Final[dict[str, Any]] = {"min_occurs": 0, "nillable": False}


def PersonName(**occurs: Any) -> type:
    """A name part: 1 to 100 characters."""
    return Unicode(min_len=1, max_len=100, type_name="PersonName", **occurs)


def Age(**occurs: Any) -> type:
    """An age in whole years, 0 to 150."""
    return Integer32(ge=0, le=150, type_name="Age", **occurs)


def TimeZoneName(**occurs: Any) -> type:
    """An IANA time zone name such as ``Europe/Paris``."""
    return Unicode(min_len=1, max_len=64, type_name="TimeZoneName", **occurs)


def Filename(**occurs: Any) -> type:
    """A file name as the client knows it: 1 to 255 characters, never a path here."""
    return Unicode(min_len=1, max_len=255, type_name="Filename", **occurs)


def MediaType(**occurs: Any) -> type:
    """A media type such as ``image/png``."""
    return Unicode(min_len=1, max_len=255, type_name="MediaType", **occurs)


def Text(**occurs: Any) -> type:
    return Unicode(**occurs)


def UtcDateTime(**occurs: Any) -> type:
    return DateTime(format=UTC_FORMAT, **occurs)


class Person(ComplexModel):
    """A person, as echoed by EchoPerson."""

    __namespace__ = TNS
    _type_info = [
        ("first_name", PersonName(**REQUIRED)),
        ("last_name", PersonName(**REQUIRED)),
        ("age", Age(**REQUIRED)),
    ]


class TimeInfo(ComplexModel):
    """The server's clock: the same instant in UTC and in the asked time zone."""

    __namespace__ = TNS
    _type_info = [
        ("utc", UtcDateTime(**REQUIRED)),
        ("local", DateTime(**REQUIRED)),
        ("timezone", TimeZoneName(**REQUIRED)),
    ]


def ImageId(**occurs: Any) -> type:
    """An image's id, as its receipt gives it."""
    return Unicode(min_len=1, max_len=64, type_name="ImageId", **occurs)


def PageSize(**occurs: Any) -> type:
    """How many receipts a page holds: 1 to 100; 0 means the server's default, as absent
    does (AIP-158: clients such as WCF proxies send 0 for "not given")."""
    return Integer32(ge=0, le=100, type_name="PageSize", **occurs)


def PageToken(**occurs: Any) -> type:
    """Where the previous page ended, as it said."""
    return Unicode(min_len=1, max_len=200, type_name="PageToken", **occurs)


class ImageReceipt(ComplexModel):
    """What the service stored for an uploaded image."""

    __namespace__ = TNS
    _type_info = [
        ("image_id", Text(**REQUIRED)),
        ("sha256", Text(**REQUIRED)),
        ("size_bytes", Integer64(**REQUIRED)),
        ("format", Text(**REQUIRED)),
        ("width", Integer32(**REQUIRED)),
        ("height", Integer32(**REQUIRED)),
        ("received_at", UtcDateTime(**REQUIRED)),
    ]


class ImageData(ComplexModel):
    """A stored image: its receipt's facts and its bytes."""

    __namespace__ = TNS
    _type_info = [
        *internals.fields(ImageReceipt).items(),
        ("filename", Filename(**REQUIRED)),
        ("content_type", MediaType(**OPTIONAL)),
        ("content", ByteArray(**REQUIRED)),
    ]


class ArrayOfImageReceipt(ComplexModel):
    """Receipts, as WCF publishes arrays: a wrapper type around the repeated element.

    A repeated element straight in a sequence is not a DataContract; Mono's
    svcutil then falls back to an importer that scrambles every operation.
    """

    __namespace__ = TNS
    _type_info = [
        (
            "ImageReceipt",
            ImageReceipt.customize(min_occurs=0, max_occurs="unbounded", nillable=False),
        ),
    ]


class HttpHeader(ComplexModel):
    """One HTTP request header as the server received it (secrets redacted)."""

    __namespace__ = TNS
    _type_info = [
        ("name", Text(**REQUIRED)),
        ("value", Text(**REQUIRED)),
    ]


class ArrayOfHttpHeader(ComplexModel):
    """Headers, in a wrapper type (see ArrayOfImageReceipt)."""

    __namespace__ = TNS
    _type_info = [
        ("HttpHeader", HttpHeader.customize(min_occurs=0, max_occurs="unbounded", nillable=False)),
    ]


class ArrayOfString(ComplexModel):
    """Strings, in a wrapper type (see ArrayOfImageReceipt)."""

    __namespace__ = TNS
    _type_info = [
        ("string", Text(min_occurs=0, max_occurs="unbounded", nillable=False)),
    ]


class RequestDescription(ComplexModel):
    """What the server saw of a request: addresses, protocol, headers, the caller.

    Secrets never appear: only headers that carry no credential show their
    values (the rest are "[redacted]"), and SOAP header blocks (WS-Security
    among them) are listed by name only, never by content.
    """

    __namespace__ = TNS
    _type_info = [
        ("client_address", Text(**REQUIRED)),
        ("forwarded_for", Text(**OPTIONAL)),
        ("method", Text(**REQUIRED)),
        ("path", Text(**REQUIRED)),
        ("soap_version", Text(**REQUIRED)),
        ("soap_action", Text(**OPTIONAL)),
        ("tls", Boolean(**REQUIRED)),
        ("user", Text(**OPTIONAL)),
        ("request_id", Text(**REQUIRED)),
        ("headers", ArrayOfHttpHeader.customize(**REQUIRED)),
        ("soap_headers", ArrayOfString.customize(**REQUIRED)),
    ]


class ImagePage(ComplexModel):
    """One page of receipts, newest first, and where the next page starts."""

    __namespace__ = TNS
    _type_info = [
        ("images", ArrayOfImageReceipt.customize(**REQUIRED)),
        ("next_page_token", PageToken(**OPTIONAL)),
    ]


# --- the typed details of the declared faults (service.faults) ---


class ValidationFaultDetail(ComplexModel):
    """Which field of the request is wrong, and why."""

    __namespace__ = TNS
    _type_info = [
        ("field", Unicode(**REQUIRED)),
        ("reason", Unicode(**REQUIRED)),
    ]


IMAGE_REJECTION_REASONS = ("too_large", "not_an_image", "unsupported_format", "corrupt")


class ImageRejectedFaultDetail(ComplexModel):
    """Why an upload was refused: a reason code, and words for a person."""

    __namespace__ = TNS
    _type_info = [
        (
            "reason",
            Unicode(values=IMAGE_REJECTION_REASONS, type_name="ImageRejectionReason", **REQUIRED),
        ),
        ("message", Unicode(**REQUIRED)),
    ]


class NotFoundFaultDetail(ComplexModel):
    """Which image does not exist (or is not yours to see)."""

    __namespace__ = TNS
    _type_info = [("image_id", Unicode(**REQUIRED))]


__all__ = [
    "IMAGE_REJECTION_REASONS",
    "OPTIONAL",
    "REQUIRED",
    "Age",
    "ArrayOfHttpHeader",
    "ArrayOfImageReceipt",
    "ArrayOfString",
    "ByteArray",
    "Filename",
    "HttpHeader",
    "ImageData",
    "ImageId",
    "ImagePage",
    "ImageReceipt",
    "ImageRejectedFaultDetail",
    "MediaType",
    "NotFoundFaultDetail",
    "PageSize",
    "PageToken",
    "Person",
    "PersonName",
    "RequestDescription",
    "Text",
    "TimeInfo",
    "TimeZoneName",
    "UtcDateTime",
    "ValidationFaultDetail",
]
