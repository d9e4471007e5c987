"""service.security.signature in process: what a signed request must be, and every hostile
shape a typed ``wsse:`` fault (the live tests send the same over HTTP)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import xmlsec
from lxml import etree

from service.faults import (
    FailedAuthenticationFault,
    FailedCheckFault,
    InvalidSecurityFault,
    InvalidSecurityTokenFault,
    MessageExpiredFault,
    SecurityTokenUnavailableFault,
    UnsupportedAlgorithmFault,
    WsSecurityFault,
)
from service.ns import DS, WSSE, WSU
from service.security.certificates import CertificateError, read_certificate
from service.security.signature import SignaturePolicy, Signer, verify
from service.security.usernametoken import SECURITY, Freshness
from service.security.users import UserStore
from service.soap.envelope import SoapVersion, open_envelope
from service.soap.hardening import parse_request
from tests.wssec import Identity, body_of, greet_envelope, make_identity, sign

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.fixture(scope="module")
def identities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Identity]:
    where = tmp_path_factory.mktemp("certs")
    return {
        "client": make_identity(where, "client"),
        "stranger": make_identity(where, "stranger"),
        "expired": make_identity(
            where, "expired", valid_from=datetime.now(UTC) - timedelta(days=60), days=30
        ),
        "orphan": make_identity(where, "orphan"),
    }


@pytest.fixture
def users(tmp_path: Path, identities: dict[str, Identity]) -> Iterator[UserStore]:
    with UserStore(tmp_path) as store:
        store.add("tester", "a long password")
        store.add("ghost", "a long password")
        store.trust.add(identities["client"].certificate, "tester")
        store.trust.add(identities["expired"].certificate, "tester")
        store.trust.add(identities["orphan"].certificate, "ghost")
        store.remove("ghost")  # the certificate stays, its user is gone
        yield store


def check(
    envelope: etree._Element,
    users: UserStore,
    policy: SignaturePolicy = SignaturePolicy(),  # noqa: B008
    now: float | None = None,
) -> Signer:
    """What the service makes of ``envelope``: parsed and opened as a request is."""
    root = parse_request(etree.tostring(envelope))
    request = open_envelope(root, SoapVersion.SOAP11)
    assert request.header is not None
    security = request.header.find(SECURITY)
    assert security is not None
    return verify(security, request.operation.getparent(), users, Freshness(), policy, now=now)


def refused(envelope: etree._Element, users: UserStore, **kwargs: object) -> WsSecurityFault:
    with pytest.raises(WsSecurityFault) as caught:
        check(envelope, users, **kwargs)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize("key_reference", ["bst", "ski", "thumbprint", "issuer_serial"])
def test_a_signature_over_body_and_timestamp_names_the_certificates_user(
    users: UserStore, identities: dict[str, Identity], key_reference: str
) -> None:
    signed = sign(greet_envelope(), identities["client"], key_reference=key_reference)
    signer = check(signed, users)
    assert signer.user.name == "tester"
    assert signer.fingerprint == identities["client"].fingerprint


def test_node_soaps_default_transforms_are_taken(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    """node-soap's WSSecurityCert sends enveloped-signature, then exc-c14n."""
    transforms = (xmlsec.constants.TransformEnveloped, xmlsec.constants.TransformExclC14N)
    signed = sign(greet_envelope(), identities["client"], transforms=transforms)
    assert check(signed, users).user.name == "tester"


def test_zeeps_binary_signature_is_taken(users: UserStore, identities: dict[str, Identity]) -> None:
    from zeep.wsse.signature import BinarySignature

    from tests.wssec import add_timestamp

    envelope = greet_envelope()
    add_timestamp(envelope)
    client = identities["client"]
    BinarySignature(
        str(client.key_path),
        str(client.cert_path),
        signature_method=xmlsec.constants.TransformRsaSha256,
        digest_method=xmlsec.constants.TransformSha256,
    ).apply(envelope, {})
    assert check(envelope, users).user.name == "tester"


def test_a_tampered_body_fails_the_check(users: UserStore, identities: dict[str, Identity]) -> None:
    signed = sign(greet_envelope("Ada"), identities["client"])
    body_of(signed)[0][0].text = "Mallory"
    assert isinstance(refused(signed, users), FailedCheckFault)


