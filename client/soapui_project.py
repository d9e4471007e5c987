"""The SoapUI project shipped for testers: every operation and every declared fault.

``python -m client.soapui_project`` (``make soapui``) writes
``client/soapui/soap-service-soapui-project.xml`` from the committed WSDL and
the cases below; the output is deterministic, and a test fails when the
committed project is out of date. Each test step carries SoapUI assertions
(valid SOAP response, fault or not, schema compliance, XPath on the result or
on the fault code and detail). Requests go to ``${#Project#endpoint}``, a
project property (default ``http://localhost:8000``); operations that need a
user (UploadImage) send HTTP Basic credentials from the project properties
``username`` and ``password``.
"""

from __future__ import annotations

import base64
import re
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape, quoteattr

from client.client import TNS
from service import ns
from service.imaging import TINY_PNG

HERE: Final = Path(__file__).resolve().parent
WSDL_PATH: Final = HERE / "service.wsdl"
PROJECT_PATH: Final = HERE / "soapui" / "soap-service-soapui-project.xml"
CON: Final = "http://eviware.com/soapui/config"
ENVELOPES: Final = {"1_1": ns.SOAP11_ENV, "1_2": ns.SOAP12_ENV}


@dataclass(frozen=True)
class Case:
    name: str
    operation: str
    body: str
    #: (XPath after the namespace declarations, expected text)
    checks: tuple[tuple[str, str], ...]
    fault: str | None = None  # the fault's code words: "Validation", "ImageRejected"


CASES: Final = (
    Case(
        "Greet",
        "Greet",
        "<tns:Greet><tns:name>Ada</tns:name></tns:Greet>",
        (("//tns:GreetResult/text()", "Hello, Ada!"),),
    ),
    Case(
        "Greet blank name",
        "Greet",
        "<tns:Greet><tns:name> </tns:name></tns:Greet>",
        (("//tns:ValidationFaultDetail/tns:field/text()", "name"),),
        fault="Validation",
    ),
    Case(
        "GetTime in UTC",
        "GetTime",
        "<tns:GetTime/>",
        (("//tns:GetTimeResult/tns:timezone/text()", "UTC"),),
    ),
    Case(
        "GetTime in a zone",
        "GetTime",
        "<tns:GetTime><tns:timezone>Asia/Kolkata</tns:timezone></tns:GetTime>",
        (("//tns:GetTimeResult/tns:timezone/text()", "Asia/Kolkata"),),
    ),
    Case(
        "GetTime unknown zone",
        "GetTime",
        "<tns:GetTime><tns:timezone>Mars/Olympus_Mons</tns:timezone></tns:GetTime>",
        (("//tns:ValidationFaultDetail/tns:field/text()", "timezone"),),
        fault="Validation",
    ),
    Case(
        "EchoPerson",
        "EchoPerson",
        "<tns:EchoPerson><tns:person><tns:first_name>Ada</tns:first_name>"
        "<tns:last_name>Lovelace</tns:last_name><tns:age>36</tns:age></tns:person></tns:EchoPerson>",
        (
            ("//tns:EchoPersonResult/tns:first_name/text()", "Ada"),
            ("//tns:EchoPersonResult/tns:last_name/text()", "Lovelace"),
            ("//tns:EchoPersonResult/tns:age/text()", "36"),
        ),
    ),
    Case(
        "EchoPerson age 200",
        "EchoPerson",
        "<tns:EchoPerson><tns:person><tns:first_name>Ada</tns:first_name>"
        "<tns:last_name>Lovelace</tns:last_name><tns:age>200</tns:age></tns:person></tns:EchoPerson>",
        (("//tns:ValidationFaultDetail/tns:field/text()", "person/age"),),
        fault="Validation",
    ),
    Case(
        "DescribeRequest",
        "DescribeRequest",
        "<tns:DescribeRequest/>",
        (("//tns:DescribeRequestResult/tns:method/text()", "POST"),),
    ),
    Case(
        "UploadImage PNG",
        "UploadImage",
        "<tns:UploadImage><tns:filename>pixel.png</tns:filename>"
        f"<tns:content>{base64.b64encode(TINY_PNG).decode()}</tns:content>"
        "<tns:content_type>image/png</tns:content_type></tns:UploadImage>",
        (
            ("//tns:UploadImageResult/tns:format/text()", "png"),
            ("//tns:UploadImageResult/tns:width/text()", "1"),
            ("//tns:UploadImageResult/tns:size_bytes/text()", str(len(TINY_PNG))),
        ),
    ),
    Case(
        "UploadImage blank filename",
        "UploadImage",
        "<tns:UploadImage><tns:filename> </tns:filename>"
        f"<tns:content>{base64.b64encode(TINY_PNG).decode()}</tns:content></tns:UploadImage>",
        (("//tns:ValidationFaultDetail/tns:field/text()", "filename"),),
        fault="Validation",
    ),
    Case(
        "UploadImage not an image",
        "UploadImage",
        "<tns:UploadImage><tns:filename>notes.png</tns:filename>"
        f"<tns:content>{base64.b64encode(b'plain text').decode()}</tns:content></tns:UploadImage>",
        (("//tns:ImageRejectedFaultDetail/tns:reason/text()", "not_an_image"),),
        fault="ImageRejected",
    ),
    Case(
        "GetImage unknown id",
        "GetImage",
        "<tns:GetImage><tns:image_id>0000unknown</tns:image_id></tns:GetImage>",
        (("//tns:NotFoundFaultDetail/tns:image_id/text()", "0000unknown"),),
        fault="NotFound",
    ),
    Case(
        "GetImage empty id",
        "GetImage",
        "<tns:GetImage><tns:image_id></tns:image_id></tns:GetImage>",
        (("//tns:ValidationFaultDetail/tns:field/text()", "image_id"),),
        fault="Validation",
    ),
    Case(
        "ListImages",
        "ListImages",
        "<tns:ListImages><tns:page_size>5</tns:page_size></tns:ListImages>",
        (("local-name(//tns:ListImagesResult/tns:images)", "images"),),
    ),
    Case(
        "ListImages bad page token",
        "ListImages",
        "<tns:ListImages><tns:page_token>nope</tns:page_token></tns:ListImages>",
        (("//tns:ValidationFaultDetail/tns:field/text()", "page_token"),),
        fault="Validation",
    ),
    Case(
        "DeleteImage unknown id",
        "DeleteImage",
        "<tns:DeleteImage><tns:image_id>0000unknown</tns:image_id></tns:DeleteImage>",
        (("//tns:NotFoundFaultDetail/tns:image_id/text()", "0000unknown"),),
        fault="NotFound",
    ),
    Case(
        "DeleteImage empty id",
        "DeleteImage",
        "<tns:DeleteImage><tns:image_id></tns:image_id></tns:DeleteImage>",
        (("//tns:ValidationFaultDetail/tns:field/text()", "image_id"),),
        fault="Validation",
    ),
)


