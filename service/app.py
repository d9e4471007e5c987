"""The WSGI application: HTTP in, SOAP out.

``create_app(settings)`` is the one place where the parts meet: the HTTP
rules (methods, media types, the body limit), the hardened parser, the SOAP
framing and the dispatcher. Every error a client can cause leaves here as a
SOAP fault; nothing leaves as a bare error page. Each port takes either SOAP
version and answers in the request's: its Content-Type decides (text/xml or
application/soap+xml, or an MTOM root part's), the port's own version for a fault
raised before the Content-Type is read.

Logging: one line per request with a request id (taken from ``X-Request-ID``
when it is a plain token, else made here, and echoed back), the port, the
operation, the outcome, the fault code and the duration. Never a body, never
a header value other than the request id.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import parse_qs

from lxml import etree

from service import ns
from service.answer import Answer
from service.config import Settings
from service.contract.openapi import render_openapi
from service.contract.operations import Scope, build_application
from service.contract.wsdl import SOAP11_PATH, SOAP11_VIEW, SOAP12_PATH, render_wsdl
from service.faults import (
    InternalFault,
    MethodNotAllowedFault,
    RequestTooLargeFault,
    ServiceFault,
    ShuttingDownFault,
    UnsupportedMediaFault,
)
from service.http import forwarding, helppage, xmlrpc
from service.http.binding import PREFIX as HTTP_PREFIX
from service.http.binding import HttpBinding
from service.http.downloads import OPERATION as DOWNLOAD
from service.http.downloads import SAFE_CONTENT, download
from service.observability import metrics
from service.observability.accesslog import JsonFormatter, access_log
from service.observability.accesslog import request_id as current_request_id
from service.security import signature
from service.security.identity import Policy
from service.security.keys import PageTokens
from service.security.signature import SignaturePolicy
from service.security.signing import ResponseSigner
from service.security.throttle import Throttle, ThrottleLimits, client_address
from service.security.usernametoken import FieldLimits, Freshness
from service.security.users import open_users
from service.soap import addressing, spooled
from service.soap import mtom as mtom_format
from service.soap.dispatch import Dispatcher, Outcome
from service.soap.envelope import SoapVersion, http_status, open_envelope
from service.soap.hardening import Limits, check_headers, parse_request
from service.storage import open_store

if TYPE_CHECKING:
    from service.storage.postgres import PostgresImageStore

StartResponse = Callable[..., Any]
Environ = dict[str, Any]

PORTS: Final = {SOAP11_PATH: SoapVersion.SOAP11, SOAP12_PATH: SoapVersion.SOAP12}
_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_ACCEPTED_MEDIA: Final = {
    SoapVersion.SOAP11: ("text/xml",),
    SoapVersion.SOAP12: ("application/soap+xml",),
}
#: the SOAP version each SOAP media type says (either port takes either)
_MEDIA_VERSION: Final = {
    media: version for version, medias in _ACCEPTED_MEDIA.items() for media in medias
}
_READ_CHUNK: Final = 1024 * 1024
IMAGES_PREFIX: Final = "/images/"
log = logging.getLogger("soap_service")


class _RequestIds:
    """Request ids made here: a random prefix per process, then a count (no syscall
    per request). granian forks its workers from a process that has imported this
    module, so each forked child draws a prefix of its own."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self._prefix = uuid.uuid4().hex[:16]
        self._count = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._count):08x}"


_request_ids: Final = _RequestIds()


