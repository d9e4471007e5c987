"""service.http.xmlrpc in process: the fault code table, reading values, and the mapping of
parameters onto an operation. The live behaviour is tests/test_http_xmlrpc_live.py."""

from __future__ import annotations

import inspect
import xmlrpc.client
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service import faults
from service.contract.operations import build_application
from service.contract.wsdl import operations
from service.faults import MalformedRequestFault, ServiceFault, ValidationFault
from service.http import xmlrpc as binding
from service.soap.hardening import parse_request

OPERATIONS = {op.name: op for op in operations(build_application())}


def _classes() -> list[type[ServiceFault]]:
    return [
        cls
        for _, cls in inspect.getmembers(faults, inspect.isclass)
        if issubclass(cls, ServiceFault)
    ]


def test_every_fault_class_has_its_own_stable_code() -> None:
    listed = set(binding.FAULT_CODES)
    # AuthenticationRequiredFault is FailedAuthentication said over HTTP, and WsSecurityFault
    # and AddressingFault are only ever raised as their subclasses: their codes are their bases'
    assert set(_classes()) - listed == {
        faults.AuthenticationRequiredFault,
        faults.WsSecurityFault,
        faults.AddressingFault,
    }
    assert len(set(binding.FAULT_CODES.values())) == len(binding.FAULT_CODES)


def test_the_interoperability_codes() -> None:
    assert binding.fault_code(MalformedRequestFault("x")) == -32700
    assert binding.fault_code(ValidationFault("name", "is blank")) == -32602
    assert binding.fault_code(faults.UnknownOperationFault("x")) == -32601
    assert binding.fault_code(faults.InternalFault()) == -32603
    assert binding.fault_code(faults.AuthenticationRequiredFault("ListImages")) == 3


def test_fault_response_reads_back_as_an_xmlrpc_fault() -> None:
    body = binding.fault_response(ValidationFault("name", "must not be blank"))
    with pytest.raises(xmlrpc.client.Fault) as caught:
        xmlrpc.client.loads(body)
    assert caught.value.faultCode == -32602
    assert caught.value.faultString.startswith("Client.Validation: ")


def _call(params: tuple[Any, ...], name: str = "Greet") -> tuple[str, list[Any]]:
    return binding.read_call(parse_request(xmlrpc.client.dumps(params, name).encode()))


_scalars = (
    st.integers(-(2**31), 2**31 - 1)
    | st.booleans()
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")))
    | st.floats(allow_nan=False, allow_infinity=False)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text("abcxyz_", min_size=1, max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(st.lists(_values, max_size=4))
def test_values_read_as_xmlrpc_client_wrote_them(params: list[Any]) -> None:
    name, read = _call(tuple(params))
    assert name == "Greet"
    assert read == params


def test_binary_and_times_keep_their_text() -> None:
    _, (data, moment) = _call(
        (xmlrpc.client.Binary(b"\x89PNG"), xmlrpc.client.DateTime("19700101T00:00:00"))
    )
    assert isinstance(data, binding.Base64) and data == b"iVBORw=="
    assert moment == "1970-01-01T00:00:00"  # the basic form made extended, as xs:dateTime is


@pytest.mark.parametrize(
    "body",
    [
        b"<methodCall/>",
        b"<methodCall><methodName>a b</methodName></methodCall>",
        b"<methodCall><methodName>A</methodName><params/><params/></methodCall>",
        b"<methodCall><methodName>A</methodName><params><param/></params></methodCall>",
        b"<methodCall><methodName>A</methodName><params><param><value>x<string>y</string>"
        b"</value></param></params></methodCall>",
        b"<methodCall><methodName>A</methodName><params><param><value><boolean>2</boolean>"
        b"</value></param></params></methodCall>",
        b"<methodCall><methodName>A</methodName><params><param><value><i4>2147483648</i4>"
        b"</value></param></params></methodCall>",
        b"<methodCall><methodName>A</methodName><params><param><value><double>1e</double>"
        b"</value></param></params></methodCall>",
        b"<methodCall><methodName>A</methodName><params><param><value><struct><member>"
        b"<name>a</name></member></struct></value></param></params></methodCall>",
        b"<methodCall><methodName>A</methodName><params><param><value><array><value/>"
        b"</array></value></param></params></methodCall>",
        b"<methodCall><methodName>A</methodName><params><param><value><string><i4>1</i4>"
        b"</string></value></param></params></methodCall>",
    ],
)
def test_what_xmlrpc_does_not_define_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedRequestFault):
        binding.read_call(parse_request(body))


def test_a_repeated_struct_member_is_a_validation_fault() -> None:
    body = (
        b"<methodCall><methodName>A</methodName><params><param><value><struct>"
        b"<member><name>a</name><value>1</value></member>"
        b"<member><name>a</name><value>2</value></member>"
        b"</struct></value></param></params></methodCall>"
    )
    with pytest.raises(ValidationFault):
        binding.read_call(parse_request(body))


def test_arguments_positional_named_or_the_first_struct() -> None:
    upload = OPERATIONS["UploadImage"]
    assert binding.arguments(upload, ["a.png", binding.Base64(b"AAAA")]) == {
        "filename": "a.png",
        "content": "AAAA",
    }
    assert binding.arguments(upload, [{"filename": "a.png"}]) == {"filename": "a.png"}
    echo = OPERATIONS["EchoPerson"]
    ada = {"first_name": "Ada", "last_name": "Lovelace", "age": 36}
    assert binding.arguments(echo, [ada]) == {"person": ada}
    assert binding.arguments(echo, [{"person": ada}]) == {"person": ada}
    with pytest.raises(ValidationFault, match="at most 3"):
        binding.arguments(upload, ["a", "b", "c", "d"])
    with pytest.raises(ValidationFault, match="not binary"):
        binding.arguments(OPERATIONS["Greet"], [binding.Base64(b"QWRh")])
    with pytest.raises(ValidationFault, match="struct"):
        binding.arguments(echo, ["Ada"])
    with pytest.raises(ValidationFault, match="not an array"):
        binding.arguments(OPERATIONS["Greet"], [["Ada"]])


def test_signatures_follow_the_optional_parameters() -> None:
    assert binding.signatures(OPERATIONS["Greet"]) == [["string", "string"]]
    assert binding.signatures(OPERATIONS["ListImages"]) == [
        ["struct"],
        ["struct", "int"],
        ["struct", "int", "string"],
    ]
    assert binding.signatures(OPERATIONS["DescribeRequest"]) == [["struct"]]
