"""A typed Python face over zeep for the soap-service contract.

The client reads the WSDL shipped with it (the committed contract, never the
live one) and points it at the address you give::

    from client import SoapServiceClient, Person
    api = SoapServiceClient("http://127.0.0.1:8000")
    api.greet("Ada")                                  # 'Hello, Ada!'
    api.echo_person(Person("Ada", "Lovelace", 36))    # Person(...)

Results are plain dataclasses; faults become the exceptions of
``client.exceptions``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal, TextIO, TypeVar

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.plugins import Plugin
from zeep.wsse.username import UsernameToken
from zeep.wsse.utils import WSU

from client.exceptions import (
    AuthenticationError,
    ImageRejected,
    NotFound,
    SoapFault,
    TransportError,
    ValidationError,
)
from client.progress import Progress, ProgressBody

TNS: Final = "urn:soap-service:v1"
WSDL_PATH: Final = Path(__file__).resolve().parent / "service.wsdl"
DEFAULT_URL: Final = "http://127.0.0.1:8000"
_BINDINGS: Final = {
    "1.1": (f"{{{TNS}}}SoapServiceSoap11Binding", "/soap"),
    "1.2": (f"{{{TNS}}}SoapServiceSoap12Binding", "/soap12"),
}
_SOAP12_CODES: Final = {"Sender": "Client", "Receiver": "Server"}
_WSS_CODES: Final = {"FailedAuthentication", "InvalidSecurity", "MessageExpired"}
Auth = Literal["wsse-text", "wsse-digest", "basic"]

T = TypeVar("T")


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    age: int


@dataclass(frozen=True)
class TimeInfo:
    utc: datetime
    local: datetime
    timezone: str


@dataclass(frozen=True)
class ImageReceipt:
    image_id: str
    sha256: str
    size_bytes: int
    format: str
    width: int
    height: int
    received_at: datetime


@dataclass(frozen=True)
class ImageData:
    receipt: ImageReceipt
    filename: str
    content_type: str | None
    content: bytes


@dataclass(frozen=True)
class ImagePage:
    images: list[ImageReceipt]
    next_page_token: str | None


@dataclass(frozen=True)
class RequestDescription:
    """What the server saw of a request (secrets redacted by the server)."""

    client_address: str
    forwarded_for: str | None
    method: str
    path: str
    soap_version: str
    soap_action: str | None
    tls: bool
    user: str | None
    request_id: str
    headers: list[tuple[str, str]]
    soap_headers: list[str]


class _TracePlugin(Plugin):  # type: ignore[misc]
    """Prints each request and response envelope, like httplib's set_debuglevel(1).

    Text longer than ``max_text`` characters (base64 images) is shortened.
    """

    def __init__(self, out: TextIO = sys.stderr, max_text: int = 200) -> None:
        self.out = out
        self.max_text = max_text

    def _show(self, title: str, envelope: etree._Element) -> None:
        copy = etree.fromstring(etree.tostring(envelope))
        for node in copy.iter():
            if node.text and len(node.text) > self.max_text:
                node.text = f"{node.text[: self.max_text]}... [{len(node.text)} characters]"
        text = etree.tostring(copy, pretty_print=True, encoding="unicode")
        print(f"--- {title}\n{text}", file=self.out, flush=True)

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        headers = "".join(f"{k}: {v}\n" for k, v in http_headers.items())
        print(f"--- request to {binding_options.get('address')}\n{headers}", file=self.out)
        self._show("request envelope", envelope)
        return envelope, http_headers

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> Any:
        self._show("response envelope", envelope)
        return envelope, http_headers


class _Session(requests.Session):
    """A session whose ``verify`` wins over $REQUESTS_CA_BUNDLE and $CURL_CA_BUNDLE.

    requests lets those variables override ``Session.verify``; a CA file given
    to this client on purpose must not be silently replaced.
    """

    def __init__(self, verify: bool | str, upload_progress: Callable[[int], Any] | None) -> None:
        super().__init__()
        self.verify = verify
        #: called with a body's size; returns a Progress to report the sending to
        self.upload_progress = upload_progress

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("verify", self.verify)
        data = kwargs.get("data")
        if self.upload_progress is not None and isinstance(data, bytes) and len(data) > 65536:
            progress = self.upload_progress(len(data))
            kwargs["data"] = ProgressBody(data, progress)
            try:
                return super().request(*args, **kwargs)
            finally:
                progress.finish()
        return super().request(*args, **kwargs)


class _FreshUsernameToken(UsernameToken):  # type: ignore[misc]
    """zeep's UsernameToken, with a new wsu:Timestamp (5 minutes) on every request."""

    def apply(self, envelope: Any, headers: Any) -> Any:
        now = datetime.now(UTC).replace(microsecond=0)
        stamp = WSU.Timestamp()
        stamp.append(WSU.Created(now.strftime("%Y-%m-%dT%H:%M:%SZ")))
        stamp.append(WSU.Expires((now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")))
        self.timestamp_token = stamp
        return super().apply(envelope, headers)


class SoapServiceClient:
    """Calls the service at ``url`` (its base URL, without /soap)."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        soap_version: Literal["1.1", "1.2"] = "1.1",
        timeout: float = 120,
        trace: bool = False,
        wsdl: Path | str = WSDL_PATH,
        session: requests.Session | None = None,
        username: str | None = None,
        password: str | None = None,
        auth: Auth = "wsse-text",
        verify: bool | str = True,
        progress: bool = False,
    ) -> None:
        """``username``/``password`` sign every call: with a WS-Security UsernameToken
        (``wsse-text``: PasswordText, ``wsse-digest``: PasswordDigest, both with a
        Timestamp) or with HTTP ``basic``. ``verify`` is a CA file for HTTPS."""
        binding, path = _BINDINGS[soap_version]
        self._username, self._password, self._timeout = username, password or "", timeout
        self.address = url.rstrip("/") + path
        self.soap_version = soap_version
        self._progress = progress
        session = session or _Session(
            verify, (lambda size: Progress("upload", size)) if progress else None
        )
        wsse = None
        if username is not None:
            if auth == "basic":
                session.auth = (username, password or "")
            else:
                wsse = _FreshUsernameToken(username, password, use_digest=auth == "wsse-digest")
        transport = zeep.Transport(session=session, timeout=timeout, operation_timeout=timeout)
        settings = zeep.Settings(
            strict=True, xml_huge_tree=True, forbid_dtd=True, forbid_entities=True
        )
        plugins = [_TracePlugin()] if trace else []
        self._zeep = zeep.Client(
            str(wsdl), transport=transport, settings=settings, plugins=plugins, wsse=wsse
        )
        self._service = self._zeep.create_service(binding, self.address)

    def greet(self, name: str) -> str:
        """The greeting for ``name``."""
        return str(self._call(self._service.Greet, name=name))

    def get_time(self, timezone: str | None = None) -> TimeInfo:
        """The server's time, in UTC and in ``timezone`` (UTC when None)."""
        result = self._call(self._service.GetTime, timezone=timezone)
        return TimeInfo(utc=result.utc, local=result.local, timezone=result.timezone)

    def echo_person(self, person: Person) -> Person:
        """``person``, as the service received and sent it back."""
        result = self._call(
            self._service.EchoPerson,
            person={
                "first_name": person.first_name,
                "last_name": person.last_name,
                "age": person.age,
            },
        )
        return Person(first_name=result.first_name, last_name=result.last_name, age=result.age)

    def upload_image(
        self, filename: str, content: bytes, content_type: str | None = None
    ) -> ImageReceipt:
        """Stores an image; returns the service's receipt."""
        result = self._call(
            self._service.UploadImage,
            filename=filename,
            content=content,
            content_type=content_type,
        )
        return _receipt(result)

    def get_image(self, image_id: str) -> ImageData:
        """A stored image with its bytes (see also :meth:`download`)."""
        result = self._call(self._service.GetImage, image_id=image_id)
        return ImageData(
            receipt=_receipt(result),
            filename=result.filename,
            content_type=result.content_type,
            content=result.content,
        )

    def list_images(self, page_size: int | None = None, page_token: str | None = None) -> ImagePage:
        """One page of receipts, newest first."""
        result = self._call(self._service.ListImages, page_size=page_size, page_token=page_token)
        receipts = result.images.ImageReceipt if result.images is not None else []
        return ImagePage([_receipt(r) for r in receipts or []], result.next_page_token)

    def delete_image(self, image_id: str) -> ImageReceipt:
        """Deletes one of the caller's images; returns its receipt."""
        return _receipt(self._call(self._service.DeleteImage, image_id=image_id))

    def describe_request(self) -> RequestDescription:
        """What the server saw of this call: addresses, headers, the user."""
        r = self._call(self._service.DescribeRequest)
        headers = r.headers.HttpHeader if r.headers is not None else []
        soap_headers = r.soap_headers.string if r.soap_headers is not None else []
        return RequestDescription(
            client_address=r.client_address,
            forwarded_for=r.forwarded_for,
            method=r.method,
            path=r.path,
            soap_version=r.soap_version,
            soap_action=r.soap_action,
            tls=bool(r.tls),
            user=r.user,
            request_id=r.request_id,
            headers=[(h.name, h.value) for h in headers or []],
            soap_headers=list(soap_headers or []),
        )

    def download(self, image_id: str, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        """The image's bytes over plain HTTP (GET /images/{id}), a chunk at a time."""
        url = self.address.rsplit("/", 1)[0] + f"/images/{image_id}"
        session = self._zeep.transport.session
        auth = (self._username, self._password) if self._username else None
        try:
            response = session.get(url, auth=auth, stream=True, timeout=self._timeout)
        except requests.RequestException as error:
            raise TransportError(f"cannot reach {url}: {error}") from None
        if response.status_code == 404:
            raise NotFound("Client.NotFound", response.text.strip(), None, image_id=image_id)
        if response.status_code == 401:
            raise AuthenticationError("wsse:FailedAuthentication", response.text.strip())
        if response.status_code != 200:
            raise TransportError(f"HTTP {response.status_code} from {url}")
        if not self._progress:
            yield from response.iter_content(chunk_size)
            return
        bar = Progress("download", int(response.headers.get("Content-Length", 0)))
        for chunk in response.iter_content(chunk_size):
            bar.advance(len(chunk))
            yield chunk
        bar.finish()

    def _call(self, operation: Callable[..., T], **kwargs: Any) -> T:
        try:
            return operation(**kwargs)
        except zeep.exceptions.Fault as fault:
            raise self._map_fault(fault) from None
        except zeep.exceptions.TransportError as error:
            raise TransportError(f"HTTP {error.status_code} from {self.address}") from None
        except requests.RequestException as error:
            raise TransportError(f"cannot reach {self.address}: {error}") from None

    @staticmethod
    def _map_fault(fault: zeep.exceptions.Fault) -> SoapFault:
        code = _dotted_code(fault)
        if code.rsplit(".", 1)[-1] in _WSS_CODES:
            return AuthenticationError(f"wsse:{code.rsplit('.', 1)[-1]}", fault.message or "")
        detail = fault.detail
        message = fault.message or ""
        typed = detail[0] if detail is not None and len(detail) else None
        if typed is not None and typed.tag == f"{{{TNS}}}ValidationFaultDetail":
            return ValidationError(
                code,
                message,
                detail,
                field=typed.findtext(f"{{{TNS}}}field", ""),
                reason=typed.findtext(f"{{{TNS}}}reason", ""),
            )
        if typed is not None and typed.tag == f"{{{TNS}}}NotFoundFaultDetail":
            image_id = typed.findtext(f"{{{TNS}}}image_id", "")
            return NotFound(code, message, detail, image_id=image_id)
        if typed is not None and typed.tag == f"{{{TNS}}}ImageRejectedFaultDetail":
            return ImageRejected(
                code,
                message,
                detail,
                reason=typed.findtext(f"{{{TNS}}}reason", ""),
                reason_message=typed.findtext(f"{{{TNS}}}message", ""),
            )
        return SoapFault(code, message, detail)


def _receipt(result: Any) -> ImageReceipt:
    return ImageReceipt(**{name: result[name] for name in ImageReceipt.__dataclass_fields__})


def _dotted_code(fault: zeep.exceptions.Fault) -> str:
    code = str(fault.code or "")
    if code.startswith("{"):
        code = etree.QName(code).localname
    code = code.split(":", 1)[-1]
    first = _SOAP12_CODES.get(code, code)
    subcodes = [etree.QName(sub).localname for sub in (fault.subcodes or [])]
    return ".".join([first, *subcodes])