@dataclass(frozen=True)
class Transfer:
    """A SoapUI property transfer: text at ``path`` in ``source``'s response to a property."""

    name: str
    source: str
    path: str
    prop: str


@dataclass(frozen=True)
class TestCase:
    name: str
    steps: tuple[Case | Transfer, ...]


_ID_REF = "${#TestCase#image_id}"
LIFECYCLE: Final = TestCase(
    "Image lifecycle",
    (
        Case(
            "Upload",
            "UploadImage",
            "<tns:UploadImage><tns:filename>lifecycle.png</tns:filename>"
            f"<tns:content>{base64.b64encode(TINY_PNG).decode()}</tns:content></tns:UploadImage>",
            (("//tns:UploadImageResult/tns:format/text()", "png"),),
        ),
        Transfer("image_id", "Upload", "//tns:UploadImageResult/tns:image_id", "image_id"),
        Case(
            "Get",
            "GetImage",
            f"<tns:GetImage><tns:image_id>{_ID_REF}</tns:image_id></tns:GetImage>",
            (
                ("//tns:GetImageResult/tns:image_id/text()", _ID_REF),
                ("//tns:GetImageResult/tns:format/text()", "png"),
            ),
        ),
        Case(
            "Delete",
            "DeleteImage",
            f"<tns:DeleteImage><tns:image_id>{_ID_REF}</tns:image_id></tns:DeleteImage>",
            (("//tns:DeleteImageResult/tns:image_id/text()", _ID_REF),),
        ),
        Case(
            "Get after delete",
            "GetImage",
            f"<tns:GetImage><tns:image_id>{_ID_REF}</tns:image_id></tns:GetImage>",
            (("//tns:NotFoundFaultDetail/tns:image_id/text()", _ID_REF),),
            fault="NotFound",
        ),
    ),
)
TEST_CASES: Final = (*(TestCase(c.name, (c,)) for c in CASES), LIFECYCLE)

#: Operations the service's default policy lets anonymous callers use.
ANONYMOUS: Final = frozenset({"Greet", "GetTime", "EchoPerson", "DescribeRequest"})
NO_AUTH: Final = "<con:credentials><con:authType>No Authorization</con:authType></con:credentials>"
BASIC_AUTH: Final = (
    "<con:credentials><con:username>${#Project#username}</con:username>"
    "<con:password>${#Project#password}</con:password>"
    "<con:selectedAuthProfile>Basic</con:selectedAuthProfile>"
    "<con:addedBasicAuthenticationTypes>Basic</con:addedBasicAuthenticationTypes>"
    "<con:preemptive>true</con:preemptive><con:authType>Preemptive</con:authType>"
    "</con:credentials>"
)

