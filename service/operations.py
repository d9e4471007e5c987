"""The operations: thin spyne methods that check what the schema cannot, call
the domain and return. Their docstrings are the operations' documentation in
the WSDL, so they are written for the client's developer.
"""

from __future__ import annotations

import hashlib
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from spyne import ByteArray, ServiceBase, rpc
from spyne.application import Application
from spyne.protocol.xml import XmlDocument

from service.config import Settings
from service.faults import ImageRejectedFault, ValidationFault
from service.imaging import ImageError, inspect_image
from service.models import (
    OPTIONAL,
    REQUIRED,
    Filename,
    ImageReceipt,
    MediaType,
    Person,
    PersonName,
    Text,
    TimeInfo,
    TimeZoneName,
)
from service.ns import SERVICE_NAME, TNS
from service.storage import ImageStore, NewImage, StoredImage
from service.users import User


@dataclass(frozen=True)
class Scope:
    """What an operation may use; set as spyne's ``ctx.udc`` for each request."""

    settings: Settings
    store: ImageStore
    user: User | None = None


def _scope(ctx: object) -> Scope:
    scope = getattr(ctx, "udc", None)
    assert isinstance(scope, Scope), "operations run inside service.envelope"
    return scope


def _required_text(field: str, value: str) -> str:
    trimmed = value.strip()
    if not trimmed:
        raise ValidationFault(field, "must not be blank")
    return trimmed


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


#: Each response holds one element named ``<Operation>Result``: the WCF/ASMX
#: convention. Mono's svcutil writes no MessageParameter names and so expects
#: exactly these; JAX-WS needs the result's name to differ from the request's
#: (``person`` in both would make ``EchoPerson`` an INOUT ``Holder<Person>``).
class SoapService(ServiceBase):  # type: ignore[misc]
    """Greetings, the server's clock, a typed echo and image uploads."""

    @rpc(
        PersonName(**REQUIRED),
        _args=("name",),
        _returns=Text(**REQUIRED),
        _out_variable_name="GreetResult",
        _throws=[ValidationFault],
    )
    def Greet(ctx, name: str) -> str:
        """Greets someone by name.

        name: 1 to 100 characters; leading and trailing spaces are ignored, and a
        blank name is refused with a ValidationFault (field "name").
        Returns the greeting, "Hello, <name>!".
        """
        return f"Hello, {_required_text('name', name)}!"

    @rpc(
        TimeZoneName(**OPTIONAL),
        _args=("timezone",),
        _returns=TimeInfo.customize(**REQUIRED),
        _out_variable_name="GetTimeResult",
        _throws=[ValidationFault],
    )
    def GetTime(ctx, timezone_name: str | None) -> TimeInfo:
        """Tells the server's current time.

        timezone: an IANA time zone name such as "Europe/Paris"; UTC when
        absent. An unknown zone is refused with a ValidationFault (field
        "timezone"). Returns the same instant in UTC (with a Z) and in the zone
        (with its offset).
        """
        zone_name = "UTC" if timezone_name is None else timezone_name.strip()
        if zone_name not in _known_zones():
            raise ValidationFault("timezone", f"unknown time zone {zone_name!r}")
        now = datetime.now(timezone.utc)
        return TimeInfo(
            utc=now, local=now.astimezone(zoneinfo.ZoneInfo(zone_name)), timezone=zone_name
        )

    @rpc(
        Person.customize(**REQUIRED),
        _args=("person",),
        _returns=Person.customize(**REQUIRED),
        _out_variable_name="EchoPersonResult",
        _throws=[ValidationFault],
    )
    def EchoPerson(ctx, person: Person) -> Person:
        """Sends the person back exactly as received.

        first_name, last_name: 1 to 100 characters, not blank. age: 0 to 150.
        """
        _required_text("person/first_name", person.first_name)
        _required_text("person/last_name", person.last_name)
        return person

    @rpc(
        Filename(**REQUIRED),
        ByteArray(**REQUIRED),
        MediaType(**OPTIONAL),
        _args=("filename", "content", "content_type"),
        _returns=ImageReceipt.customize(**REQUIRED),
        _out_variable_name="UploadImageResult",
        _throws=[ValidationFault, ImageRejectedFault],
    )
    def UploadImage(
        ctx, filename: str, content: list[bytes] | bytes | None, content_type: str | None
    ) -> ImageReceipt:
        """Stores an image and returns its receipt.

        content: the image's bytes (base64 on the wire); PNG, JPEG or GIF, at
        most the service's size limit (10 MiB by default). The format is read
        from the bytes themselves; filename and content_type are kept as the
        client's labels and are never trusted. Refused with an
        ImageRejectedFault whose reason is too_large, not_an_image,
        unsupported_format or corrupt.
        """
        scope = _scope(ctx)
        filename = _required_text("filename", filename)
        # spyne hands over an empty element as None, and base64 as a list of chunks
        data = content if isinstance(content, bytes) else b"".join(content or ())
        limit = scope.settings.max_image_bytes
        if len(data) > limit:
            raise ImageRejectedFault(
                "too_large", f"the image has {len(data)} bytes; the limit is {limit}"
            )
        if not data:
            raise ImageRejectedFault("not_an_image", "the content is empty")
        try:
            info = inspect_image(data)
        except ImageError as error:
            raise ImageRejectedFault(error.reason, error.message) from None
        stored = scope.store.add(
            NewImage(
                filename=filename,
                content=data,
                content_type=content_type,
                sha256=hashlib.sha256(data).hexdigest(),
                format=info.format,
                width=info.width,
                height=info.height,
            )
        )
        return receipt(stored)


def receipt(stored: StoredImage) -> ImageReceipt:
    return ImageReceipt(
        image_id=stored.image_id,
        sha256=stored.sha256,
        size_bytes=stored.size_bytes,
        format=stored.format,
        width=stored.width,
        height=stored.height,
        received_at=stored.received_at,
    )


def build_application() -> Application:
    """The spyne application: the definition of the contract."""
    return Application(
        [SoapService],
        tns=TNS,
        name=SERVICE_NAME,
        in_protocol=XmlDocument(),
        out_protocol=XmlDocument(),
    )