def test_a_tampered_timestamp_fails_the_check(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    signed = sign(greet_envelope(), identities["client"])
    created = signed.find(f".//{{{WSU}}}Created")
    assert created is not None
    created.text = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.5Z")
    assert isinstance(refused(signed, users), FailedCheckFault)


def test_the_body_moved_into_a_header_and_replaced_is_refused(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    """The classic wrapping attack: the signed Body kept (in a wrapper header), where
    a verifier resolving IDs over the document still finds it; a new Body dispatched."""
    signed = sign(greet_envelope("Ada"), identities["client"])
    header = signed.find(f"{{{SOAP11}}}Header")
    body = body_of(signed)
    assert header is not None
    wrapper = etree.SubElement(header, "{urn:attacker}Wrapper")
    wrapper.append(body)
    evil = etree.SubElement(signed, f"{{{SOAP11}}}Body")
    evil.append(copy.deepcopy(body[0]))
    evil[0][0].text = "Mallory"
    fault = refused(signed, users)
    assert isinstance(fault, FailedCheckFault)
    assert "Body" in fault.message


def test_a_second_body_with_the_signed_id_is_refused(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    """The same wrapping with the ID copied onto the new Body: an ID collision."""
    signed = sign(greet_envelope("Ada"), identities["client"])
    header = signed.find(f"{{{SOAP11}}}Header")
    body = body_of(signed)
    assert header is not None
    evil = copy.deepcopy(body)
    evil[0][0].text = "Mallory"
    etree.SubElement(header, "{urn:attacker}Wrapper").append(body)
    signed.append(evil)
    assert isinstance(refused(signed, users), InvalidSecurityFault)


def test_duplicate_ids_are_refused_whatever_their_attribute(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    signed = sign(greet_envelope(), identities["client"])
    body_id = body_of(signed).get(f"{{{WSU}}}Id")
    header = signed.find(f"{{{SOAP11}}}Header")
    assert header is not None and body_id
    etree.SubElement(header, "{urn:other}Note", ID=body_id)
    fault = refused(signed, users)
    assert isinstance(fault, InvalidSecurityFault)
    assert "more than once" in fault.message


def test_a_second_timestamp_is_refused(users: UserStore, identities: dict[str, Identity]) -> None:
    signed = sign(greet_envelope(), identities["client"])
    security = signed.find(f".//{{{WSSE}}}Security")
    stamp = signed.find(f".//{{{WSU}}}Timestamp")
    assert security is not None and stamp is not None
    second = copy.deepcopy(stamp)
    del second.attrib[f"{{{WSU}}}Id"]
    security.append(second)
    assert isinstance(refused(signed, users), InvalidSecurityFault)


def test_a_signature_over_the_operation_instead_of_the_body_is_refused(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    envelope = greet_envelope()
    from tests.wssec import add_timestamp

    stamp = add_timestamp(envelope)
    signed = sign(envelope, identities["client"], targets=[body_of(envelope)[0], stamp])
    fault = refused(signed, users)
    assert isinstance(fault, FailedCheckFault)
    assert "Body" in fault.message


def test_a_signature_without_the_timestamp_is_refused(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    envelope = greet_envelope()
    signed = sign(envelope, identities["client"], targets=[body_of(envelope)])
    fault = refused(signed, users)
    assert isinstance(fault, FailedCheckFault)
    assert "Timestamp" in fault.message


def test_an_expired_timestamp_is_message_expired(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    old = datetime.now(UTC) - timedelta(hours=1)
    signed = sign(greet_envelope(), identities["client"], timestamp=old)
    assert isinstance(refused(signed, users), MessageExpiredFault)


def test_rsa_sha1_is_refused_unless_allowed(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    def signed() -> etree._Element:
        return sign(
            greet_envelope(),
            identities["client"],
            signature_method=xmlsec.constants.TransformRsaSha1,
            digest_method=xmlsec.constants.TransformSha1,
        )

    assert isinstance(refused(signed(), users), UnsupportedAlgorithmFault)
    assert check(signed(), users, SignaturePolicy(allow_sha1=True)).user.name == "tester"


def test_a_sha1_digest_is_refused(users: UserStore, identities: dict[str, Identity]) -> None:
    signed = sign(
        greet_envelope(), identities["client"], digest_method=xmlsec.constants.TransformSha1
    )
    assert isinstance(refused(signed, users), UnsupportedAlgorithmFault)


@pytest.mark.parametrize(
    "algorithm",
    [
        "http://www.w3.org/TR/1999/REC-xpath-19991116",
        "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
        "http://www.w3.org/TR/1999/REC-xslt-19991116",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        "http://www.w3.org/2000/09/xmldsig#base64",
    ],
)
def test_a_transform_outside_the_allow_list_is_refused(
    users: UserStore, identities: dict[str, Identity], algorithm: str
) -> None:
    signed = sign(greet_envelope(), identities["client"])
    transform = signed.find(f".//{{{DS}}}Transform")
    assert transform is not None
    transform.set("Algorithm", algorithm)
    assert isinstance(refused(signed, users), UnsupportedAlgorithmFault)


def test_an_unknown_signature_method_is_refused(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    signed = sign(greet_envelope(), identities["client"])
    method = signed.find(f".//{{{DS}}}SignatureMethod")
    assert method is not None
    method.set("Algorithm", "http://www.w3.org/2000/09/xmldsig#hmac-sha1")
    assert isinstance(refused(signed, users), UnsupportedAlgorithmFault)


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "http://127.0.0.1:9/body.xml",
        "file:///etc/passwd",
        "#xpointer(/)",
        "#xpointer(id('x'))",
        "#no-such-id",
    ],
)
def test_a_reference_outside_this_envelope_is_refused(
    users: UserStore, identities: dict[str, Identity], uri: str
) -> None:
    signed = sign(greet_envelope(), identities["client"])
    reference = signed.find(f".//{{{DS}}}Reference")
    assert reference is not None
    reference.set("URI", uri)
    assert isinstance(refused(signed, users), InvalidSecurityFault)


def test_an_unknown_certificate_is_refused(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    signed = sign(greet_envelope(), identities["stranger"])
    assert isinstance(refused(signed, users), FailedAuthenticationFault)


def test_an_unknown_certificate_by_reference_is_unavailable(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    signed = sign(greet_envelope(), identities["stranger"], key_reference="ski")
    assert isinstance(refused(signed, users), SecurityTokenUnavailableFault)


def test_a_trusted_certificate_with_another_key_fails_the_check(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    """The client's certificate in the token, the stranger's key behind the signature."""
    signed = sign(greet_envelope(), identities["stranger"])
    token = signed.find(f".//{{{WSSE}}}BinarySecurityToken")
    assert token is not None
    import base64

    token.text = base64.b64encode(identities["client"].der).decode()
    assert isinstance(refused(signed, users), FailedCheckFault)


def test_an_expired_certificate_is_an_invalid_token(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    signed = sign(greet_envelope(), identities["expired"])
    assert isinstance(refused(signed, users), InvalidSecurityTokenFault)


def test_a_certificate_whose_user_is_gone_is_refused(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    """Removing a user removes their certificates: a new user of the same name inherits
    none of them."""
    assert users.trust.find("fingerprint", identities["orphan"].fingerprint) is None
    users.add("ghost", "a new ghost's password")
    signed = sign(greet_envelope(), identities["orphan"])
    assert isinstance(refused(signed, users), FailedAuthenticationFault)


def test_a_replayed_signature_is_refused(users: UserStore, identities: dict[str, Identity]) -> None:
    signed = sign(greet_envelope(), identities["client"])
    assert check(signed, users).user.name == "tester"
    fault = refused(signed, users)
    assert isinstance(fault, FailedAuthenticationFault)
    assert "replay" in fault.message


def test_two_signatures_are_refused(users: UserStore, identities: dict[str, Identity]) -> None:
    signed = sign(greet_envelope(), identities["client"])
    security = signed.find(f".//{{{WSSE}}}Security")
    signature = signed.find(f".//{{{DS}}}Signature")
    assert security is not None and signature is not None
    security.append(copy.deepcopy(signature))
    assert isinstance(refused(signed, users), InvalidSecurityFault)


def test_too_many_references_are_refused(users: UserStore, identities: dict[str, Identity]) -> None:
    envelope = greet_envelope()
    signed = sign(envelope, identities["client"])
    assert isinstance(
        refused(signed, users, policy=SignaturePolicy(max_references=1)), InvalidSecurityFault
    )


def test_the_trust_store_lists_and_removes(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    listed = {row.fingerprint: row.user for row in users.trust.list()}
    assert listed[identities["client"].fingerprint] == "tester"
    users.trust.remove(identities["client"].fingerprint)
    with pytest.raises(CertificateError):
        users.trust.remove(identities["client"].fingerprint)
    signed = sign(greet_envelope(), identities["client"])
    assert isinstance(refused(signed, users), FailedAuthenticationFault)
    with pytest.raises(CertificateError):
        read_certificate(b"not a certificate")


def test_xmlsec_and_lxml_share_one_libxml2() -> None:
    """python-xmlsec works on lxml's trees only when both link the same libxml2: a new
    lxml wheel with another libxml2 must fail here, not in production."""
    assert xmlsec.get_libxml_version() == etree.LIBXML_VERSION


def test_a_signature_and_a_usernametoken_must_name_one_user(
    users: UserStore, identities: dict[str, Identity]
) -> None:
    """Through identify: the signer, and a UsernameToken beside it, agree or are refused."""
    from zeep.wsse.username import UsernameToken

    from service.security.identity import Policy, identify

    users.add("other", "another long password")
    policy = Policy.parse("")

    def identified(name: str, password: str) -> str | None:
        envelope = greet_envelope()
        UsernameToken(name, password).apply(envelope, {})
        root = parse_request(etree.tostring(sign(envelope, identities["client"])))
        request = open_envelope(root, SoapVersion.SOAP11)
        user = identify("Greet", request.header, None, users, policy, request.operation.getparent())
        return user.name if user else None

    assert identified("tester", "a long password") == "tester"
    with pytest.raises(FailedAuthenticationFault):
        identified("other", "another long password")


@pytest.mark.parametrize("serial", ["\u00b2", "\u0661\u0662", "1" * 5000, "-1", ""])
def test_a_serial_number_that_is_none_is_refused(
    users: UserStore, identities: dict[str, Identity], serial: str
) -> None:
    signed = sign(greet_envelope(), identities["client"], key_reference="issuer_serial")
    element = signed.find(f".//{{{DS}}}X509SerialNumber")
    assert element is not None
    element.text = serial
    assert isinstance(refused(signed, users), InvalidSecurityFault)


def _variants(signed: etree._Element) -> Iterator[etree._Element]:
    """``signed`` with one element of its Security header removed, or one attribute, or
    one text emptied: each in turn."""
    security = signed.find(f".//{{{WSSE}}}Security")
    assert security is not None
    count = sum(1 for _ in security.iter())
    for index in range(1, count):
        for change in ("drop", "attributes", "text"):
            copied = copy.deepcopy(signed)
            target = list(copied.find(f".//{{{WSSE}}}Security").iter())[index]  # type: ignore[union-attr]
            if change == "drop":
                target.getparent().remove(target)
            elif change == "attributes":
                target.attrib.clear()
            else:
                target.text = "\u00e9" * 3
            yield copied


@pytest.mark.parametrize("key_reference", ["bst", "ski", "issuer_serial"])
def test_every_mutilation_of_the_header_is_a_wsse_fault(
    users: UserStore, identities: dict[str, Identity], key_reference: str
) -> None:
    """A broken Security header comes out as a wsse: fault, never as an exception of
    ours; what is left unsigned (KeyInfo's spelling, an optional ValueType) may change."""
    signed = sign(greet_envelope(), identities["client"], key_reference=key_reference)
    faults = 0
    for variant in _variants(signed):
        try:
            assert check(variant, users).user.name == "tester"
        except WsSecurityFault:
            faults += 1
    assert faults > 30


@pytest.mark.parametrize(
    ("change", "fault"),
    [
        ("junk", InvalidSecurityTokenFault),
        ("not base64", InvalidSecurityFault),
        ("value type", InvalidSecurityTokenFault),
        ("too long", InvalidSecurityFault),
        ("outside the header", SecurityTokenUnavailableFault),
    ],
)
def test_a_binary_security_token_that_is_no_certificate_is_refused(
    users: UserStore, identities: dict[str, Identity], change: str, fault: type[WsSecurityFault]
) -> None:
    import base64

    signed = sign(greet_envelope(), identities["client"])
    token = signed.find(f".//{{{WSSE}}}BinarySecurityToken")
    assert token is not None
    if change == "junk":
        token.text = base64.b64encode(b"\x30\x03\x02\x01\x00" * 20).decode()
    elif change == "not base64":
        token.text = "!!!"
    elif change == "value type":
        token.set("ValueType", "urn:something-else")
    elif change == "too long":
        token.text = "A" * 20000
    else:
        header = signed.find(f"{{{SOAP11}}}Header")
        assert header is not None
        etree.SubElement(header, "{urn:other}Elsewhere").append(token)
    assert isinstance(refused(signed, users), fault)
