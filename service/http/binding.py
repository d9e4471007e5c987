"""The same operations over plain HTTP: parameters in, JSON (or XML) out.

``GET /http/<Operation>?first_name=Ada&last_name=Lovelace&age=36``, or a POST
of the same parameters URL-encoded (``application/x-www-form-urlencoded``), as
an HTML form with a file field sends them (``multipart/form-data``: ``curl -F
content=@photo.png .../http/UploadImage``) or as a JSON object
(``application/json``): the way the seeds called their services. A parameter of a structured type may be given flat (``first_name``)
or dotted (``person.first_name``), or as a nested object in JSON.

Nothing here knows an operation: the parameters become the operation's
request element, and from there the call takes the SOAP path through the
dispatcher, with the same schema validation, authentication (HTTP Basic),
codecs and operations. The response element is then read back as JSON,
guided by the same spyne types (numbers as numbers, repeated elements as
lists, base64Binary as base64 text). ``?format=xml`` (or ``Accept:
application/xml``) answers with the response element itself.

Faults keep their codes and messages, as a JSON body ``{"fault": {"code",
"message", "detail"}}`` with an HTTP status that says the same:
400 for a wrong request, 401 without credentials, 404 for an unknown
operation or image, 405, 413, 415, 422 for a rejected image, 500 for our bug.
"""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import parse_qs

import multipart
from lxml import etree
from spyne import ComplexModelBase
from spyne.model.primitive import Boolean, Decimal, Double, Float, Integer

from service import ns
from service.answer import Answer
from service.contract import internals
from service.contract.exchange import HttpSeen
from service.faults import (
    InternalFault,
    MalformedRequestFault,
    MethodNotAllowedFault,
    ServiceFault,
    UnknownOperationFault,
    UnsupportedMediaFault,
    ValidationFault,
    xml_safe,
)
from service.soap.dispatch import Dispatcher
from service.soap.envelope import Request, SoapVersion

log = logging.getLogger("soap_service.http")

PREFIX: Final = "/http/"
JSON_TYPE: Final = "application/json"
XML_TYPE: Final = "application/xml; charset=utf-8"
FORM_TYPE: Final = "application/x-www-form-urlencoded"
MULTIPART_FORM_TYPE: Final = "multipart/form-data"
#: Query parameters that steer the answer instead of filling the request
RESERVED: Final = frozenset({"format"})
#: The methods an operation's route takes, for the Allow header of a 405
ALLOW: Final = (("Allow", "GET, HEAD, POST"),)


def parameters(
    method: str,
    query: str,
    content_type: str,
    read_body: Callable[[], bytes],
    max_parameters: int = 1000,
) -> tuple[dict[str, Any], bool]:
    """The request's parameters, and whether the answer should be XML.

    More than ``max_parameters`` URL-encoded parameters, or names (``:``) in a JSON
    body, is a fault before any is made."""
    query_params = _single(_parse_qs(query, max_parameters))
    wants_xml = query_params.pop("format", "json").lower() == "xml"
    if method in ("GET", "HEAD"):
        return query_params, wants_xml
    if method != "POST":
        raise MethodNotAllowedFault(f"Use GET or POST on {PREFIX}<Operation>, not {method}.")
    media_type = content_type.split(";")[0].strip().lower()
    body = read_body()
    if media_type == JSON_TYPE:
        # every name of every object is followed by a ":" (5 MiB of them made a worker
        # 78 MiB bigger); values that are an operation's parameters have few in them
        if body.count(b":") > max_parameters:
            raise MalformedRequestFault(
                f"The JSON body has more than {max_parameters} names; an operation takes a few"
                " parameters."
            )
        try:
            document = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError) as error:
            raise MalformedRequestFault(f"The body is not valid JSON: {error}.") from None
        except RecursionError:  # arrays or objects nested deeper than Python recurses
            raise MalformedRequestFault(
                "The JSON body is nested too deeply; parameters are flat values."
            ) from None
        if not isinstance(document, dict):
            raise MalformedRequestFault("The JSON body must be an object of parameters.")
        return {**query_params, **document}, wants_xml
    if media_type == MULTIPART_FORM_TYPE:
        return {**query_params, **_form_data(content_type, body, max_parameters)}, wants_xml
    if media_type in (FORM_TYPE, ""):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedRequestFault("The form body is not UTF-8.") from None
        return {**query_params, **_single(_parse_qs(text, max_parameters))}, wants_xml
    raise UnsupportedMediaFault(
        f"Content-Type {media_type} is not accepted here; send {FORM_TYPE},"
        f" {MULTIPART_FORM_TYPE} or {JSON_TYPE}."
    )