INTERFACES: Final = (
    ("SoapServiceSoap11Binding", "1_1", "/soap"),
    ("SoapServiceSoap12Binding", "1_2", "/soap12"),
)


def _id(*names: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "soap-service:" + "/".join(names)))


def _envelope(version: str, body: str) -> str:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{ENVELOPES[version]}" xmlns:tns="{TNS}">\n'
        f"   <soapenv:Header/>\n   <soapenv:Body>\n      {body}\n   </soapenv:Body>\n"
        f"</soapenv:Envelope>"
    )


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _declarations(version: str) -> str:
    return f"declare namespace soap='{ENVELOPES[version]}'; declare namespace tns='{TNS}';\n"


def _assertions(case: Case, version: str, ids: tuple[str, ...]) -> list[str]:
    out = [f'<con:assertion type="SOAP Response" id="{_id(*ids, "soap")}" name="SOAP Response"/>']
    if case.fault:
        out.append(
            f'<con:assertion type="SOAP Fault Assertion" id="{_id(*ids, "fault")}" name="SOAP Fault"/>'
        )
        if version == "1_1":
            code = ("//soap:Fault/faultcode/text()", f"soap:Client.{case.fault}")
        else:
            code = ("//soap:Fault/soap:Code/soap:Subcode/soap:Value/text()", f"tns:{case.fault}")
        checks = (code, *case.checks)
    else:
        out.append(
            f'<con:assertion type="Not SOAP Fault Assertion" id="{_id(*ids, "nofault")}" '
            'name="Not SOAP Fault"/>'
        )
        out.append(
            f'<con:assertion type="Schema Compliance" id="{_id(*ids, "schema")}" '
            'name="Schema Compliance"><con:configuration><definition/></con:configuration>'
            "</con:assertion>"
        )
        checks = case.checks
    for index, (path, content) in enumerate(checks):
        out.append(
            f'<con:assertion type="XPath Match" id="{_id(*ids, "xpath", str(index))}" '
            f'name="XPath {index + 1}"><con:configuration>'
            f"<path>{escape(_declarations(version) + path)}</path>"
            f"<content>{escape(content)}</content><allowWildcards>false</allowWildcards>"
            "<ignoreNamspaceDifferences>false</ignoreNamspaceDifferences>"
            "<ignoreComments>false</ignoreComments></con:configuration></con:assertion>"
        )
    return out


def _step_name(test_case: TestCase, name: str, version: str) -> str:
    base = name if len(test_case.steps) > 1 else test_case.name
    return f"{base} (SOAP {version.replace('_', '.')})"


def _step(
    test_case: TestCase, step: Case | Transfer, binding: str, version: str, path: str
) -> list[str]:
    name = _step_name(test_case, step.name, version)
    ids = ("step", test_case.name, name, binding)
    if isinstance(step, Transfer):
        source = _step_name(test_case, step.source, version)
        return [
            f'<con:testStep type="transfer" id="{_id(*ids)}" name={quoteattr(name)}>'
            f'<con:settings/><con:config xsi:type="con:PropertyTransfersStep" xmlns:xsi="{ns.XSI}">'
            '<con:transfers setNullOnMissingSource="true" transferTextContent="true" '
            'failOnError="true" ignoreEmpty="false" transferToAll="false" entitize="false" '
            f'transferChildNodes="false"><con:name>{step.prop}</con:name>'
            f"<con:sourceType>Response</con:sourceType><con:sourceStep>{escape(source)}"
            f"</con:sourceStep><con:sourcePath>{escape(_declarations(version) + step.path)}"
            f"</con:sourcePath><con:targetType>{step.prop}</con:targetType>"
            "<con:targetStep>#TestCase#</con:targetStep></con:transfers>"
            "</con:config></con:testStep>"
        ]
    return [
        f'<con:testStep type="request" id="{_id(*ids)}" name={quoteattr(name)}><con:settings/>',
        f'<con:config xsi:type="con:RequestStep" xmlns:xsi="{ns.XSI}">'
        f"<con:interface>{binding}</con:interface><con:operation>{step.operation}</con:operation>",
        f'<con:request name={quoteattr(name)} id="{_id(*ids, "request")}">'
        "<con:settings/><con:encoding>UTF-8</con:encoding>"
        f"<con:endpoint>${{#Project#endpoint}}{path}</con:endpoint>"
        f"<con:request>{_cdata(_envelope(version, step.body))}</con:request>",
        *_assertions(step, version, ids),
        NO_AUTH if step.operation in ANONYMOUS else BASIC_AUTH,
        '<con:jmsConfig JMSDeliveryMode="PERSISTENT"/><con:jmsPropertyConfig/>'
        f'<con:wsaConfig mustUnderstand="NONE" version="200508" action="{TNS}/{step.operation}"/>'
        '<con:wsrmConfig version="1.2"/>',
        "</con:request></con:config></con:testStep>",
    ]


