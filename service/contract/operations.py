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
from typing import Final

from spyne import ByteArray, ServiceBase, rpc
from spyne.application import Application
from spyne.protocol.xml import XmlDocument

from service.config import Settings
from service.contract.exchange import Exchange, describe
from service.contract.models import (
    OPTIONAL,
    REQUIRED,
    ArrayOfImageReceipt,
    Filename,
    ImageData,
    ImageId,
    ImagePage,
    ImageReceipt,
    MediaType,
    PageSize,
    PageToken,
    Person,
    PersonName,
    RequestDescription,
    Text,
    TimeInfo,
    TimeZoneName,
)
from service.faults import ImageRejectedFault, NotFoundFault, ValidationFault
from service.imaging import ImageError, ImageInfo, inspect_image, inspect_pieces
from service.ns import SERVICE_NAME, TNS
from service.security.keys import PageTokens
from service.security.users import User
from service.storage import Content, Cursor, ImageRecord, ImageStore, NewImage


@dataclass(frozen=True)
class Scope:
    """What an operation may use; set as spyne's ``ctx.udc`` for each request."""

    settings: Settings
    store: ImageStore
    #: seals and opens ListImages' page tokens (opaque, bound to the caller)
    page_tokens: PageTokens
    user: User | None = None
    #: the HTTP request around the call; only for operations in NEEDS_EXCHANGE
    exchange: Exchange | None = None


#: Operations that read ``Scope.exchange`` (the others are not given it: it costs a copy).
NEEDS_EXCHANGE: Final = frozenset({"DescribeRequest"})


def _described(info: ImageInfo) -> tuple[str, int, int]:
    return info.format, info.width, info.height


