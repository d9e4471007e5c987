"""The plain HTTP binding (``/http/<Operation>``) described as OpenAPI: ``GET /openapi.json``.

Rendered from the same spyne application as the WSDL (``service.contract.wsdl``), so the
two cannot disagree: the same operations and their documentation, the same types under
the same names, the same constraints (lengths, ranges, patterns, enumerations) and the
same required fields. What ``service.http.binding`` does with them is written down here:

- each operation is a path ``/http/<Operation>`` with a **GET** (its parameters in the
  query, structured ones flat: ``first_name``; the binding takes ``person.first_name``
  too) and a **POST** whose body is a JSON object shaped like the operation's request
  element (structures nested), an HTML form (``application/x-www-form-urlencoded``) or
  ``multipart/form-data`` (the flat parameters; binary ones may be a file part);
- the answer is ``{"<Operation>Result": ...}`` in JSON, as the binding writes the
  response element: integers and booleans as JSON numbers and booleans, a repeated
  element as a list (always present, perhaps empty), base64Binary as base64 text;
  ``Accept: application/xml`` (or ``?format=xml``, which the binding reserves and this
  description leaves out, so that a generated client always gets the JSON it parses)
  answers the response element as XML instead;
- a fault is ``{"fault": {"code", "message", "detail"}}`` with the status its class
  says (``http_status_plain`` in ``service.faults``): one response per status, said in
  words (``_STATUS_WORDS``: the codes /http answers with; a new status without words fails
  the render), and the statuses of declared faults carry their typed detail (the same
  types as the WSDL's fault details);
- operations that need a user say so with HTTP Basic security; the anonymous ones
  accept it too (credentials, when sent, are always checked).

**OpenAPI 3.0.3, not 3.1**: the description uses nothing 3.1 adds (nothing is
nullable; ranges are inclusive), and 3.0 is the version every maintained generator
and validator reads in full (openapi-python-client, openapi-generator, NSwag, Swagger UI),
while 3.1's JSON Schema 2020-12 is still read in part by several of them.

``render_openapi`` is deterministic: the same models give the same bytes. The server's
address (``servers``) is the only thing taken from the settings besides which
operations are anonymous; ``drift`` sets the address aside, as the WSDL's drift does.
``diff`` classifies the changes between two documents by the WSDL diff's rules
(``service.contract.diff``): see its docstring.
"""

from __future__ import annotations

import difflib
import inspect
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, Final

from spyne import (
    Boolean,
    ByteArray,
    ComplexModelBase,
    Date,
    DateTime,
    Double,
    Float,
    Integer,
    Integer16,
    Integer32,
    Integer64,
    Unicode,
)
from spyne.application import Application

from service import faults, ns
from service.config import Settings
from service.contract import internals
from service.contract.diff import Change, breaking_if, judge, narrowings
from service.contract.wsdl import ContractError, Operation, operations

OPENAPI_VERSION: Final = "3.0.3"
#: Where the binding serves the operations (``service.http.binding.PREFIX`` without its
#: slash; the contract knows no HTTP module, and a test holds the two equal)
HTTP_PATH: Final = "/http"
#: The query parameter that asks for XML (``service.http.binding.RESERVED``): described in
#: words only (a generated client that sent it could not parse the answer)
FORMAT_PARAMETER: Final = "format"
JSON_MEDIA: Final = "application/json"
XML_MEDIA: Final = "application/xml"
FORM_MEDIA: Final = "application/x-www-form-urlencoded"
MULTIPART_MEDIA: Final = "multipart/form-data"
#: The name of the HTTP Basic security scheme
BASIC: Final = "basic"
#: Operations anyone may call, unless the settings say otherwise
DEFAULT_ANONYMOUS: Final = frozenset(
    name.strip() for name in Settings().anonymous_operations.split(",") if name.strip()
)