def _form_data(content_type: str, body: bytes, most: int) -> dict[str, Any]:
    """The fields of a multipart/form-data body, as an HTML form with a file field sends
    it (``curl -F content=@photo.png``). A file's bytes go on as base64 text, like any
    base64Binary parameter; a file in ``content`` also gives ``filename`` and
    ``content_type`` from its part, unless the form has fields of those names."""
    boundary = multipart.parse_options_header(content_type)[1].get("boundary")
    if not boundary:
        raise MalformedRequestFault(f"{MULTIPART_FORM_TYPE} needs a boundary parameter.")
    fields: dict[str, list[str]] = {}
    uploaded: multipart.MultipartPart | None = None
    try:
        parser = multipart.MultipartParser(
            io.BytesIO(body),
            boundary,
            len(body),
            part_limit=most,
            spool_limit=len(body) + 1,  # the body is in memory already: no temporary files
            memory_limit=len(body) + 1,
        )
        for part in parser:
            if part.filename is not None:
                value = base64.b64encode(part.raw).decode("ascii")
                if part.name == "content":
                    uploaded = part
            else:
                value = part.raw.decode("utf-8")
            fields.setdefault(part.name, []).append(value)
    except multipart.MultipartError as error:
        raise MalformedRequestFault(
            f"The form is not valid {MULTIPART_FORM_TYPE}: {error}"
        ) from None
    except UnicodeDecodeError:
        raise MalformedRequestFault("A text field of the form is not UTF-8.") from None
    if uploaded is not None:
        if "filename" not in fields and uploaded.filename:
            fields["filename"] = [uploaded.filename]
        if "content_type" not in fields and uploaded.content_type:
            fields["content_type"] = [uploaded.content_type]
    return _single(fields)


def _parse_qs(text: str, most: int) -> dict[str, list[str]]:
    """URL-encoded parameters; more than ``most`` is a fault before any is made (a
    4 MiB form of 600,000 empty fields made a worker 120 MiB bigger)."""
    try:
        return parse_qs(text, keep_blank_values=True, max_num_fields=most)
    except ValueError:
        raise MalformedRequestFault(
            f"The request has more than {most} parameters; an operation takes a few."
        ) from None


def _single(parsed: Mapping[str, list[str]]) -> dict[str, Any]:
    for name, values in parsed.items():
        if len(values) > 1:
            raise ValidationFault(name, "is given more than once")
    return {name: values[0] for name, values in parsed.items()}


def build_element(op_name: str, message: Any, params: Mapping[str, Any]) -> etree._Element:
    """The operation's request element, filled from the parameters by the message type."""
    wrapper = etree.Element(f"{{{ns.TNS}}}{op_name}", nsmap={"tns": ns.TNS})
    _fill(wrapper, message, params, "", op_name)
    return wrapper


def _leaf_names(cls: Any, prefix: str = "") -> list[str]:
    names = []
    for name, kind in internals.fields(cls).items():
        if issubclass(kind, ComplexModelBase):
            names += _leaf_names(kind, f"{prefix}{name}.")
        else:
            names.append(prefix + name)
    return names


def _fill(
    parent: etree._Element, cls: Any, params: Mapping[str, Any], path: str, where: str
) -> set[str]:
    """Adds ``cls``'s fields under ``parent``; returns the parameter names used. A
    field is found by its dotted path (``person.first_name``) or its own name."""
    used: set[str] = set()
    for name, kind in internals.fields(cls).items():
        dotted = path + name
        key = next((k for k in (dotted, name) if k in params), None)
        tag = f"{{{ns.TNS}}}{name}"
        if issubclass(kind, ComplexModelBase):
            child = etree.SubElement(parent, tag)
            value = params[key] if key is not None else None
            if isinstance(value, Mapping):
                used.add(key)  # type: ignore[arg-type]
                _fill(child, kind, value, "", f"{where}.{name}")
            else:
                used |= _fill(child, kind, params, dotted + ".", where)
            if len(child) == 0 and kind.Attributes.min_occurs == 0:
                parent.remove(child)
            continue
        if key is None:
            continue
        used.add(key)
        if params[key] is None:
            continue
        element = etree.SubElement(parent, tag)
        try:
            element.text = _text(params[key])
        except TypeError:
            raise ValidationFault(dotted, "must be text, a number or true/false") from None
        except ValueError:  # lxml: not XML-compatible text
            raise ValidationFault(dotted, "has characters XML cannot carry") from None
    if not path:
        unknown = sorted(set(params) - used - RESERVED)
        if unknown:
            expected = ", ".join(_leaf_names(cls)) or "no parameters"
            raise ValidationFault(
                xml_safe(unknown[0]), f"is not a parameter of {where} (it takes {expected})"
            )
    return used


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return value
    raise TypeError("not a scalar")