class SoapApplication:
    def __init__(self, settings: Settings, codecs: bool = True, stream: bool = True) -> None:
        """``codecs=False``: every call through spyne's own path (for the differential
        tests; see ``service.contract.codec``). ``stream=False``: GetImage's bytes read
        whole into the answer, the whole-document path (for the differential tests; see
        ``service.soap.streamed``)."""
        self.settings = settings
        #: set when the worker stops (service.rsgi): new requests are refused, /readyz 503
        self.draining = False
        self.limits = Limits.from_settings(settings)
        spyne_app = build_application()
        self.store = open_store(settings.database_url, str(settings.data_dir))
        # with PostgreSQL, users, nonces and failure counts are the database's, shared
        # by every instance; with SQLite, users.sqlite3's and each worker's
        shared = cast("PostgresImageStore", self.store) if settings.database_url else None
        self.users = open_users(settings, shared)
        self.policy = Policy.parse(
            settings.anonymous_operations,
            Freshness(settings.max_clock_skew, settings.token_lifetime),
            FieldLimits.from_settings(settings),
            Throttle(ThrottleLimits.from_settings(settings), shared=shared),
            SignaturePolicy.from_settings(settings),
        )
        self.dispatcher = Dispatcher(
            spyne_app,
            Scope(
                settings=settings,
                store=self.store,
                page_tokens=PageTokens.from_key_file(settings.secret_key_path),
            ),
            self.users,
            self.policy,
            self.limits.max_text_length,
            codecs=codecs,
            stream=stream,
        )
        self.wsdl = render_wsdl(spyne_app, settings.base_url)
        #: ?wsdl=soap11: the same contract without the SOAP 1.2 binding and port
        self.wsdl_soap11 = render_wsdl(spyne_app, settings.base_url, soap12=False)
        #: GET /openapi.json: /http/<Operation> described as OpenAPI
        self.openapi = render_openapi(
            spyne_app, settings.base_url, self.policy.anonymous_operations
        )
        #: signs the responses to signed requests; its certificate is GET /certificate.pem
        self.response_signer = ResponseSigner.from_settings(settings)
        self.http = HttpBinding(self.dispatcher, settings.max_parameters)
        #: what service.soap.spooled may leave in the spool
        self._base64_tags = self.dispatcher.base64_tags
        #: what a wsa:Action may name: the operations' SOAPActions (service.soap.addressing)
        self._actions = frozenset(map(ns.soap_action, self.dispatcher.operation_names))
        self.xmlrpc = xmlrpc.XmlRpcBinding(self.dispatcher, self.limits)
        forwarding.trusted_networks(settings.trusted_proxies)  # a wrong entry fails at startup
        self.metrics = metrics.Metrics(
            [*self.dispatcher.operation_names, DOWNLOAD],
            Path(settings.metrics_dir) if settings.metrics_dir else None,
        )
        self.help_page = helppage.render(
            self.dispatcher.operations.values(),
            self.policy.anonymous_operations,
            settings.base_url,
        )

    def close(self) -> None:
        """Close the stores' connections (an application embedded in a longer-lived process)."""
        self.users.close()
        self.store.close()
        self.metrics.close()

    def __enter__(self) -> SoapApplication:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI face (in-process callers and tests; ``serve`` uses ``service.rsgi``)."""
        answer, headers = self.handle(environ)
        start_response(_status_line(answer.status), headers)
        return () if environ.get("REQUEST_METHOD") == "HEAD" else answer.body

    def handle(self, environ: Environ) -> tuple[Answer, list[tuple[str, str]]]:
        """A complete request in (a WSGI environ whose ``wsgi.input`` holds the whole
        body), its answer and every response header out; the access line is written."""
        started = time.perf_counter()
        request_id = environ.get("HTTP_X_REQUEST_ID", "")
        if not _REQUEST_ID.fullmatch(request_id):
            request_id = _request_ids.next()
        current_request_id.set(request_id)
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            # whom the credential throttle counts failures against (security.throttle)
            peer, forwarded = forwarding.client_addresses(environ, self.settings.trusted_proxies)
            client_address.set(forwarded or (peer if environ.get("REMOTE_ADDR") else None))
            port, answer = self._answer(environ, method, request_id)
        except Exception as error:  # our bug, on any route: a typed 500 and the access line
            log.error("internal error: %s", type(error).__name__, exc_info=True)
            fault = InternalFault()
            port = "-"
            answer = Answer.whole(500, _TEXT, f"{fault.message}\n".encode(), fault=fault)
        headers = list(answer.headers)
        if answer.length is not None:
            headers.append(("Content-Length", str(answer.length)))
        headers.append(("X-Request-ID", request_id))
        self._log(request_id, method, port, answer, started)
        return answer, headers

    def _answer(self, environ: Environ, method: str, request_id: str) -> tuple[str, Answer]:
        """The route a request takes, and its answer; ``port`` names the route in the log."""
        path = environ.get("PATH_INFO", "") or "/"
        port = path.rstrip("/") or "/"
        version = PORTS.get(port)
        if version is not None:
            view = _wsdl_view(environ) if method in ("GET", "HEAD") else None
            if view is not None:
                wsdl = self.wsdl_soap11 if view.lower() == SOAP11_VIEW else self.wsdl
                return port, Answer.whole(200, "text/xml; charset=utf-8", wsdl)
            if method in ("GET", "HEAD") and _is_browser(environ):
                return port, Answer.whole(200, _HTML, self.help_page)
            return port, self._soap(environ, method, version, request_id)
        if path.startswith(IMAGES_PREFIX):
            # every answer of the route says nosniff and the sandboxing CSP, refusals too
            if method not in ("GET", "HEAD"):
                return "/images", Answer.whole(
                    405, _TEXT, b"Use GET or HEAD here.\n", ("Allow", "GET, HEAD"), *SAFE_CONTENT
                )
            if self.draining:
                fault = ShuttingDownFault()
                message = f"{fault.message}\n".encode()
                return "/images", Answer.whole(
                    503, _TEXT, message, *fault.http_headers, *SAFE_CONTENT, fault=fault
                )
            image_id = path[len(IMAGES_PREFIX) :]
            return "/images", download(image_id, environ, self.store, self.users, self.policy)
        if port == xmlrpc.PATH:
            answer = self.xmlrpc.answer(
                method,
                environ,
                lambda: self._read_body(environ),
                lambda: forwarding.seen(environ, self.settings.trusted_proxies, request_id),
            )
            return xmlrpc.PATH, answer
        if path.startswith(HTTP_PREFIX):
            answer = self.http.answer(
                path[len(HTTP_PREFIX) :],
                method,
                environ,
                lambda: self._read_body(environ),
                lambda: forwarding.seen(environ, self.settings.trusted_proxies, request_id),
            )
            return "/http", answer
        return (path if path in _KNOWN_PATHS else "-"), self._other(method, path)

    def _log(self, request_id: str, method: str, port: str, answer: Answer, started: float) -> None:
        """The access line and the metrics of one answered request."""
        seconds = time.perf_counter() - started
        status = answer.status
        fault = answer.fault
        code = fault.code if fault else f"HTTP.{status}" if status >= 400 else None
        self.metrics.observe(port, answer.operation, code, seconds)
        access_log.write(
            (
                ("request_id", request_id),
                ("method", method),
                ("path", port),
                ("operation", answer.operation or "-"),
                ("outcome", "fault" if code else "ok"),
                ("fault", code or "-"),
                ("status", status),
                ("encoding", answer.encoding),
                ("reply", answer.reply),
                ("ms", round(seconds * 1000, 2)),
            )
        )

    def _soap(self, environ: Environ, method: str, version: SoapVersion, request_id: str) -> Answer:
        """The answer to a request on a SOAP port, faults included; never raises a fault."""
        mtom: mtom_format.Package | None = None
        includes = 0
        addressed: addressing.Addressing | None = None
        signed = False
        spliced: spooled.Spliced | None = None
        try:
            if method != "POST":
                raise MethodNotAllowedFault(
                    f"Send SOAP requests with POST; GET {environ.get('PATH_INFO')}?wsdl"
                    " returns the WSDL."
                )
            media_type, params = _content_type(environ.get("CONTENT_TYPE", ""))
            if media_type == mtom_format.MULTIPART:
                mtom = self._unpack_spooled(environ, params, version)
                if mtom is None:
                    mtom = mtom_format.unpack(
                        self._read_body(environ),
                        dict(params),
                        _ACCEPTED_MEDIA[version][0],
                        _MEDIA_VERSION,
                    )
                version = _MEDIA_VERSION[mtom.soap_media]
                root = parse_request(mtom.root, self.limits)
                includes = mtom_format.count_includes(root)
            else:
                said = _MEDIA_VERSION.get(media_type)
                if said is None:
                    _check_media(media_type, version)  # the fault that says why
                else:
                    version = said
                spliced = self._splice(environ)
                if spliced is None:
                    root = parse_request(self._read_body(environ), self.limits)
                else:
                    root = spliced.root
            try:
                request = open_envelope(root, version, mtom.attachments if mtom else None)
            except ServiceFault:
                if spliced is None or spliced.restored:
                    raise
                spliced.restore()  # the fault must be the whole tree's
                request = open_envelope(root, version, None)
            if version is SoapVersion.SOAP11:
                soap_action = environ.get("HTTP_SOAPACTION", "").strip().strip('"')
            else:
                soap_action = (mtom.action if mtom else params.get("action")) or ""
            if request.header is not None:
                check_headers(request.header, self.limits)
                addressed = addressing.read(request.header, self._actions, soap_action or None)
                if addressed is not None:
                    soap_action = addressed.action
                signature.signer.set(None)  # identify sets it when a signature verifies
            outcome = self.dispatcher.respond(
                request,
                soap_action or None,
                environ.get("HTTP_AUTHORIZATION"),
                lambda: forwarding.seen(environ, self.settings.trusted_proxies, request_id),
                spooled=(
                    {spliced.element: spliced.value}
                    if spliced is not None and not spliced.restored
                    else None
                ),
            )
            if request.header is not None and signature.signer.get() is not None:
                signed = True
        except ServiceFault as early:
            outcome = self.dispatcher.fault_outcome(version, early)
            partial = getattr(early, "partial", None)
            if partial is not None:  # an addressing fault: its reply is addressed too
                addressed = addressing.Addressing(partial.namespace, "", partial.message_id or "")
        if addressed is not None:
            outcome = _addressed(outcome, version, addressed)
        if signed:  # the reply to a verified signature is signed too, and sent as plain XML
            envelope = self.response_signer.sign(outcome.envelope)  # streamed values read
            outcome = outcome._replace(document=envelope, binary=(), streams=())
        status = http_status(version, outcome.fault) if outcome.fault else 200
        # mtom: binary came as XOP parts; mime: an MTOM package with everything inline
        came = "xml" if mtom is None else "mtom" if includes else "mime"
        fault_headers = outcome.fault.http_headers if outcome.fault else ()
        if isinstance(outcome.fault, MethodNotAllowedFault):  # RFC 9110: a 405 sends Allow
            allow = "GET, HEAD, POST" if _wsdl_view(environ) is not None else "POST"
            fault_headers = (*fault_headers, ("Allow", allow))
        if signed or (
            mtom is None and not mtom_format.accepts_mtom(environ.get("HTTP_ACCEPT", ""))
        ):
            body, length = outcome.xml()  # streamed values read while it is sent
            return _soap_answer(
                status,
                [("Content-Type", version.content_type), *fault_headers],
                body,
                length,
                outcome.operation,
                outcome.fault,
                came,
                "xml",
            )
        content_type, chunks, length = outcome.mtom(_ACCEPTED_MEDIA[version][0])
        return Answer(
            status,
            [("Content-Type", content_type), *fault_headers],
            chunks,
            length,
            outcome.operation,
            outcome.fault,
            came,
            "mtom",
        )

    def _spooled_body(self, environ: Environ) -> tuple[Any, int] | None:
        """The spooled body and its length when it is large enough to be read from the
        spool (``Settings.stream_threshold``) and _read_body would take it; else None."""
        threshold = self.settings.stream_threshold
        length_header = environ.get("CONTENT_LENGTH") or ""
        if not threshold or not length_header.isdigit() or int(length_header) < threshold:
            return None
        encoding = environ.get("HTTP_CONTENT_ENCODING")
        if encoding and encoding.lower() != "identity":
            return None  # _read_body's fault
        length = int(length_header)
        stream = environ["wsgi.input"]
        if length > self.settings.body_limit or not getattr(stream, "seekable", bool)():
            return None
        return stream, length

    def _splice(self, environ: Environ) -> spooled.Spliced | None:
        """A large plain body parsed with its long base64 text left in the spool
        (``service.soap.spooled``), or None: then it is read whole."""
        body = self._spooled_body(environ)
        if body is None:
            return None
        stream, length = body
        spliced = spooled.splice(stream, length, self.limits, self._base64_tags)
        if spliced is None:
            stream.seek(0)
        return spliced

    def _unpack_spooled(
        self, environ: Environ, params: Mapping[str, str], version: SoapVersion
    ) -> mtom_format.Package | None:
        """A large MTOM body taken apart with its largest part left in the spool
        (``service.soap.spooled``), or None: then it is read whole."""
        body = self._spooled_body(environ)
        if body is None:
            return None
        stream, length = body
        package = spooled.unpack_spooled(
            stream, length, dict(params), _ACCEPTED_MEDIA[version][0], _MEDIA_VERSION
        )
        if package is None:
            stream.seek(0)
        return package

    def _read_body(self, environ: Environ) -> bytes:
        settings = self.settings
        known = self.__dict__.get("_body_limit")  # (settings, its body_limit): worked out once
        if known is None or known[0] is not settings:
            known = self.__dict__["_body_limit"] = (settings, settings.body_limit)
        limit: int = known[1]
        encoding = environ.get("HTTP_CONTENT_ENCODING")
        if encoding and encoding.lower() != "identity":
            raise UnsupportedMediaFault("Content-Encoding is not supported; send the body as is.")
        stream = environ["wsgi.input"]
        length_header = environ.get("CONTENT_LENGTH") or ""
        if length_header:
            try:
                length = int(length_header)
            except ValueError:
                raise RequestTooLargeFault("The Content-Length header is not a number.") from None
            if length > limit:
                raise RequestTooLargeFault(
                    f"The request body has {length} bytes; the limit is {limit}."
                )
            return stream.read(length)  # type: ignore[no-any-return]
        chunks: list[bytes] = []
        size = 0
        while chunk := stream.read(_READ_CHUNK):
            size += len(chunk)
            if size > limit:
                raise RequestTooLargeFault(f"The request body is over the limit of {limit} bytes.")
            chunks.append(chunk)
        return b"".join(chunks)

    def _other(self, method: str, path: str) -> Answer:
        """The pages around the SOAP ports: help, health, readiness, metrics."""
        text = "text/plain; charset=utf-8"
        if method not in ("GET", "HEAD") and path in _KNOWN_PATHS:
            return Answer.whole(405, text, b"Use GET here.\n", ("Allow", "GET, HEAD"))
        if path in ("/", "/index.html"):
            return Answer.whole(200, _HTML, self.help_page)
        if path == "/healthz":  # the process is up and answering
            return Answer.whole(200, text, b"ok\n")
        if path == "/readyz":  # ... and can reach its store, and is not stopping
            if self.draining:
                return Answer.whole(503, text, b"not ready: stopping\n")
            try:
                self.store.ping()
            except Exception as error:
                log.warning("not ready: the image store is unreachable (%s)", type(error).__name__)
                reason = f"not ready: the image store is unreachable ({type(error).__name__})\n"
                return Answer.whole(503, text, reason.encode())
            return Answer.whole(200, text, b"ready\n")
        if path == "/metrics":
            return Answer.whole(200, metrics.CONTENT_TYPE, self.metrics.render())
        if path == "/certificate.pem":  # what the responses to signed requests are signed with
            return Answer.whole(200, "application/x-pem-file", self.response_signer.certificate_pem)
        if path == "/openapi.json":
            return Answer.whole(200, "application/json", self.openapi)
        if path == "/soapui-project.xml":
            return Answer.whole(200, "application/xml", _soapui(), _SOAPUI_DISPOSITION)
        return Answer.whole(
            404, text, b"Not found. The service is at /soap (SOAP 1.1) and /soap12 (SOAP 1.2).\n"
        )


def _addressed(outcome: Outcome, version: SoapVersion, request: addressing.Addressing) -> Outcome:
    """``outcome`` with the reply's WS-Addressing headers (service.soap.addressing); a tree
    keeps its streamed values unread (they are sent as before)."""
    document = outcome.document
    envelope = document if isinstance(document, etree._Element) else outcome.envelope
    addressing.write_reply(
        envelope,
        version,
        request.namespace,
        addressing.reply_action(outcome.operation, outcome.fault, request.namespace),
        request.message_id or None,
        request.reference_parameters,
    )
    return outcome._replace(document=envelope)


@lru_cache(maxsize=64)
def _content_type(header: str) -> tuple[str, Mapping[str, str]]:
    """``parse_media_type``, remembered: clients send the same few Content-Types."""
    media_type, params = mtom_format.parse_media_type(header)
    return media_type, MappingProxyType(params)


def _answer_maker() -> Callable[..., Answer]:
    """``Answer(...)`` for the SOAP ports' every answer, made without the frozen
    dataclass's ``__init__`` (an ``object.__setattr__`` per field: 4 µs for its eight,
    a tenth of a small call): the same fields in the same order, so the same object
    (tests/test_app_soap_answer.py). Answer's own constructor whenever Answer is not
    that plain frozen dataclass (slots, a ``__post_init__``, other fields)."""
    names = ("status", "headers", "body", "length", "operation", "fault", "encoding", "reply")
    plain = (
        dataclasses.is_dataclass(Answer)
        and tuple(f.name for f in dataclasses.fields(Answer)) == names
        and not hasattr(Answer, "__slots__")
        and not hasattr(Answer, "__post_init__")
        and Answer.__new__ is object.__new__
    )
    if not plain:
        return Answer
    new = object.__new__

    def make(
        status: int,
        headers: list[tuple[str, str]],
        body: Iterable[bytes],
        length: int | None,
        operation: str | None,
        fault: ServiceFault | None,
        encoding: str,
        reply: str,
    ) -> Answer:
        answer = new(Answer)
        answer.__dict__.update(
            status=status,
            headers=headers,
            body=body,
            length=length,
            operation=operation,
            fault=fault,
            encoding=encoding,
            reply=reply,
        )
        return answer

    return make


_soap_answer: Final = _answer_maker()


def _check_media(media_type: str, version: SoapVersion) -> None:
    """The fault for a Content-Type that is no SOAP version's (none when it is one)."""
    if media_type in _MEDIA_VERSION:
        return
    raise UnsupportedMediaFault(
        f"Content-Type {media_type or '(none)'} is not accepted here; send"
        f" {_ACCEPTED_MEDIA[version][0]} (SOAP {version.value}),"
        f" {_ACCEPTED_MEDIA[version.other][0]} (SOAP {version.other.value})"
        f' or MTOM (multipart/related; type="{mtom_format.XOP_MEDIA}").'
    )