#: Statuses any call may be answered with, whatever the operation: a wrong request,
#: wrong or missing credentials, a value over a limit, too many failed sign-ins, the
#: service stopping, our bug
_ANY_CALL: Final = (400, 401, 413, 429, 500, 503)
#: ... and a call with a body: its media type, its pace
_WITH_BODY: Final = (408, 415)
#: Headers some fault statuses carry (besides those of the fault classes themselves)
_HEADERS: Final = {
    "WWW-Authenticate": 'Basic realm="soap-service": send HTTP Basic credentials.',
    "Retry-After": "Seconds to wait before sending the request again.",
    "Allow": "The methods the route takes: GET, HEAD, POST.",
}
_STATUS_HEADERS: Final = {405: ("Allow",), 429: ("Retry-After",)}
#: What each fault status means on /http, and the codes it comes with there (faults only
#: the SOAP ports raise, such as VersionMismatch or wsa:*, are not named)
_STATUS_WORDS: Final = {
    400: "A wrong request: a value the contract refuses (Client.Validation, whose detail"
    " names the field and the reason), a parameter the operation does not take or given twice"
    " (Client.Validation), a body that is not what its Content-Type says"
    " (Client.MalformedRequest).",
    401: "Credentials missing, wrong or malformed (wsse:FailedAuthentication): send HTTP"
    " Basic. Credentials are checked whenever they are sent, on anonymous operations too.",
    404: "No image of that id that you may see (Client.NotFound, whose detail names it).",
    405: "A method other than GET, HEAD or POST (Client.MethodNotAllowed).",
    408: "The body came too slowly (Client.RequestTimeout).",
    413: "The body is over the service's limit (Client.RequestTooLarge), or a value or the"
    " number of parameters is over one of its limits (Client.LimitExceeded).",
    415: "A Content-Type other than JSON or an HTML form, or a Content-Encoding"
    " (Client.UnsupportedMedia).",
    422: "The image was refused (Client.ImageRejected, whose detail gives the reason).",
    429: "Too many failed sign-ins for this user or from this address lately"
    " (Client.TooManyAttempts): credentials are not checked until Retry-After has passed.",
    500: "The service failed (Server.Internal); the message says nothing more.",
    503: "The service is stopping and did not take the request in (Server.ShuttingDown):"
    " nothing was stored; send it again after Retry-After.",
}

# The JSON type the binding writes each leaf as (service.http.binding.to_json), and its
# format; most derived first.
_LEAVES: Final[tuple[tuple[type, str, str | None], ...]] = (
    (ByteArray, "string", "byte"),
    (Boolean, "boolean", None),
    (DateTime, "string", "date-time"),
    (Date, "string", "date"),
    (Integer64, "integer", "int64"),
    (Integer32, "integer", "int32"),
    (Integer16, "integer", "int32"),
    (Integer, "integer", None),
    (Double, "number", "double"),
    (Float, "number", "float"),
    (Unicode, "string", None),
)


def _finite(value: Any) -> bool:
    return value is not None and not (
        isinstance(value, (float, Decimal)) and (value != value or abs(value) == float("inf"))
    )


def _leaf(cls: Any, where: str) -> dict[str, Any]:
    """The JSON schema of a simple type, with the constraints the WSDL gives its facets."""
    found = next(((t, f) for klass, t, f in _LEAVES if issubclass(cls, klass)), None)
    if found is None:
        raise ContractError(f"{where}: no JSON type for {cls.__name__}")
    json_type, json_format = found
    schema: dict[str, Any] = {"type": json_type}
    if json_format:
        schema["format"] = json_format
    attrs = cls.Attributes
    if json_type == "string" and issubclass(cls, Unicode):
        values = getattr(attrs, "values", None) or ()
        if values:
            schema["enum"] = [str(v) for v in values]
        if attrs.min_len and attrs.min_len > 0:
            schema["minLength"] = int(attrs.min_len)
        if _finite(attrs.max_len):
            schema["maxLength"] = int(attrs.max_len)
        if attrs.pattern is not None:
            schema["pattern"] = str(attrs.pattern)
    elif json_type == "integer":
        for bound, exclusive, name in (("ge", "gt", "minimum"), ("le", "lt", "maximum")):
            if _finite(getattr(attrs, bound)):
                schema[name] = int(getattr(attrs, bound))
            elif _finite(getattr(attrs, exclusive)):
                schema[name] = int(getattr(attrs, exclusive))
                schema[f"exclusive{name.capitalize()}"] = True
    return schema


