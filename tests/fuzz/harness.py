"""What every fuzzer here checks: the service answers anything with a typed answer.

The property, for every request on a SOAP port:
- the response is a well-formed envelope of the request's SOAP version (its
  Content-Type's, text/xml or application/soap+xml, on either port; an MTOM
  request's start-info or the port's; the port's for any other), with that
  version's media type, and its Body holds exactly one element;
- that element is a ``...Response`` in the contract's namespace with HTTP 200,
  or a Fault with a fault status (401, 405, 413, 415 or 500) whose code is not
  ``Server.Internal`` (an unhandled exception);
- nothing was logged at ERROR (the dispatcher logs unhandled exceptions there).

For every request elsewhere (``/http/<Op>``, ``/images/{id}``, the pages around them:
:meth:`Harness.check_route`): a status the route promises, never a 500 (the typed
``Server.Internal`` is our bug too); on ``/http``, a JSON fault (or an XML element with
``format=xml``) that parses and is not ``Server.Internal``; on ``/images``, ``nosniff``
and the restrictive CSP on every answer; an ``Allow`` on every 405; nothing at ERROR.
And on every route: exactly one access-log line per request.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import tempfile
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lxml import etree

from service import ns
from service.app import SoapApplication
from service.config import Settings
from service.imaging import TINY_PNG
from service.security.users import UserStore
from service.soap.mtom import parse_media_type
from tests.mtom_messages import XOP, message, read_reply

USER = ("fuzzer", "Fuzzer-Password-1")
BASIC = "Basic " + base64.b64encode(f"{USER[0]}:{USER[1]}".encode()).decode()
FAULT_STATUSES = {401, 405, 413, 415, 429, 500}
#: what /http/<Op> answers: the result, or a fault's status (service.http.binding)
HTTP_STATUSES = {200, 400, 401, 404, 405, 413, 415, 422, 429}
#: what GET /images/{id} answers (service.http.downloads)
IMAGE_STATUSES = {200, 206, 304, 400, 401, 404, 405, 416, 429}
#: the pages around the ports: help, health, readiness, metrics, WSDL, anything else
PAGE_STATUSES = {200, 404, 405}
#: what POST /xmlrpc answers (service.http.xmlrpc): 200 for every XML-RPC fault, HTTP's own
#: failures with their status
XMLRPC_STATUSES = {200, 401, 405, 413, 415}
PORTS = {"/soap": ns.SOAP11_ENV, "/soap12": ns.SOAP12_ENV}
MEDIA = {"/soap": "text/xml", "/soap12": "application/soap+xml"}
_ENVELOPES = {MEDIA[path]: env for path, env in PORTS.items()}


class ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class AccessLines(logging.Handler):
    """Counts access-log lines (and keeps them from the console)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@dataclass