def render(wsdl: str) -> str:
    """The project document for the contract ``wsdl`` (its text)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<con:soapui-project id="{_id("project")}" activeEnvironment="Default" '
        f'name="soap-service" resourceRoot="" soapui-version="5.7.0" '
        f'abortOnError="false" runType="SEQUENTIAL" xmlns:con="{CON}">',
        "<con:settings/>",
    ]
    operations = re.findall(r'<wsdl:operation name="(\w+)">', wsdl.split("<wsdl:binding")[0])
    examples = {c.operation: c for t in TEST_CASES for c in t.steps if isinstance(c, Case)}
    for binding, version, path in INTERFACES:
        definition = "http://localhost:8000/soap?wsdl"
        lines += [
            f'<con:interface xsi:type="con:WsdlInterface" id="{_id(binding)}" wsaVersion="NONE" '
            f'name="{binding}" type="wsdl" bindingName="{{{TNS}}}{binding}" '
            f'soapVersion="{version}" anonymous="optional" definition="{definition}" '
            f'xmlns:xsi="{ns.XSI}">',
            "<con:settings/>",
            f'<con:definitionCache type="TEXT" rootPart="{definition}"><con:part>'
            f"<con:url>{definition}</con:url><con:content>{_cdata(wsdl)}</con:content>"
            "<con:type>http://schemas.xmlsoap.org/wsdl/</con:type></con:part></con:definitionCache>",
            f"<con:endpoints><con:endpoint>${{#Project#endpoint}}{path}</con:endpoint></con:endpoints>",
        ]
        for operation in operations:
            first = examples[operation]
            lines += [
                f'<con:operation id="{_id(binding, operation)}" isOneWay="false" '
                f'action="{TNS}/{operation}" name="{operation}" bindingOperationName="{operation}" '
                'type="Request-Response" inputName="" receivesAttachments="false" '
                'sendsAttachments="false" anonymous="optional"><con:settings/>',
                f'<con:call id="{_id(binding, operation, "call")}" name="Request 1">'
                "<con:settings/><con:encoding>UTF-8</con:encoding>"
                f"<con:endpoint>${{#Project#endpoint}}{path}</con:endpoint>"
                f"<con:request>{_cdata(_envelope(version, first.body))}</con:request>"
                f'<con:wsaConfig mustUnderstand="NONE" version="200508" action="{TNS}/{operation}"/>'
                "</con:call></con:operation>",
            ]
        lines.append("</con:interface>")
    lines += [
        f'<con:testSuite id="{_id("suite")}" name="soap-service contract">',
        "<con:settings/><con:runType>SEQUENTIAL</con:runType>",
    ]
    for test_case in TEST_CASES:
        lines.append(
            f'<con:testCase id="{_id("case", test_case.name)}" failOnError="true" '
            'failTestCaseOnErrors="true" keepSession="false" maxResults="0" '
            f'name="{test_case.name}" searchProperties="true"><con:settings/>'
        )
        for binding, version, path in INTERFACES:
            for step in test_case.steps:
                lines += _step(test_case, step, binding, version, path)
        props = sorted({s.prop for s in test_case.steps if isinstance(s, Transfer)})
        lines.append(
            "<con:properties>"
            + "".join(
                f"<con:property><con:name>{p}</con:name><con:value/></con:property>" for p in props
            )
            + "</con:properties></con:testCase>"
            if props
            else "<con:properties/></con:testCase>"
        )
    lines += [
        "<con:properties/></con:testSuite>",
        "<con:properties><con:property><con:name>endpoint</con:name>"
        "<con:value>http://localhost:8000</con:value></con:property>"
        "<con:property><con:name>username</con:name><con:value>soapui</con:value></con:property>"
        "<con:property><con:name>password</con:name><con:value>soapui-password</con:value>"
        "</con:property></con:properties>",
        "<con:wssContainer/><con:oAuth2ProfileContainer/><con:oAuth1ProfileContainer/>",
        "</con:soapui-project>",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    PROJECT_PATH.parent.mkdir(parents=True, exist_ok=True)
    PROJECT_PATH.write_text(render(WSDL_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {PROJECT_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