def _required(cls: Any) -> bool:
    return int(cls.Attributes.min_occurs) >= 1


def _repeated(cls: Any) -> bool:
    return cls.Attributes.max_occurs != 1


def _doc(text: str | None) -> str | None:
    """A docstring as the WSDL gives it (``inspect.cleandoc``: Python 3.13 strips the
    indentation of ``__doc__`` when it compiles, and the document must not depend on it)."""
    cleaned = inspect.cleandoc(text) if text else ""
    return cleaned or None


class _Components:
    """The named schemas the operations reach, in first-use order."""

    def __init__(self) -> None:
        self.schemas: dict[str, dict[str, Any]] = {}
        self._classes: dict[str, Any] = {}

    def ref(self, name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}"}

    def field(self, cls: Any, where: str) -> dict[str, Any]:
        """The schema of a field of type ``cls`` (a list when it repeats)."""
        if issubclass(cls, ComplexModelBase):
            single = self.ref(self.complex(cls, where))
        else:
            single = _leaf(cls, where)
        return {"type": "array", "items": single} if _repeated(cls) else single

    def complex(self, cls: Any, where: str) -> str:
        name = str(cls.get_type_name())
        known = self._classes.get(name)
        if known is not None and (known.__orig__ or known) is not (cls.__orig__ or cls):
            raise ContractError(f"{where}: two different complex types are named {name}")
        if name not in self.schemas:
            self.schemas[name] = {}  # its place in the order, before what it reaches
            self._classes[name] = cls
            self.schemas[name] = self.object(cls, name, _doc((cls.__orig__ or cls).__doc__))
        return name

    def object(
        self, cls: Any, where: str, description: str | None, closed: bool = False
    ) -> dict[str, Any]:
        """An object schema of ``cls``'s fields; ``closed``: no other property is taken."""
        schema: dict[str, Any] = {"type": "object"}
        if description:
            schema["description"] = description
        properties: dict[str, Any] = {}
        required: list[str] = []
        for name, kind in internals.fields(cls).items():
            properties[name] = self.field(kind, f"{where}.{name}")
            # a repeated field is always written, perhaps as []
            if _required(kind) or _repeated(kind):
                required.append(name)
        schema["properties"] = properties
        if required:
            schema["required"] = required
        if closed:
            schema["additionalProperties"] = False
        return schema


def _flat(cls: Any, where: str) -> list[tuple[str, Any, bool]]:
    """The request's leaves as the binding takes them flat: (name, type, required). A
    leaf is named by its own name, or by its dotted path where two leaves share one."""
    leaves: list[tuple[str, str, Any, bool]] = []

    def walk(kind: Any, prefix: str, required: bool) -> None:
        for name, child in internals.fields(kind).items():
            needed = required and _required(child)
            if issubclass(child, ComplexModelBase):
                if _repeated(child):
                    raise ContractError(
                        f"{where}.{prefix}{name}: a repeated structure in a request"
                    )
                walk(child, f"{prefix}{name}.", needed)
            else:
                leaves.append((name, prefix + name, child, needed))

    walk(cls, "", True)
    counts: dict[str, int] = {}
    for name, *_ in leaves:
        counts[name] = counts.get(name, 0) + 1
    return [
        (name if counts[name] == 1 else dotted, kind, needed)
        for name, dotted, kind, needed in leaves
    ]


