"""The OpenAPI description of ``/http`` (``wsdl/openapi.json``, ``GET /openapi.json``):
no drift, valid OpenAPI, the WSDL's types and constraints, and its diff's verdicts."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from service import cli, faults, ns
from service.config import Settings
from service.contract import openapi, packaged
from service.contract.openapi import diff, drift, render_openapi
from service.contract.operations import build_application
from service.http import binding
from tests.conftest import ROOT

COMMITTED = ROOT / "wsdl" / "openapi.json"
PACKAGED = ROOT / "service" / "contract" / "openapi.json"
WSDL = ROOT / "wsdl" / "service.wsdl"
W = {"wsdl": ns.WSDL, "xs": ns.XSD}
Document = dict[str, Any]


@pytest.fixture(scope="module")
def document() -> Document:
    return json.loads(COMMITTED.read_bytes())  # type: ignore[no-any-return]


def test_descriptions_do_not_depend_on_how_python_keeps_docstrings() -> None:
    """Python 3.13 strips the indentation of ``__doc__`` when it compiles, 3.11 does not:
    every description is the cleaned docstring, so no line of one starts indented."""
    document = json.loads(render_openapi(build_application()))

    def descriptions(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["description"]] if isinstance(node.get("description"), str) else []
            return found + [d for value in node.values() for d in descriptions(value)]
        if isinstance(node, list):
            return [d for value in node for d in descriptions(value)]
        return []

    texts = descriptions(document)
    assert any("\n\n" in text for text in texts)  # docstrings of several paragraphs are there
    assert [text for text in texts if re.search(r"\n {4}", text)] == []


def test_committed_description_matches_the_models() -> None:
    rendered = render_openapi(build_application())
    assert drift(COMMITTED.read_bytes(), rendered) == []
    assert rendered == COMMITTED.read_bytes(), (
        "run 'make wsdl' (soap-service wsdl export) and review the change"
    )


def test_rendering_is_deterministic() -> None:
    assert render_openapi(build_application()) == render_openapi(build_application())


def test_the_packaged_copy_is_the_committed_one() -> None:
    assert PACKAGED.read_bytes() == COMMITTED.read_bytes(), "run 'make wsdl'"


def test_valid_openapi(document: Document) -> None:
    assert document["openapi"] == "3.0.3"
    validate(document)


def test_the_validator_can_fail(document: Document) -> None:
    broken = copy.deepcopy(document)
    del broken["paths"]["/http/Greet"]["get"]["responses"]
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_the_binding_constants_are_the_described_ones() -> None:
    assert binding.PREFIX == openapi.HTTP_PATH + "/"
    assert binding.RESERVED == {openapi.FORMAT_PARAMETER}
    assert (binding.JSON_TYPE, binding.FORM_TYPE, binding.MULTIPART_FORM_TYPE) == (
        openapi.JSON_MEDIA,
        openapi.FORM_MEDIA,
        openapi.MULTIPART_MEDIA,
    )


def _wsdl_operations() -> list[str]:
    root = etree.parse(str(WSDL)).getroot()
    return [op.get("name") for op in root.iterfind("wsdl:portType/wsdl:operation", W)]


def test_every_operation_by_get_and_post(document: Document) -> None:
    operations = _wsdl_operations()
    assert len(operations) == 8
    assert list(document["paths"]) == [f"/http/{name}" for name in operations]
    for name in operations:
        item = document["paths"][f"/http/{name}"]
        assert list(item) == ["get", "post"]
        assert item["get"]["operationId"] == f"{name}Query"
        assert item["post"]["operationId"] == name
        assert set(item["post"]["requestBody"]["content"]) == {
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        }
        assert item["post"]["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{name}Request"
        }
        assert item["get"]["description"] == item["post"]["description"]
        assert item["get"]["description"].strip()


# --- the same types and constraints as the WSDL ---


def _wsdl_facets(simple: etree._Element) -> dict[str, list[str]]:
    facets: dict[str, list[str]] = {}
    for facet in simple.find("xs:restriction", W):
        facets.setdefault(etree.QName(facet).localname, []).append(facet.get("value"))
    return facets


_XSD_JSON = {
    "xs:string": ("string", None),
    "xs:int": ("integer", "int32"),
    "xs:long": ("integer", "int64"),
    "xs:boolean": ("boolean", None),
    "xs:dateTime": ("string", "date-time"),
    "xs:base64Binary": ("string", "byte"),
}


def _check_field(element: etree._Element, schema: Document, simple: dict[str, Any]) -> None:
    kind = element.get("type")
    if element.get("maxOccurs") == "unbounded":
        assert schema["type"] == "array"
        schema = schema["items"]
    local = kind.split(":", 1)[1]
    if kind.startswith("xs:"):
        json_type, json_format = _XSD_JSON[kind]
        assert (schema["type"], schema.get("format")) == (json_type, json_format)
        assert openapi._facets(schema) == {}
    elif local in simple:
        base = simple[local].find("xs:restriction", W).get("base")
        json_type, json_format = _XSD_JSON[base]
        assert (schema["type"], schema.get("format")) == (json_type, json_format)
        assert openapi._facets(schema) == _wsdl_facets(simple[local]), local
    else:
        assert schema == {"$ref": f"#/components/schemas/{local}"}


def test_every_type_field_and_constraint_of_the_wsdl(document: Document) -> None:
    """Each WSDL complex type is a schema of the same name (a wrapper element: Op
    -> OpRequest, OpResponse -> OpResponse), with the same fields, the same required
    ones (repeated ones are always written, so required) and the same facets."""
    schema_root = etree.parse(str(WSDL)).getroot().find("wsdl:types/xs:schema", W)
    simple = {s.get("name"): s for s in schema_root.iterfind("xs:simpleType", W)}
    named = {c.get("name"): c for c in schema_root.iterfind("xs:complexType", W)}
    for element in schema_root.iterfind("xs:element/xs:complexType/..", W):
        name = element.get("name")
        named[name if name.endswith("Response") else f"{name}Request"] = element.find(
            "xs:complexType", W
        )
    schemas = document["components"]["schemas"]
    checked = 0
    for name, complex_type in named.items():
        schema = schemas[name]
        fields = complex_type.findall("xs:sequence/xs:element", W)
        assert list(schema["properties"]) == [f.get("name") for f in fields], name
        required = [
            f.get("name")
            for f in fields
            if f.get("minOccurs") == "1" or f.get("maxOccurs") == "unbounded"
        ]
        assert schema.get("required", []) == required, name
        for field in fields:
            _check_field(field, schema["properties"][field.get("name")], simple)
            checked += 1
    assert checked > 40
    assert schemas["Person"]["properties"]["age"] == {
        "type": "integer",
        "format": "int32",
        "minimum": 0,
        "maximum": 150,
    }
    assert schemas["ImageRejectedFaultDetail"]["properties"]["reason"]["enum"] == [
        "too_large",
        "not_an_image",
        "unsupported_format",
        "corrupt",
    ]


def test_query_parameters_are_the_flat_leaves(document: Document) -> None:
    echo = document["paths"]["/http/EchoPerson"]["get"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in echo] == [
        ("first_name", "query", True),
        ("last_name", "query", True),
        ("age", "query", True),
    ]
    assert echo[0]["schema"] == {"type": "string", "minLength": 1, "maxLength": 100}
    listing = document["paths"]["/http/ListImages"]["get"]["parameters"]
    assert [(p["name"], p["required"]) for p in listing] == [
        ("page_size", False),
        ("page_token", False),
    ]
    assert document["paths"]["/http/DescribeRequest"]["get"]["parameters"] == []
    form = document["paths"]["/http/UploadImage"]["post"]["requestBody"]["content"]
    assert form["multipart/form-data"]["schema"]["properties"]["content"] == {
        "type": "string",
        "format": "binary",
    }
    assert form["application/x-www-form-urlencoded"]["schema"]["required"] == [
        "filename",
        "content",
    ]


# --- faults, statuses and security ---


def _all_fault_classes() -> list[type[faults.ServiceFault]]:
    found, todo = [], [faults.ServiceFault]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return found


def test_every_fault_status_is_described(document: Document) -> None:
    responses = document["components"]["responses"]
    statuses = {cls.http_status_plain for cls in _all_fault_classes()}
    assert set(responses) == {str(s) for s in statuses}
    assert {"400", "401", "404", "405", "413", "415", "422", "429", "500", "503"} <= set(responses)
    codes = {cls.code for cls in _all_fault_classes()}
    for status, response in responses.items():
        named = re.findall(
            r"\b(?:Client|Server|wsse):[A-Za-z.]+|\b(?:Client|Server)\.\w+", response["description"]
        )
        assert named and set(named) <= codes, (status, named)
    for cls in (faults.ValidationFault, faults.NotFoundFault, faults.ImageRejectedFault):
        assert cls.code in responses[str(cls.http_status_plain)]["description"]
    assert [cls.__name__ for cls in openapi.fault_classes()][:2] == [
        "ValidationFault",
        "ImageRejectedFault",
    ]
    families = {"ServiceFault", "ClientFault", "WsSecurityFault"}
    assert families.isdisjoint(cls.__name__ for cls in openapi.fault_classes())
    assert faults.AuthenticationRequiredFault in openapi.fault_classes()
    schemas = document["components"]["schemas"]
    answer = schemas["ValidationFaultAnswer"]
    assert answer["required"] == ["fault"]
    info = schemas["ValidationFaultInfo"]
    assert info["required"] == ["code", "message"]
    assert info["properties"]["detail"] == {"$ref": "#/components/schemas/ValidationFaultDetail"}
    assert "detail" not in schemas["FaultInfo"]["properties"]
    assert "WWW-Authenticate" in responses["401"]["headers"]
    assert "Retry-After" in responses["429"]["headers"]
    assert "Retry-After" in responses["503"]["headers"]
    assert "Allow" in responses["405"]["headers"]


def _statuses(document: Document, name: str, method: str) -> list[str]:
    return list(document["paths"][f"/http/{name}"][method]["responses"])


def test_each_operation_lists_the_statuses_it_may_answer(document: Document) -> None:
    assert _statuses(document, "Greet", "get") == ["200", "400", "401", "413", "429", "500", "503"]
    assert _statuses(document, "Greet", "post") == [
        "200",
        *["400", "401", "408", "413", "415", "429", "500", "503"],
    ]
    assert "422" in _statuses(document, "UploadImage", "get")
    assert "404" in _statuses(document, "GetImage", "get")
    assert "404" in _statuses(document, "DeleteImage", "post")
    assert "404" not in _statuses(document, "UploadImage", "post")
    ok = document["paths"]["/http/Greet"]["get"]["responses"]["200"]["content"]
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/GreetResponse"}
    assert "application/xml" in ok


def test_security_follows_the_anonymous_operations(document: Document) -> None:
    anonymous = {"Greet", "GetTime", "EchoPerson", "DescribeRequest"}
    assert openapi.DEFAULT_ANONYMOUS == anonymous
    assert document["components"]["securitySchemes"]["basic"] == {
        "type": "http",
        "scheme": "basic",
        "description": "A user of the service (soap-service users add NAME).",
    }
    for path, item in document["paths"].items():
        for operation in item.values():
            expected = [{}, {"basic": []}] if path[6:] in anonymous else [{"basic": []}]
            assert operation["security"] == expected, path
    settings = Settings(public_url="https://soap.example.com/api/")
    only_greet = json.loads(render_openapi(build_application(), settings.base_url, ["Greet"]))
    assert only_greet["paths"]["/http/Greet"]["get"]["security"] == [{}, {"basic": []}]
    assert only_greet["paths"]["/http/GetTime"]["get"]["security"] == [{"basic": []}]
    assert only_greet["servers"] == [{"url": "https://soap.example.com/api"}]


# --- drift ---


def test_address_and_formatting_are_not_drift(document: Document) -> None:
    moved = copy.deepcopy(document)
    moved["servers"] = [{"url": "https://elsewhere.example:9443/x"}]
    compact = json.dumps(moved, sort_keys=True).encode()
    assert drift(COMMITTED.read_bytes(), compact) == []


def test_a_changed_constraint_is_drift(document: Document) -> None:
    changed = copy.deepcopy(document)
    changed["components"]["schemas"]["Person"]["properties"]["age"]["maximum"] = 151
    lines = drift(COMMITTED.read_bytes(), json.dumps(changed).encode())
    assert [line[0] + line[1:].strip() for line in lines if line.startswith(("+ ", "- "))] == [
        '-"maximum": 150,',
        '+"maximum": 151,',
    ]


# --- diff: the WSDL diff's rules ---

Edit = Callable[[Document], None]


def _verdicts(edit: Edit) -> set[tuple[str, str, str]]:
    document = json.loads(COMMITTED.read_bytes())
    edit(document)
    return {
        (c.kind, c.where, c.what)
        for c in diff(COMMITTED.read_bytes(), json.dumps(document).encode())
    }


def _kinds(edit: Edit) -> set[str]:
    return {kind for kind, _, _ in _verdicts(edit)}


def _schema(name: str) -> Callable[[Document], Document]:
    return lambda d: d["components"]["schemas"][name]  # type: ignore[no-any-return]


def _add_property(name: str, required: bool) -> Edit:
    def edit(document: Document) -> None:
        schema = _schema(name)(document)
        schema["properties"]["nickname"] = {"type": "string"}
        if required:
            schema["required"].append("nickname")

    return edit


def test_the_same_description_has_no_changes() -> None:
    assert diff(COMMITTED.read_bytes(), COMMITTED.read_bytes()) == []


def test_a_removed_operation_is_breaking_and_a_new_one_additive() -> None:
    def remove(d: Document) -> None:
        del d["paths"]["/http/DeleteImage"]["post"]

    def add(d: Document) -> None:
        d["paths"]["/http/GreetAgain"] = copy.deepcopy(d["paths"]["/http/Greet"])

    assert _verdicts(remove) == {("breaking", "operation POST /http/DeleteImage", "removed")}
    assert _verdicts(add) == {
        ("additive", "operation GET /http/GreetAgain", "added"),
        ("additive", "operation POST /http/GreetAgain", "added"),
    }


def test_a_removed_field_is_breaking() -> None:
    def remove(d: Document) -> None:
        del _schema("Person")(d)["properties"]["last_name"]
        _schema("Person")(d)["required"].remove("last_name")

    assert _verdicts(remove) == {("breaking", "schema Person", "field last_name removed")}


def test_a_new_optional_field_is_additive() -> None:
    assert _verdicts(_add_property("Person", required=False)) == {
        ("additive", "schema Person", "new optional field nickname")
    }


def test_a_new_required_field_breaks_requests_but_not_responses() -> None:
    assert _kinds(_add_property("GreetRequest", required=True)) == {"breaking"}
    assert _kinds(_add_property("TimeInfo", required=True)) == {"additive"}


def test_a_query_parameter_made_required_is_breaking() -> None:
    def require(d: Document) -> None:
        d["paths"]["/http/GetTime"]["get"]["parameters"][0]["required"] = True

    assert _verdicts(require) == {
        (
            "breaking",
            "operation GET /http/GetTime parameters",
            "field timezone was optional, now required",
        )
    }


def test_a_required_response_field_made_optional_is_breaking() -> None:
    assert _kinds(lambda d: _schema("TimeInfo")(d)["required"].remove("local")) == {"breaking"}
    # a request field made optional: old clients send it anyway
    assert _kinds(lambda d: _schema("UploadImageRequest")(d)["required"].remove("filename")) == {
        "additive"
    }


def test_narrowed_and_widened_constraints_follow_who_sends_them() -> None:
    def narrow_name(d: Document) -> None:
        d["paths"]["/http/Greet"]["get"]["parameters"][0]["schema"]["maxLength"] = 50

    changes = _verdicts(narrow_name)
    assert [kind for kind, _, _ in changes] == ["breaking"]
    assert "maxLength 100 became 50" in next(iter(changes))[2]
    # PageSize is only ever sent by clients: accepting more is safe
    widen_page = lambda d: _schema("ListImagesRequest")(d)["properties"]["page_size"].update(  # noqa: E731
        maximum=500
    )
    assert _kinds(widen_page) == {"additive"}
    # Person comes back in EchoPerson's answer: a longer name may fail a client's checks
    widen_name = lambda d: _schema("Person")(d)["properties"]["first_name"].update(  # noqa: E731
        maxLength=500
    )
    assert _kinds(widen_name) == {"breaking"}
    # the service sends fewer rejection reasons: nothing a client sends is refused
    fewer = lambda d: _schema("ImageRejectedFaultDetail")(d)["properties"]["reason"][  # noqa: E731
        "enum"
    ].remove("corrupt")
    assert _kinds(fewer) == {"additive"}
    # a new pattern on what clients send
    pattern = lambda d: _schema("Person")(d)["properties"]["last_name"].update(  # noqa: E731
        pattern="[A-Z].*"
    )
    assert _kinds(pattern) == {"breaking"}


def test_a_changed_type_is_breaking() -> None:
    retype = lambda d: _schema("Person")(d)["properties"].update(age={"type": "string"})  # noqa: E731
    assert _verdicts(retype) == {
        ("breaking", "schema Person.age", "type integer/int32 became string")
    }


def test_security_responses_and_address() -> None:
    def secure(d: Document) -> None:
        d["paths"]["/http/Greet"]["get"]["security"] = [{"basic": []}]

    assert _verdicts(secure) == {("breaking", "operation GET /http/Greet", "needs credentials now")}

    def drop_404(d: Document) -> None:
        del d["paths"]["/http/GetImage"]["get"]["responses"]["404"]

    assert _verdicts(drop_404) == {
        ("breaking", "operation GET /http/GetImage", "response 404 removed")
    }

    def move(d: Document) -> None:
        d["servers"] = [{"url": "https://soap.example.com"}]

    assert _kinds(move) == {"info"}

    def drop_form(d: Document) -> None:
        del d["paths"]["/http/Greet"]["post"]["requestBody"]["content"][
            "application/x-www-form-urlencoded"
        ]

    assert _kinds(drop_form) == {"breaking"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "wsdl", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_diff_command_reads_openapi_descriptions(tmp_path: Path) -> None:
    document = json.loads(COMMITTED.read_bytes())
    del _schema("Person")(document)["properties"]["last_name"]
    breaking = tmp_path / "breaking.json"
    breaking.write_text(json.dumps(document))
    done = _run("diff", str(COMMITTED), str(breaking))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "BREAKING  schema Person: field last_name removed" in done.stdout
    _add_property("Person", required=False)(document := json.loads(COMMITTED.read_bytes()))
    additive = tmp_path / "additive.json"
    additive.write_text(json.dumps(document))
    done = _run("diff", str(COMMITTED), str(additive))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "additive  schema Person: new optional field nickname" in done.stdout
    mixed = _run("diff", str(WSDL), str(COMMITTED))
    assert mixed.returncode == 2
    assert "OpenAPI" in mixed.stderr


def test_export_and_check_commands(tmp_path: Path) -> None:
    exported = subprocess.run(
        [sys.executable, "-m", "service", "wsdl", "export", "--openapi", "--output", "-"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=120,
    )
    assert exported.stdout == COMMITTED.read_bytes()
    assert _run("check", "--wsdl", str(COMMITTED)).returncode == 0
    drifted = tmp_path / "drifted.json"
    drifted.write_bytes(COMMITTED.read_bytes().replace(b'"maximum": 150', b'"maximum": 151'))
    bad = _run("check", "--wsdl", str(drifted))
    assert bad.returncode == 1
    assert "151" in bad.stdout


def test_export_writes_the_description_and_its_copy_and_check_finds_a_stale_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed = tmp_path / "wsdl" / "service.wsdl"
    reviewed.parent.mkdir()
    reviewed.write_bytes(b"<old/>")
    copies = [tmp_path / "service" / "service.wsdl", tmp_path / "client" / "service.wsdl"]
    for path in copies:
        path.parent.mkdir()
    monkeypatch.setattr(packaged, "CHECKOUT_WSDL", reviewed)
    monkeypatch.setattr(packaged, "checkout_copies", lambda: copies)
    assert cli.main(["wsdl", "export"]) == 0
    description, copy_of_it = (
        tmp_path / "wsdl" / "openapi.json",
        tmp_path / "service" / "openapi.json",
    )
    assert description.read_bytes() == copy_of_it.read_bytes() == COMMITTED.read_bytes()
    assert cli.main(["wsdl", "check"]) == 0
    copy_of_it.write_bytes(COMMITTED.read_bytes() + b"\n")
    capsys.readouterr()
    assert cli.main(["wsdl", "check"]) == 1
    assert f"{copy_of_it} is not a copy of {description}" in capsys.readouterr().err
    description.write_bytes(COMMITTED.read_bytes().replace(b'"Person"', b'"People"'))
    assert cli.main(["wsdl", "check"]) == 1
    assert "People" in capsys.readouterr().out


def test_the_wheel_ships_the_packaged_copy() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "openapi.json" in project["tool"]["setuptools"]["package-data"]["service.contract"]