class Harness:
    app: SoapApplication
    errors: ErrorRecords
    access: AccessLines
    #: one image of the fuzz user's, for /images/{id} and GetImage
    image_id: str = ""
    #: the Content-Type of the last request ``call`` sent (``check`` reads the version in it)
    sent: str = ""
    #: access lines written while the last request was answered
    lines: int = 0

    @classmethod
    def create(cls, data_dir: Path | None = None) -> Harness:
        folder = data_dir or Path(tempfile.mkdtemp(prefix="soap-fuzz-"))
        if not (folder / "users.sqlite3").exists():
            with UserStore(folder) as users:
                users.add(*USER, digest=True)
        settings = Settings(data_dir=folder, max_image_bytes=64 * 1024, log_level="CRITICAL")
        app = SoapApplication(settings)
        errors = ErrorRecords()
        logging.getLogger("soap_service").addHandler(errors)
        access = AccessLines()
        access_logger = logging.getLogger("soap_service.access")
        access_logger.addHandler(access)
        access_logger.setLevel(logging.INFO)
        access_logger.propagate = False
        made = cls(app, errors, access)
        upload = _envelope(PORTS["/soap"], BODIES[4])
        status, _, data = made.call("/soap", upload, "text/xml", {"Authorization": BASIC})
        assert status == 200, data
        made.image_id = etree.fromstring(data).findtext(f".//{{{ns.TNS}}}image_id") or ""
        return made

    def close(self) -> None:
        logging.getLogger("soap_service").removeHandler(self.errors)
        access_logger = logging.getLogger("soap_service.access")
        access_logger.removeHandler(self.access)
        access_logger.propagate = True
        access_logger.setLevel(logging.NOTSET)
        self.app.close()

    def call(
        self, path: str, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """A POST to a SOAP port (``check`` reads its answer)."""
        self.sent = content_type
        return self.request("POST", path, body, content_type, headers)

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        content_type: str = "",
        headers: dict[str, str] | None = None,
        query: str = "",
    ) -> tuple[int, dict[str, str], bytes]:
        """Any request, as a WSGI server hands it over (``PATH_INFO`` decoded as latin-1)."""
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "REMOTE_ADDR": "127.0.0.1",
        }
        for name, value in (headers or {}).items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = value
        seen: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
            seen["status"] = int(status.split()[0])
            seen["headers"] = dict(response_headers)

        before = self.access.count
        data = b"".join(self.app(environ, start_response))
        self.lines = self.access.count - before
        return seen["status"], seen["headers"], data

    def _one_line(self) -> None:
        lines = self.lines
        assert lines == 1, f"{lines} access-log lines for one request"

    def check_route(
        self, method: str, path: str, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        """The property for a request anywhere but a SOAP port's POST."""
        assert not self.errors.records, self.errors.records[0].getMessage()
        self._one_line()
        assert status != 500, body[:500]
        if status == 405:
            assert headers.get("Allow"), headers
        content_type = headers.get("Content-Type", "")
        if path.startswith("/http/"):
            assert status in HTTP_STATUSES, (status, body[:300])
            if method == "HEAD" or not body:
                return
            if content_type.startswith("application/json"):
                document = json.loads(body)
                if status >= 400:
                    code = document["fault"]["code"]
                    assert code and "Internal" not in code, document
            else:
                assert content_type.startswith(("application/xml", "text/xml")), content_type
                etree.fromstring(body)
                assert b"Internal" not in body, body[:500]
        elif path.rstrip("/") == "/xmlrpc":
            assert status in XMLRPC_STATUSES, (status, body[:300])
            if method == "HEAD":
                return
            assert content_type.startswith("text/xml"), content_type
            try:
                xmlrpc.client.loads(body)
            except xmlrpc.client.Fault as fault:
                assert fault.faultCode != -32603, fault  # Server.Internal: our bug
                assert (status == 200) == (fault.faultCode not in (3, 6, 8, 9)), (status, fault)
        elif path.startswith("/images/"):
            assert status in IMAGE_STATUSES, (status, body[:300])
            assert headers.get("X-Content-Type-Options") == "nosniff", headers
            assert "sandbox" in headers.get("Content-Security-Policy", ""), headers
        elif path.rstrip("/") not in PORTS:
            assert status in PAGE_STATUSES, (status, body[:300])
        else:  # a GET (WSDL, help page) or another method on a SOAP port
            assert status in (200, 405, 415), (status, body[:300])

    def check(self, path: str, status: int, headers: dict[str, str], body: bytes) -> None:
        assert not self.errors.records, self.errors.records[0].getMessage()
        self._one_line()
        kind, params = parse_media_type(self.sent)
        if kind in _ENVELOPES:
            medias = {kind}
        elif kind == "multipart/related":  # the start-info's version, or the port's if unread
            medias = {MEDIA[path], parse_media_type(params.get("start-info", ""))[0]}
        else:
            medias = {MEDIA[path]}
        content_type = headers["Content-Type"]
        if content_type.startswith("multipart/related"):  # an MTOM request, answered in kind
            media = parse_media_type(content_type)[1]["start-info"]
            root = read_reply(content_type, body).root
        else:
            media = parse_media_type(content_type)[0]
            root = etree.fromstring(body)
        assert media in medias, (content_type, self.sent)
        env = _ENVELOPES[media]
        assert root.tag == f"{{{env}}}Envelope", root.tag
        answer = root.find(f"{{{env}}}Body")
        assert answer is not None and len(answer) == 1
        element = answer[0]
        if element.tag == f"{{{env}}}Fault":
            assert status in FAULT_STATUSES, status
            assert b"Internal" not in etree.tostring(element), etree.tostring(element)
        else:
            assert status == 200, status
            qname = etree.QName(element)
            assert qname.namespace == ns.TNS and qname.localname.endswith("Response")


def _envelope(env: str, body: str, header: str = "") -> bytes:
    return (
        f'<s:Envelope xmlns:s="{env}" xmlns:t="{ns.TNS}"><s:Header>{header}</s:Header>'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


_PIXEL = base64.b64encode(TINY_PNG).decode()
BODIES = [
    "<t:Greet><t:name>Ada</t:name></t:Greet>",
    "<t:GetTime/>",
    "<t:GetTime><t:timezone>Europe/Paris</t:timezone></t:GetTime>",
    "<t:EchoPerson><t:person><t:first_name>Ada</t:first_name><t:last_name>Lovelace</t:last_name>"
    "<t:age>36</t:age></t:person></t:EchoPerson>",
    f"<t:UploadImage><t:filename>p.png</t:filename><t:content>{_PIXEL}</t:content>"
    "<t:content_type>image/png</t:content_type></t:UploadImage>",
]
_VERSIONS = {"/soap": "1.1", "/soap12": "1.2"}


def _mtom(path: str, operation_body: str, parts: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    sent = message(_VERSIONS[path], _envelope(PORTS[path], operation_body), parts)
    return sent.content_type, sent.body


_MTOM_BODIES = [
    (
        '<t:UploadImage><t:filename>p.png</t:filename><t:content><xop:Include xmlns:xop="'
        f'{XOP}" href="cid:image-1@tests"/></t:content></t:UploadImage>',
        [("image-1@tests", base64.b64decode(_PIXEL))],
    ),
    ("<t:Greet><t:name>Ada</t:name></t:Greet>", []),
]
#: (path, content type, body): every operation on both ports, and MTOM uploads, all valid.
SEEDS = [
    (path, f"{MEDIA[path]}; charset=utf-8", _envelope(env, body))
    for path, env in PORTS.items()
    for body in BODIES
] + [(path, *_mtom(path, body, parts)) for path in PORTS for body, parts in _MTOM_BODIES]


@dataclass(frozen=True)
class HttpSeed:
    """A valid request to a route other than a SOAP port's POST (``{image}``: the
    harness's image id)."""

    method: str
    path: str
    query: str = ""
    content_type: str = ""
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    def request(self, image_id: str) -> tuple[str, str, str, str, bytes, dict[str, str]]:
        path, query = (part.replace("{image}", image_id) for part in (self.path, self.query))
        return self.method, path, query, self.content_type, self.body, dict(self.headers)


_AUTH: Final = (("Authorization", BASIC),)
_FORM: Final = "application/x-www-form-urlencoded"
_JSON: Final = "application/json"
HTTP_SEEDS: Final = [
    HttpSeed("GET", "/http/Greet", "name=Ada"),
    HttpSeed("GET", "/http/GetTime", "timezone=Europe/Paris&format=xml"),
    HttpSeed("POST", "/http/EchoPerson", "", _FORM, b"first_name=Ada&last_name=Lovelace&age=36"),
    HttpSeed(
        "POST",
        "/http/EchoPerson",
        "",
        _JSON,
        b'{"person": {"first_name": "Ada", "last_name": "Lovelace", "age": 36}}',
    ),
    HttpSeed("GET", "/http/ListImages", "page_size=2", headers=_AUTH),
    HttpSeed("GET", "/http/GetImage", "image_id={image}", headers=_AUTH),
    HttpSeed(
        "POST",
        "/http/UploadImage",
        "",
        _JSON,
        b'{"filename": "p.png", "content": "' + _PIXEL.encode() + b'"}',
        _AUTH,
    ),
    HttpSeed(
        "POST",
        "/http/UploadImage",
        "",
        "multipart/form-data; boundary=b0undary",
        b'--b0undary\r\nContent-Disposition: form-data; name="content"; filename="p.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + base64.b64decode(_PIXEL) + b"\r\n--b0undary--\r\n",
        _AUTH,
    ),
    HttpSeed("GET", "/http/DescribeRequest", "", headers=(("X-Forwarded-For", "192.0.2.1"),)),
    HttpSeed("GET", "/images/{image}", headers=(*_AUTH, ("Range", "bytes=0-9"))),
    HttpSeed("GET", "/images/{image}", headers=(*_AUTH, ("If-None-Match", '"x"'))),
    HttpSeed("HEAD", "/images/{image}", headers=_AUTH),
    HttpSeed("POST", "/xmlrpc", "", "text/xml", xmlrpc.client.dumps(("Ada",), "Greet").encode()),
    HttpSeed(
        "POST",
        "/xmlrpc",
        "",
        "text/xml",
        xmlrpc.client.dumps(
            ({"first_name": "Ada", "last_name": "Lovelace", "age": 36},), "EchoPerson"
        ).encode(),
    ),
    HttpSeed(
        "POST",
        "/xmlrpc",
        "",
        "text/xml",
        xmlrpc.client.dumps(
            ("p.png", xmlrpc.client.Binary(base64.b64decode(_PIXEL)), "image/png"), "UploadImage"
        ).encode(),
        _AUTH,
    ),
    HttpSeed(
        "POST",
        "/xmlrpc",
        "",
        "text/xml",
        xmlrpc.client.dumps(({"page_size": 2},), "ListImages").encode(),
        _AUTH,
    ),
    HttpSeed(
        "POST",
        "/xmlrpc",
        "",
        "text/xml",
        xmlrpc.client.dumps(("GetTime",), "system.methodSignature").encode(),
    ),
    HttpSeed("GET", "/soap", "wsdl"),
    HttpSeed("GET", "/healthz"),
    HttpSeed("GET", "/metrics"),
]