def fault_classes() -> list[type[faults.ServiceFault]]:
    """Every fault class that is sent as such, depth first in the order they are defined:
    a class one of whose subclasses has a code of its own is a family (ClientFault,
    WsSecurityFault), not a fault."""
    found: list[type[faults.ServiceFault]] = []

    def walk(cls: type[faults.ServiceFault]) -> None:
        subclasses = cls.__subclasses__()
        if not any("code" in vars(sub) for sub in subclasses):
            found.append(cls)
        for sub in subclasses:
            walk(sub)

    walk(faults.ServiceFault)
    return found


def _statuses() -> dict[int, list[type[faults.ServiceFault]]]:
    """Each status of the plain binding, and the fault classes answered with it."""
    by_status: dict[int, list[type[faults.ServiceFault]]] = {}
    for cls in fault_classes():
        by_status.setdefault(cls.http_status_plain, []).append(cls)
    return dict(sorted(by_status.items()))


class _Faults:
    """The fault answers: one response per status, with the fault schemas they need."""

    def __init__(self, components: _Components) -> None:
        self.components = components
        self.statuses = _statuses()
        self.responses: dict[str, dict[str, Any]] = {}
        for status, classes in self.statuses.items():
            self.responses[str(status)] = self._response(status, classes)

    def _response(self, status: int, classes: list[type[faults.ServiceFault]]) -> dict[str, Any]:
        declared = [c for c in classes if c.detail_type is not None]
        if len(declared) > 1:
            raise ContractError(f"HTTP {status}: two declared faults share it: {declared}")
        info = self._info(declared[0] if declared else None)
        answer = f"{info[: -len('Info')]}Answer"
        if answer not in self.components.schemas:
            self.components.schemas[answer] = {
                "type": "object",
                "description": "A fault, as /http answers it.",
                "properties": {"fault": self.components.ref(info)},
                "required": ["fault"],
            }
        if status not in _STATUS_WORDS:
            raise ContractError(f"HTTP {status}: say what it means in _STATUS_WORDS")
        response: dict[str, Any] = {"description": _STATUS_WORDS[status]}
        names = [*_STATUS_HEADERS.get(status, ())]
        for cls in classes:
            names += [name for name, _ in cls.http_headers if name not in names]
        if names:
            response["headers"] = {
                name: {"description": _HEADERS[name], "schema": {"type": "string"}}
                for name in names
            }
        response["content"] = {JSON_MEDIA: {"schema": self.components.ref(answer)}}
        return response

    def _info(self, declared: type[faults.ServiceFault] | None) -> str:
        name = "FaultInfo" if declared is None else f"{declared.__name__}Info"
        if name in self.components.schemas:
            return name
        properties: dict[str, Any] = {
            "code": {
                "type": "string",
                "description": "The SOAP fault code (Client.Validation, wsse:FailedAuthentication, ...).",
            },
            "message": {"type": "string", "description": "Words for a person."},
        }
        if declared is not None:
            assert declared.detail_type is not None
            detail = self.components.complex(declared.detail_type, declared.__name__)
            properties["detail"] = self.components.ref(detail)
        self.components.schemas[name] = {
            "type": "object",
            "description": "What went wrong."
            if declared is None
            else f"What went wrong; {declared.code} has a typed detail (the binding leaves"
            " out its empty values).",
            "properties": properties,
            "required": ["code", "message"],
        }
        return name

    def for_operation(self, op: Operation, method: str) -> list[int]:
        declared = {f.http_status_plain for f in op.faults}
        wanted = {*_ANY_CALL, *declared, *(_WITH_BODY if method == "post" else ())}
        return sorted(s for s in self.statuses if s in wanted)


def _summary(doc: str | None) -> str | None:
    return doc.split("\n\n")[0].replace("\n", " ").strip() if doc else None


