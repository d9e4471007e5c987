"""service.soap.envelope.open_envelope in process, against the plain way it was first written."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from service import ns
from service.faults import (
    MalformedRequestFault,
    MustUnderstandFault,
    ServiceFault,
    VersionMismatchFault,
)
from service.soap.envelope import UNDERSTOOD, SoapVersion, open_envelope

_TARGETS = {
    SoapVersion.SOAP11: ("actor", {"", "http://schemas.xmlsoap.org/soap/actor/next"}),
    SoapVersion.SOAP12: (
        "role",
        {
            "",
            "http://www.w3.org/2003/05/soap-envelope/role/next",
            "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver",
        },
    ),
}


def _opened_the_plain_way(root: etree._Element, version: SoapVersion) -> Any:
    env = version.envelope_ns
    other = version.other
    if root.tag == f"{{{other.envelope_ns}}}Envelope":
        said, sent = version.content_type.split(";")[0], other.content_type.split(";")[0]
        raise VersionMismatchFault(
            f"The Content-Type is SOAP {version.value}'s ({said}); the envelope is SOAP"
            f" {other.value}. Send a SOAP {other.value} envelope as {sent}."
        )
    if root.tag != f"{{{env}}}Envelope" and etree.QName(root).localname == "Envelope":
        raise VersionMismatchFault(
            f"The envelope's namespace {etree.QName(root).namespace or '(none)'}"
            " is neither SOAP 1.1's nor SOAP 1.2's."
        )
    if root.tag != f"{{{env}}}Envelope":
        raise MalformedRequestFault(
            f"The document is not a SOAP {version.value} envelope"
            f" (expected {{{env}}}Envelope as the root element)."
        )
    children = [child for child in root if isinstance(child.tag, str)]
    header = None
    if children and children[0].tag == f"{{{env}}}Header":
        header = children.pop(0)
    if len(children) != 1 or children[0].tag != f"{{{env}}}Body":
        raise MalformedRequestFault(
            "The envelope must hold an optional Header and then exactly one Body."
        )
    operations = [child for child in children[0] if isinstance(child.tag, str)]
    if len(operations) != 1:
        raise MalformedRequestFault(
            f"The Body must hold exactly one operation element; it holds {len(operations)}."
        )
    if header is not None:
        attribute, ours = _TARGETS[version]
        for block in header:
            if not isinstance(block.tag, str) or block.tag in UNDERSTOOD:
                continue
            if block.get(f"{{{env}}}mustUnderstand", "0").strip() not in ("1", "true"):
                continue
            if block.get(f"{{{env}}}{attribute}", "").strip() in ours:
                raise MustUnderstandFault(
                    f"The header block {block.tag} is marked mustUnderstand, and this service"
                    " does not understand it."
                )
    return version, header, operations[0]


ENVS = st.sampled_from([ns.SOAP11_ENV, ns.SOAP12_ENV, "urn:other"])
OTHER = st.sampled_from(["<!-- c -->", "<?pi x?>", "  ", "text"])


@st.composite
def blocks(draw: st.DrawFn, env: str) -> str:
    name = draw(st.sampled_from(["t:Block", "wsse:Security", "Plain"]))
    attributes = ""
    if draw(st.booleans()):
        attributes += f' s:mustUnderstand="{draw(st.sampled_from(["1", "true", "0", " 1 "]))}"'
    if draw(st.booleans()):
        target = draw(st.sampled_from(["actor", "role"]))
        value = draw(
            st.sampled_from(
                [
                    "",
                    "http://schemas.xmlsoap.org/soap/actor/next",
                    "http://www.w3.org/2003/05/soap-envelope/role/next",
                    "urn:elsewhere",
                ]
            )
        )
        attributes += f' s:{target}="{value}"'
    return f"<{name}{attributes}/>"


@st.composite
def envelopes(draw: st.DrawFn) -> tuple[bytes, SoapVersion]:
    version = draw(st.sampled_from(list(SoapVersion)))
    env = draw(st.sampled_from([version.envelope_ns] * 4 + [version.other.envelope_ns, "urn:x"]))
    root = draw(st.sampled_from(["Envelope"] * 5 + ["Other"]))
    canonical = draw(st.sampled_from([["Body"], ["Header", "Body"]]))
    kinds = draw(
        st.one_of(
            st.just(canonical),
            st.lists(st.sampled_from(["Header", "Body", "Else", "other"]), max_size=4),
            st.builds(
                lambda kinds, at, noise: [*kinds[:at], noise, *kinds[at:]],
                st.just(canonical),
                st.integers(0, len(canonical)),
                st.sampled_from(["other", "Else", "Body", "Header"]),
            ),
        )
    )
    parts: list[str] = []
    for kind in kinds:
        if kind == "other":
            parts.append(draw(OTHER))
        elif kind == "Header":
            inner = "".join(draw(st.lists(blocks(env), max_size=3)))
            parts.append(f"<s:Header>{inner}</s:Header>")
        elif kind == "Body":
            inner = draw(
                st.one_of(
                    st.sampled_from(["<t:Op/>", "<t:Op2>x</t:Op2>"]),
                    st.lists(
                        st.sampled_from(["<t:Op/>", "<!-- c -->", " ", "<?pi?>"]), max_size=3
                    ).map("".join),
                )
            )
            parts.append(f"<s:Body>{inner}</s:Body>")
        else:
            parts.append("<s:Else/>")
    data = (
        f'<s:{root} xmlns:s="{env}" xmlns:t="{ns.TNS}" xmlns:wsse="{ns.WSSE}">'
        f"{''.join(parts)}</s:{root}>"
    ).encode()
    return data, version


def _outcome(open_: Any, data: bytes, version: SoapVersion) -> Any:
    root = etree.fromstring(data)  # comments and processing instructions kept
    try:
        opened = open_(root, version)
    except ServiceFault as fault:
        return type(fault), str(fault)
    header = None if opened[1] is None else etree.tostring(opened[1])
    return opened[0], header, etree.tostring(opened[2])


@settings(max_examples=1500, deadline=None)
@given(request=envelopes())
def test_envelopes_open_as_the_plain_way_opens_them(request: tuple[bytes, SoapVersion]) -> None:
    data, version = request
    assert _outcome(open_envelope, data, version) == _outcome(_opened_the_plain_way, data, version)


def test_an_mtom_requests_parts_are_carried_along() -> None:
    data = f'<s:Envelope xmlns:s="{ns.SOAP11_ENV}"><s:Body><a/></s:Body></s:Envelope>'.encode()
    parts = {"p@t": memoryview(b"x")}
    assert open_envelope(etree.fromstring(data), SoapVersion.SOAP11, parts).attachments is parts