_HTML: Final = "text/html; charset=utf-8"
_TEXT: Final = "text/plain; charset=utf-8"
_KNOWN_PATHS: Final = frozenset(
    {
        "/",
        "/index.html",
        "/healthz",
        "/readyz",
        "/metrics",
        "/soapui-project.xml",
        "/openapi.json",
        "/certificate.pem",
    }
)
_SOAPUI_DISPOSITION: Final = (
    "Content-Disposition",
    'attachment; filename="soap-service-soapui-project.xml"',
)


@lru_cache(maxsize=1)
def _soapui() -> bytes:
    """The SoapUI project shipped with the client package."""
    return resources.files("client").joinpath("soapui/soap-service-soapui-project.xml").read_bytes()


def _is_browser(environ: Environ) -> bool:
    """A GET of a SOAP port from a browser (it asks for HTML) gets the help page."""
    return "text/html" in environ.get("HTTP_ACCEPT", "")


def _wsdl_view(environ: Environ) -> str | None:
    """None unless the query asks for the WSDL (``?wsdl``, the key in any case); else the
    view it names: ``?wsdl=soap11`` the SOAP 1.1 view, "" (a bare ``?wsdl``) or any other
    value the full contract."""
    query = environ.get("QUERY_STRING", "")
    for key, values in parse_qs(query, keep_blank_values=True).items():
        if key.lower() == "wsdl":
            return values[0]
    return None


_REASONS: Final = {
    200: "OK",
    206: "Partial Content",
    304: "Not Modified",
    401: "Unauthorized",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Error')}"


def configure_logging(level: str, log_format: str = "text") -> None:
    """One handler for the service's own loggers, on stderr; bodies never reach it."""
    logger = logging.getLogger("soap_service")
    logger.setLevel(level.upper())
    json_lines = log_format.lower() == "json"
    access_log.json = json_lines
    if not logger.handlers:  # else an embedding application has chosen its own
        logger.addHandler(logging.StreamHandler())
        logger.propagate = False
        logger.handlers[0].setFormatter(
            JsonFormatter()
            if json_lines
            else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
        )


def create_app(settings: Settings | None = None) -> SoapApplication:
    """The WSGI application for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    if settings.log_format.lower() not in ("text", "json"):
        raise ValueError(f"log_format must be text or json, not {settings.log_format!r}")
    configure_logging(settings.log_level, settings.log_format)
    return SoapApplication(settings)