def _operation(
    op: Operation,
    method: str,
    components: _Components,
    fault_answers: _Faults,
    anonymous: bool,
) -> dict[str, Any]:
    request = f"{op.name}Request"
    response = f"{op.name}Response"
    result: dict[str, Any] = {
        "operationId": op.name if method == "post" else f"{op.name}Query",
        "summary": _summary(op.doc),
        "description": op.doc,
    }
    if not op.doc:
        del result["summary"], result["description"]
    flat = _flat(op.in_message, op.name)
    if method == "get":
        result["parameters"] = [
            {
                "name": name,
                "in": "query",
                "required": needed,
                "schema": _leaf(kind, f"{op.name}.{name}"),
            }
            for name, kind, needed in flat
        ]
    else:
        form: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
        files: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
        for name, kind, _needed in flat:
            form["properties"][name] = _leaf(kind, f"{op.name}.{name}")
            files["properties"][name] = (
                {"type": "string", "format": "binary"}
                if issubclass(kind, ByteArray)
                else _leaf(kind, f"{op.name}.{name}")
            )
        needed_names = [name for name, _kind, needed in flat if needed]
        if needed_names:
            form["required"] = files["required"] = needed_names
        # not required: the binding reads a POST without a body as one without parameters
        # (JSON's {}), and then refuses a missing field like any other (and
        # openapi-python-client 0.29 writes code that cannot import for a required body
        # of several media types)
        body: dict[str, Any] = {
            "required": False,
            "content": {
                JSON_MEDIA: {"schema": components.ref(request)},
                FORM_MEDIA: {"schema": form},
                MULTIPART_MEDIA: {"schema": files},
            },
        }
        result["requestBody"] = body
    result["responses"] = {
        "200": {
            "description": f'The result: {{"{op.name}Result": ...}}; with Accept:'
            f" {XML_MEDIA} (or ?{FORMAT_PARAMETER}=xml), the response element as XML.",
            "content": {
                JSON_MEDIA: {"schema": components.ref(response)},
                XML_MEDIA: {"schema": {"type": "string"}},
            },
        },
        **{
            str(status): {"$ref": f"#/components/responses/{status}"}
            for status in fault_answers.for_operation(op, method)
        },
    }
    result["security"] = [{}, {BASIC: []}] if anonymous else [{BASIC: []}]
    return result


def render_openapi(
    app: Application,
    base_url: str = ns.PLACEHOLDER_BASE_URL,
    anonymous: Iterable[str] = DEFAULT_ANONYMOUS,
) -> bytes:
    """The OpenAPI document of ``app``'s operations on ``/http``, served from ``base_url``;
    the operations in ``anonymous`` take a call without credentials."""
    anyone = frozenset(anonymous)
    ops = operations(app)
    components = _Components()
    for op in ops:  # request and response objects first, in the operations' order
        for name, message, words, closed in (
            (f"{op.name}Request", op.in_message, f"The parameters of {op.name}.", True),
            (f"{op.name}Response", op.out_message, f"The answer of {op.name}.", False),
        ):
            components.schemas[name] = {}  # its place in the order, before what it reaches
            components.schemas[name] = components.object(message, name, words, closed)
    fault_answers = _Faults(components)
    paths: dict[str, Any] = {}
    for op in ops:
        paths[f"{HTTP_PATH}/{op.name}"] = {
            method: _operation(op, method, components, fault_answers, op.name in anyone)
            for method in ("get", "post")
        }
    service_doc = _doc(app.services[0].__doc__) if app.services else None
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": ns.SERVICE_NAME,
            "version": ns.TNS.rsplit(":", 1)[-1],
            "description": (service_doc or ns.SERVICE_NAME)
            + "\n\nThe operations of the SOAP contract (the WSDL at /soap?wsdl) over plain HTTP:"
            " parameters in a GET query or a POST body, JSON out (XML with Accept:"
            f" {XML_MEDIA} or ?{FORMAT_PARAMETER}=xml)."
            ' Faults are {"fault": {"code", "message", "detail"}} with an HTTP status'
            " that says the same; a method other than GET, HEAD or POST is a 405.",
        },
        "servers": [{"url": base_url.rstrip("/")}],
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "responses": fault_answers.responses,
            "securitySchemes": {
                BASIC: {
                    "type": "http",
                    "scheme": "basic",
                    "description": "A user of the service (soap-service users add NAME).",
                }
            },
        },
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