def to_json(element: etree._Element, cls: Any) -> Any:
    """An element of the response, as JSON values chosen by its spyne type."""
    if issubclass(cls, ComplexModelBase):
        fields = internals.fields(cls)
        result: dict[str, Any] = {
            name: [] for name, kind in fields.items() if kind.Attributes.max_occurs > 1
        }
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            kind = fields.get(name)
            if kind is None:
                continue
            value = to_json(child, kind)
            if kind.Attributes.max_occurs > 1:
                result[name].append(value)
            else:
                result[name] = value
        return result
    text = element.text or ""
    if issubclass(cls, Boolean):
        return text.strip() in ("true", "1")
    if issubclass(cls, Integer):
        return int(text)
    if issubclass(cls, Double | Float | Decimal):
        return float(text)
    return text


def fault_json(fault: ServiceFault) -> bytes:
    detail = fault.typed_detail()
    document: dict[str, Any] = {"code": fault.code, "message": fault.message}
    if detail is not None:
        document["detail"] = {
            name: getattr(detail, name)
            for name in internals.fields(type(detail))
            if getattr(detail, name)
        }
    return json.dumps({"fault": document}, ensure_ascii=False, default=str).encode()


class HttpBinding:
    def __init__(self, dispatcher: Dispatcher, max_parameters: int = 1000) -> None:
        self.dispatcher = dispatcher
        self._ops = dispatcher.operations
        self.max_parameters = max_parameters

    def answer(
        self,
        op_name: str,
        method: str,
        environ: Mapping[str, Any],
        read_body: Callable[[], bytes],
        seen: Callable[[], HttpSeen] | None = None,
    ) -> Answer:
        op = self._ops.get(op_name)
        wants_xml = "application/xml" in environ.get("HTTP_ACCEPT", "")
        try:
            if op is None:
                raise UnknownOperationFault(
                    f"No operation {xml_safe(op_name)!r}; this service has {', '.join(self._ops)}."
                )
            params, asked_xml = parameters(
                method,
                environ.get("QUERY_STRING", ""),
                environ.get("CONTENT_TYPE", ""),
                read_body,
                self.max_parameters,
            )
            wants_xml = wants_xml or asked_xml
            element = build_element(op.name, op.in_message, params)
        except ServiceFault as fault:
            return self._fault(fault, op_name if op else None)
        except Exception as error:  # our bug: a typed 500, said nothing of to the client
            log.error("internal error reading %s: %s", op_name, type(error).__name__, exc_info=True)
            return self._fault(InternalFault(), op_name if op else None)
        request = Request(SoapVersion.SOAP11, None, element)
        outcome = self.dispatcher.respond(
            request, None, environ.get("HTTP_AUTHORIZATION"), seen, "HTTP"
        )
        if outcome.fault is not None:
            return self._fault(outcome.fault, op.name)
        wrapper = outcome.envelope[-1][0]  # Envelope/Body/<Op>Response
        if wants_xml:
            body = etree.tostring(wrapper, xml_declaration=True, encoding="utf-8")
            return Answer.whole(200, XML_TYPE, body, operation=op.name)
        document = to_json(wrapper, op.out_message)
        body = json.dumps(document, ensure_ascii=False).encode()
        return Answer.whole(200, JSON_TYPE, body, operation=op.name)

    @staticmethod
    def _fault(fault: ServiceFault, op_name: str | None) -> Answer:
        allow = ALLOW if isinstance(fault, MethodNotAllowedFault) else ()  # RFC 9110, 15.5.6
        return Answer.whole(
            fault.http_status_plain,
            JSON_TYPE,
            fault_json(fault),
            *fault.http_headers,
            *allow,
            operation=op_name,
            fault=fault,
        )
