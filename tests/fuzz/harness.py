"""What every fuzzer here checks: the service answers any bytes with a proper SOAP answer.

The property, for every request:
- the response is a well-formed envelope of the request's SOAP version (its
  Content-Type's, text/xml or application/soap+xml, on either port; an MTOM
  request's start-info or the port's; the port's for any other), with that
  version's media type, and its Body holds exactly one element;
- that element is a ``...Response`` in the contract's namespace with HTTP 200,
  or a Fault with a fault status (401, 405, 413, 415 or 500) whose code is not
  ``Server.Internal`` (an unhandled exception);
- nothing was logged at ERROR (the dispatcher logs unhandled exceptions there).
"""

from __future__ import annotations

import base64
import io
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
FAULT_STATUSES = {401, 405, 413, 415, 500}
PORTS = {"/soap": ns.SOAP11_ENV, "/soap12": ns.SOAP12_ENV}
MEDIA = {"/soap": "text/xml", "/soap12": "application/soap+xml"}
_ENVELOPES = {MEDIA[path]: env for path, env in PORTS.items()}


class ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Harness:
    app: SoapApplication
    errors: ErrorRecords
    #: the Content-Type of the last request ``call`` sent (``check`` reads the version in it)
    sent: str = ""

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
        logging.getLogger("soap_service.access").setLevel(logging.CRITICAL)
        return cls(app, errors)

    def close(self) -> None:
        logging.getLogger("soap_service").removeHandler(self.errors)
        self.app.close()

    def call(
        self, path: str, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        self.sent = content_type
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        seen: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
            seen["status"] = int(status.split()[0])
            seen["headers"] = dict(response_headers)

        data = b"".join(self.app(environ, start_response))
        return seen["status"], seen["headers"], data

    def check(self, path: str, status: int, headers: dict[str, str], body: bytes) -> None:
        assert not self.errors.records, self.errors.records[0].getMessage()
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