# --- drift: any difference at all, the address aside ---


def _canonical(document: bytes) -> list[str]:
    try:
        data = json.loads(document)
    except ValueError:
        return document.decode("utf-8", "replace").splitlines()
    if isinstance(data, dict) and isinstance(data.get("servers"), list):
        data["servers"] = [{**s, "url": ns.PLACEHOLDER_BASE_URL} for s in data["servers"]]
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def drift(committed: bytes, published: bytes) -> list[str]:
    """Differences between two OpenAPI documents, the servers' address and the
    formatting aside (key order is formatting; list order is not). Empty when equal."""
    left, right = _canonical(committed), _canonical(published)
    if left == right:
        return []
    return list(difflib.unified_diff(left, right, "committed", "published", lineterm="", n=2))


# --- diff: each change classified by the WSDL diff's rules ---

_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SCHEMAS: Final = "#/components/schemas/"
Direction = frozenset[str]
_BOTH: Final[Direction] = frozenset({"in", "out"})


def is_openapi(document: bytes) -> bool:
    """Whether ``document`` is JSON (an OpenAPI description) rather than XML (a WSDL)."""
    return document.lstrip()[:1] == b"{"


class _Description:
    """The parts of an OpenAPI document a generated client depends on."""

    def __init__(self, document: bytes) -> None:
        data = json.loads(document)
        if not isinstance(data, dict) or "openapi" not in data:
            raise ValueError("not an OpenAPI document (no 'openapi' field)")
        self.data = data
        components = data.get("components", {})
        self.schemas: dict[str, Any] = components.get("schemas", {})
        self.servers = [s.get("url", "") for s in data.get("servers", [])]
        self.operations: dict[str, dict[str, Any]] = {
            f"{method.upper()} {path}": operation
            for path, item in data.get("paths", {}).items()
            for method, operation in item.items()
            if method in _METHODS
        }
        self.directions: dict[str, set[str]] = {}
        for operation in self.operations.values():
            for parameter in operation.get("parameters", []):
                self._visit(self.resolve(parameter).get("schema", {}), "in")
            for media in self.resolve(operation.get("requestBody", {})).get("content", {}).values():
                self._visit(media.get("schema", {}), "in")
            for response in operation.get("responses", {}).values():
                for media in self.resolve(response).get("content", {}).values():
                    self._visit(media.get("schema", {}), "out")

    def resolve(self, node: Any) -> Any:
        """A parameter, body or response, its ``$ref`` followed within the document."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.data
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            node = target
        return node

    def _visit(self, schema: Any, direction: str) -> None:
        if not isinstance(schema, dict):
            return
        name = _ref(schema)
        if name is not None:
            if direction not in self.directions.setdefault(name, set()):
                self.directions[name].add(direction)
                self._visit(self.schemas.get(name), direction)
            return
        for child in _children(schema):
            self._visit(child, direction)

    def direction(self, name: str) -> Direction:
        return frozenset(self.directions.get(name, _BOTH))

    def parameters(self, operation: dict[str, Any]) -> dict[str, Any]:
        """An operation's parameters as one object schema (a required one is required)."""
        found = [self.resolve(p) for p in operation.get("parameters", [])]
        return {
            "type": "object",
            "properties": {p.get("name", ""): p.get("schema", {}) for p in found},
            "required": [p.get("name", "") for p in found if p.get("required")],
        }