def _scope(ctx: object) -> Scope:
    scope = getattr(ctx, "udc", None)
    assert isinstance(scope, Scope), "operations run inside service.soap.dispatch"
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
        ctx,
        filename: str,
        content: list[bytes] | bytes | Content | None,
        content_type: str | None,
    ) -> ImageReceipt:
        """Stores an image and returns its receipt.

        content: the image's bytes (base64 on the wire); PNG, JPEG or GIF, at
        most the service's size limit (10 MiB by default). The format is read
        from the bytes themselves; filename and content_type are kept as the
        client's labels and are never trusted. Refused with an
        ImageRejectedFault whose reason is too_large, not_an_image,
        unsupported_format or corrupt. Uploading the same bytes again returns
        the receipt of the first upload.
        """
        scope = _scope(ctx)
        filename = _required_text("filename", filename)
        limit = scope.settings.max_image_bytes
        if isinstance(content, Content):  # a large upload left in the spool: read in pieces
            if content.size > limit:
                raise ImageRejectedFault(
                    "too_large", f"the image has {content.size} bytes; the limit is {limit}"
                )
            if not content.size:
                raise ImageRejectedFault("not_an_image", "the content is empty")
            try:
                info, sha256 = inspect_pieces(content.pieces(), content.size)
            except ImageError as error:
                raise ImageRejectedFault(error.reason, error.message) from None
            stored, _new = scope.store.add(
                NewImage(filename, content, content_type, sha256, *_described(info)),
                owner=_owner(scope),
            )
            return receipt(stored)
        # spyne hands over an empty element as None, and base64 as a list of chunks
        data = content if isinstance(content, bytes) else b"".join(content or ())
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
        stored, _new = scope.store.add(
            NewImage(
                filename=filename,
                content=data,
                content_type=content_type,
                sha256=hashlib.sha256(data).hexdigest(),
                format=info.format,
                width=info.width,
                height=info.height,
            ),
            owner=_owner(scope),
        )
        return receipt(stored)

    @rpc(
        ImageId(**REQUIRED),
        _args=("image_id",),
        _returns=ImageData.customize(**REQUIRED),
        _out_variable_name="GetImageResult",
        _throws=[ValidationFault, NotFoundFault],
    )
    def GetImage(ctx, image_id: str) -> ImageData:
        """Returns a stored image: its receipt's facts and its bytes.

        You see your own images (an admin sees all); any other id is a
        NotFoundFault. content_type is the media type of the format read from
        the bytes (image/png, image/jpeg or image/gif), whatever label the
        upload carried. For large images, GET /images/{image_id} streams the
        bytes over plain HTTP, with ETag and Range support.
        """
        scope = _scope(ctx)
        record = _visible(scope, image_id)
        # the bytes as of now, read while the answer is sent (service.soap.streamed)
        content = scope.store.open_content(record.image_id)
        if content is None:  # deleted meanwhile by another request
            raise NotFoundFault(image_id)
        return ImageData(
            **_receipt_fields(record),
            filename=record.filename,
            content_type=media_type(record.format),
            content=content,
        )

    @rpc(
        PageSize(**OPTIONAL),
        PageToken(**OPTIONAL),
        _args=("page_size", "page_token"),
        _returns=ImagePage.customize(**REQUIRED),
        _out_variable_name="ListImagesResult",
        _throws=[ValidationFault],
    )
    def ListImages(ctx, page_size: int | None, page_token: str | None) -> ImagePage:
        """Lists receipts of your images (an admin: everyone's), newest first.

        page_size: 1 to 100; 20 when absent or 0 (the server's default, as in
        Google's AIP-158). page_token: the next_page_token
        of the previous page; absent for the first page. The last page has no
        next_page_token.
        """
        scope = _scope(ctx)
        size = page_size or 20  # absent or 0: the default page size
        caller = _owner(scope)
        after = None
        if page_token is not None:
            try:
                after = scope.page_tokens.open(page_token, caller)
            except ValueError:
                raise ValidationFault("page_token", "is not a page token of this service") from None
        owner = None if scope.user is not None and scope.user.is_admin else caller
        records = scope.store.list_images(owner, size + 1, after)
        page, more = records[:size], len(records) > size
        last = page[-1] if page else None
        token = scope.page_tokens.seal(Cursor(last.seq), caller) if more and last else None
        return ImagePage(
            images=ArrayOfImageReceipt(ImageReceipt=[receipt(r) for r in page]),
            next_page_token=token,
        )

    @rpc(
        ImageId(**REQUIRED),
        _args=("image_id",),
        _returns=ImageReceipt.customize(**REQUIRED),
        _out_variable_name="DeleteImageResult",
        _throws=[ValidationFault, NotFoundFault],
    )
    def DeleteImage(ctx, image_id: str) -> ImageReceipt:
        """Deletes one of your images (an admin: anyone's); returns its receipt.

        Any other id is a NotFoundFault. The bytes go when no other upload
        shares them.
        """
        scope = _scope(ctx)
        record = _visible(scope, image_id)
        deleted = scope.store.delete(record.image_id)
        if deleted is None:  # deleted meanwhile by another request
            raise NotFoundFault(image_id)
        return receipt(deleted)

    @rpc(
        _returns=RequestDescription.customize(**REQUIRED),
        _out_variable_name="DescribeRequestResult",
    )
    def DescribeRequest(ctx) -> RequestDescription:
        """Tells what the server saw of this request: for debugging a client,
        a proxy or a gateway in between.

        client_address is the connection's peer; forwarded_for is the client
        behind it when the peer is a proxy the server trusts (its
        X-Forwarded-For or Forwarded header), else absent. Also: the HTTP
        method and path, the SOAP version ("1.1", "1.2", "HTTP" for the
        plain HTTP/JSON binding, or "XML-RPC" for /xmlrpc), the SOAPAction, whether the connection used
        TLS, the authenticated user (absent for an anonymous call), the request
        id, every HTTP header, and the names of the SOAP header blocks.
        Header values are shown only for headers that carry no credential
        (content negotiation, caching, connection, forwarding, Host,
        User-Agent, SOAPAction, X-Request-ID and the like); every other header
        is listed by name with the value "[redacted]", Authorization keeping
        its scheme. The content of SOAP headers (WS-Security) is never sent
        back.
        """
        scope = _scope(ctx)
        assert scope.exchange is not None, "the dispatcher gives DescribeRequest its exchange"
        user = scope.user.name if scope.user is not None else None
        return describe(scope.exchange, user)


def _owner(scope: Scope) -> str:
    """Who owns what this caller stores: the user, or "" for anonymous callers."""
    return scope.user.name if scope.user is not None else ""


def _visible(scope: Scope, image_id: str) -> ImageRecord:
    """The record, if this caller may see it; else NotFoundFault (never "forbidden")."""
    record = scope.store.get(image_id)
    admin = scope.user is not None and scope.user.is_admin
    if record is None or not (admin or record.owner == _owner(scope)):
        raise NotFoundFault(image_id)
    return record


def media_type(image_format: str) -> str:
    """The media type an image of ``image_format`` (as ``service.imaging`` names it) is
    served as: never the uploader's label, which is not trusted."""
    return f"image/{image_format}"


def _receipt_fields(record: ImageRecord) -> dict[str, object]:
    return {
        "image_id": record.image_id,
        "sha256": record.sha256,
        "size_bytes": record.size_bytes,
        "format": record.format,
        "width": record.width,
        "height": record.height,
        "received_at": record.received_at,
    }


def receipt(record: ImageRecord) -> ImageReceipt:
    return ImageReceipt(**_receipt_fields(record))


def build_application() -> Application:
    """The spyne application: the definition of the contract."""
    return Application(
        [SoapService],
        tns=TNS,
        name=SERVICE_NAME,
        in_protocol=XmlDocument(),
        out_protocol=XmlDocument(),
    )