def _ref(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.removeprefix(_SCHEMAS) if isinstance(ref, str) else None


def _children(schema: dict[str, Any]) -> Iterator[Any]:
    yield from schema.get("properties", {}).values()
    if isinstance(schema.get("items"), dict):
        yield schema["items"]
    if isinstance(schema.get("additionalProperties"), dict):
        yield schema["additionalProperties"]
    for key in ("allOf", "anyOf", "oneOf"):
        yield from schema.get(key, [])


def _facets(schema: dict[str, Any]) -> dict[str, list[str]]:
    """A leaf's constraints under the names of the XSD facets they are."""
    facets: dict[str, list[str]] = {}
    for keyword, facet in (("maxLength", "maxLength"), ("minLength", "minLength")):
        if keyword in schema:
            facets[facet] = [str(schema[keyword])]
    for keyword, inclusive, exclusive in (
        ("minimum", "minInclusive", "minExclusive"),
        ("maximum", "maxInclusive", "maxExclusive"),
    ):
        if keyword in schema:
            strict = schema.get(f"exclusive{keyword.capitalize()}") is True
            facets[exclusive if strict else inclusive] = [str(schema[keyword])]
    if "enum" in schema:
        facets["enumeration"] = [str(v) for v in schema["enum"]]
    if "pattern" in schema:
        facets["pattern"] = [str(schema["pattern"])]
    return facets


def _kind(schema: dict[str, Any]) -> str:
    return "/".join(str(schema[k]) for k in ("type", "format") if k in schema) or "(any)"


def _compare(where: str, old: Any, new: Any, direction: Direction) -> Iterator[Change]:
    """The changes of one schema: a type, a structure, or a leaf's constraints."""
    old, new = old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}
    old_ref, new_ref = _ref(old), _ref(new)
    if old_ref is not None or new_ref is not None:
        if old_ref != new_ref:
            was, now = old_ref or _kind(old), new_ref or _kind(new)
            yield Change("breaking", where, f"type {was} became {now}")
        return  # a named schema is compared once, under its own name
    if _kind(old) != _kind(new):
        yield Change("breaking", where, f"type {_kind(old)} became {_kind(new)}")
        return
    if old.get("type") == "array":
        yield from _compare(f"{where}[]", old.get("items"), new.get("items"), direction)
        return
    if old.get("type") == "object" or "properties" in old or "properties" in new:
        yield from _compare_object(where, old, new, direction)
        return
    yield from judge(where, direction, narrowings(_facets(old), _facets(new)))


def _compare_object(
    where: str, old: dict[str, Any], new: dict[str, Any], direction: Direction
) -> Iterator[Change]:
    sent_by_client, sent_to_client = "in" in direction, "out" in direction
    before, after = old.get("properties", {}), new.get("properties", {})
    was_required, now_required = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(before.keys() - after.keys()):
        yield Change("breaking", where, f"field {name} removed")
    for name in sorted(after.keys() - before.keys()):
        if name not in now_required:
            yield Change("additive", where, f"new optional field {name}")
        else:
            yield Change(
                breaking_if(sent_by_client),
                where,
                f"new required field {name}"
                + (" (clients must now send it)" if sent_by_client else ""),
            )
    for name in sorted(before.keys() & after.keys()):
        if name not in was_required and name in now_required:
            yield Change(
                breaking_if(sent_by_client), where, f"field {name} was optional, now required"
            )
        if name in was_required and name not in now_required:
            yield Change(
                breaking_if(sent_to_client),
                where,
                f"field {name} was required, now optional"
                + (" (clients may rely on it)" if sent_to_client else ""),
            )
        yield from _compare(f"{where}.{name}", before[name], after[name], direction)
    closed_before = old.get("additionalProperties") is False
    closed_after = new.get("additionalProperties") is False
    if closed_before != closed_after:
        yield from judge(
            where,
            direction,
            [(closed_after, f"other fields {'refused' if closed_after else 'taken'} now")],
        )


def _secured(operation: dict[str, Any]) -> bool:
    """Whether the operation needs credentials (no empty security requirement)."""
    requirements = operation.get("security") or []
    return bool(requirements) and all(requirements)


def _compare_operation(
    key: str, old: _Description, new: _Description, before: dict[str, Any], after: dict[str, Any]
) -> Iterator[Change]:
    where = f"operation {key}"
    if _secured(before) != _secured(after):
        needs = _secured(after)
        yield Change(
            breaking_if(needs), where, "needs credentials now" if needs else "anonymous now"
        )
    yield from _compare(
        f"{where} parameters", old.parameters(before), new.parameters(after), frozenset({"in"})
    )
    old_body, new_body = (
        old.resolve(before.get("requestBody", {})),
        new.resolve(after.get("requestBody", {})),
    )
    if not old_body.get("required") and new_body.get("required"):
        yield Change("breaking", where, "the request body is required now")
    old_media, new_media = old_body.get("content", {}), new_body.get("content", {})
    for media in sorted(old_media.keys() - new_media.keys()):
        yield Change("breaking", where, f"request body {media} removed")
    for media in sorted(new_media.keys() - old_media.keys()):
        yield Change("additive", where, f"request body {media} added")
    for media in sorted(old_media.keys() & new_media.keys()):
        yield from _compare(
            f"{where} {media} body",
            old_media[media].get("schema"),
            new_media[media].get("schema"),
            frozenset({"in"}),
        )
    old_responses, new_responses = before.get("responses", {}), after.get("responses", {})
    for status in sorted(old_responses.keys() - new_responses.keys()):
        yield Change("breaking", where, f"response {status} removed")
    for status in sorted(new_responses.keys() - old_responses.keys()):
        yield Change("additive", where, f"new response {status}")
    for status in sorted(old_responses.keys() & new_responses.keys()):
        was = old.resolve(old_responses[status]).get("content", {})
        now = new.resolve(new_responses[status]).get("content", {})
        for media in sorted(was.keys() - now.keys()):
            yield Change("breaking", where, f"response {status} {media} removed")
        for media in sorted(now.keys() - was.keys()):
            yield Change("additive", where, f"response {status} {media} added")
        for media in sorted(was.keys() & now.keys()):
            yield from _compare(
                f"{where} response {status} {media}",
                was[media].get("schema"),
                now[media].get("schema"),
                frozenset({"out"}),
            )


def diff(old_document: bytes, new_document: bytes) -> list[Change]:
    """Each change from one OpenAPI description to another, classified for clients by
    the WSDL diff's rules (``service.contract.diff``): a removed operation, field,
    response or media type, a newly required request field, a changed type and a
    narrowed constraint clients send are **breaking**; a new operation, an optional
    field, a widened constraint clients send are **additive**; the servers' address is
    **info**. A schema reached from a request is *in*, from a response *out*."""
    old, new = _Description(old_document), _Description(new_document)
    changes: list[Change] = []
    if old.servers != new.servers:
        changes.append(Change("info", "servers", f"address {old.servers} became {new.servers}"))
    for key in old.operations.keys() - new.operations.keys():
        changes.append(Change("breaking", f"operation {key}", "removed"))
    for key in new.operations.keys() - old.operations.keys():
        changes.append(Change("additive", f"operation {key}", "added"))
    for key in sorted(old.operations.keys() & new.operations.keys()):
        changes += _compare_operation(key, old, new, old.operations[key], new.operations[key])
    for name in old.schemas.keys() - new.schemas.keys():
        changes.append(Change("breaking", f"schema {name}", "removed"))
    for name in new.schemas.keys() - old.schemas.keys():
        changes.append(Change("additive", f"schema {name}", "added"))
    for name in sorted(old.schemas.keys() & new.schemas.keys()):
        direction = old.direction(name) | new.direction(name)
        changes += _compare(f"schema {name}", old.schemas[name], new.schemas[name], direction)
    return sorted(set(changes), key=lambda c: (c.kind != "breaking", c.kind, c.where, c.what))
