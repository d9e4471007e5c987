"""X.509-signed requests against the real server, on both ports and both backends.

zeep signs as its documentation shows (``zeep.wsse.signature.BinarySignature``, with a
``wsu:Timestamp`` applied first, RSA-SHA256 and SHA-256) and checks each signed response
with zeep's own ``verify_envelope`` and the certificate the service publishes at
``/certificate.pem``. The trust store is filled through ``soap-service certs add``. Each
hostile request is a typed ``wsse:`` fault with one access-log line, and neither key
nor certificate body ever reaches the log.
"""

from __future__ import annotations

import base64
import copy
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import xmlsec
import zeep
import zeep.exceptions
from lxml import etree
from zeep.wsse.compose import Compose
from zeep.wsse.signature import BinarySignature, verify_envelope

from service.ns import DS, WSSE, WSU
from tests.images import make_noise_png
from tests.live_server import LiveServer
from tests.wssec import (
    Identity,
    TimestampPlugin,
    add_timestamp,
    body_of,
    certs,
    greet_envelope,
    make_identity,
    sign,
    trust,
)

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(scope="module")
def identities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Identity]:
    where = tmp_path_factory.mktemp("x509")
    past = datetime.now(UTC) - timedelta(days=60)
    return {
        "client": make_identity(where, "client"),
        "stranger": make_identity(where, "stranger"),
        "expired": make_identity(where, "expired", valid_from=past, days=30),
    }


@pytest.fixture(scope="module")
def trusted(
    live_server: LiveServer,
    identities: dict[str, Identity],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Path]:
    """The client's and the expired certificates trusted for ``tester``; the service's
    certificate, fetched from /certificate.pem, in a file."""
    for name in ("client", "expired"):
        trust(live_server, identities[name])
    listed = certs(live_server, "list")
    assert identities["client"].fingerprint in listed.stdout
    assert identities["stranger"].fingerprint not in listed.stdout
    answer = requests.get(live_server.url + "/certificate.pem", timeout=30)
    assert answer.status_code == 200
    assert answer.content.startswith(b"-----BEGIN CERTIFICATE-----")
    assert b"PRIVATE KEY" not in answer.content
    path = tmp_path_factory.mktemp("service-cert") / "service.pem"
    path.write_bytes(answer.content)
    yield path


class SignedExchange(BinarySignature):  # type: ignore[misc]
    """zeep's BinarySignature signing the requests; the responses verified, as zeep's
    ``verify_envelope`` does, with the service's published certificate."""

    def __init__(self, client: Identity, service_cert: Path) -> None:
        super().__init__(
            str(client.key_path),
            str(client.cert_path),
            signature_method=xmlsec.constants.TransformRsaSha256,
            digest_method=xmlsec.constants.TransformSha256,
        )
        self.service_cert = service_cert
        self.verified = 0

    def verify(self, envelope: etree._Element) -> etree._Element:
        verify_envelope(envelope, str(self.service_cert))
        self.verified += 1
        return envelope


@pytest.mark.parametrize("port", ["SoapServiceSoap11", "SoapServiceSoap12"])
def test_zeep_signs_every_operation_and_verifies_every_answer(
    live_server: LiveServer, identities: dict[str, Identity], trusted: Path, port: str
) -> None:
    exchange = SignedExchange(identities["client"], trusted)
    client = zeep.Client(
        live_server.url + "/soap?wsdl", wsse=Compose([TimestampPlugin(), exchange])
    )
    service = client.bind("SoapService", port)
    assert service.Greet(name="Ada") == "Hello, Ada!"
    assert service.GetTime(timezone="Europe/Paris").timezone == "Europe/Paris"
    person = {"first_name": "Ada", "last_name": "Lovelace", "age": 36}
    assert service.EchoPerson(person=person).age == 36
    described = service.DescribeRequest()
    assert described.user == "tester"  # the certificate's user
    receipt = service.UploadImage(filename=f"{uuid.uuid4().hex}.png", content=PNG)
    image = service.GetImage(image_id=receipt.image_id)
    assert image.content == PNG
    listed = service.ListImages(page_size=100)
    assert receipt.image_id in {item.image_id for item in listed.images.ImageReceipt}
    assert service.DeleteImage(image_id=receipt.image_id).image_id == receipt.image_id
    assert exchange.verified == 8  # every answer carried the service's valid signature
    with pytest.raises(zeep.exceptions.Fault) as caught:
        service.Greet(name=" ")  # a declared fault to a signed request is answered too
    assert "Validation" in str(caught.value.code) + "".join(
        str(code) for code in (caught.value.subcodes or [])
    )


def test_a_signed_answer_to_a_large_getimage_is_whole_and_verifies(
    live_server: LiveServer, identities: dict[str, Identity], trusted: Path
) -> None:
    """An image over LOAD_WHOLE is read from the store as the answer is sent
    (service.soap.streamed); signing needs it whole first, and the signed answer holds it."""
    exchange = SignedExchange(identities["client"], trusted)
    client = zeep.Client(
        live_server.url + "/soap?wsdl", wsse=Compose([TimestampPlugin(), exchange])
    )
    big = make_noise_png(600 * 1024)
    receipt = client.service.UploadImage(filename="big.png", content=big)
    assert client.service.GetImage(image_id=receipt.image_id).content == big
    assert exchange.verified == 2
    client.service.DeleteImage(image_id=receipt.image_id)


def test_a_tampered_signed_response_fails_zeeps_verification(
    live_server: LiveServer, identities: dict[str, Identity], trusted: Path
) -> None:
    signed = sign(greet_envelope(), identities["client"])
    answer = requests.post(
        live_server.url + "/soap",
        data=etree.tostring(signed),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    envelope = etree.fromstring(answer.content)
    verify_envelope(envelope, str(trusted))
    assert envelope.find(f".//{{{WSU}}}Timestamp/{{{WSU}}}Expires") is not None
    greeting = body_of(envelope)[0][0]
    greeting.text = "Hello, Mallory!"
    with pytest.raises(zeep.exceptions.SignatureVerificationFailed):
        verify_envelope(envelope, str(trusted))


def test_unsigned_requests_get_unsigned_answers(live_server: LiveServer) -> None:
    answer = requests.post(
        live_server.url + "/soap",
        data=etree.tostring(greet_envelope()),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=30,
    )
    assert answer.status_code == 200
    assert b"Signature" not in answer.content


def _header(envelope: etree._Element) -> etree._Element:
    header = envelope.find(f"{{{etree.QName(envelope).namespace}}}Header")
    assert header is not None
    return header


def _moved_body(ids: dict[str, Identity], soap12: bool) -> etree._Element:
    signed = sign(greet_envelope("Ada", soap12), ids["client"])
    body = body_of(signed)
    etree.SubElement(_header(signed), "{urn:attacker}Wrapper").append(body)
    evil = etree.SubElement(signed, body.tag)
    evil.append(copy.deepcopy(body[0]))
    evil[0][0].text = "Mallory"
    return signed


def _tampered(ids: dict[str, Identity], soap12: bool) -> etree._Element:
    signed = sign(greet_envelope("Ada", soap12), ids["client"])
    body_of(signed)[0][0].text = "Mallory"
    return signed


def _wrong_element(ids: dict[str, Identity], soap12: bool) -> etree._Element:
    envelope = greet_envelope("Ada", soap12)
    stamp = add_timestamp(envelope)
    return sign(envelope, ids["client"], targets=[body_of(envelope)[0], stamp])


def _algorithm(ids: dict[str, Identity], soap12: bool) -> etree._Element:
    return sign(
        greet_envelope("Ada", soap12),
        ids["client"],
        signature_method=xmlsec.constants.TransformRsaSha1,
        digest_method=xmlsec.constants.TransformSha1,
    )


def _external(ids: dict[str, Identity], soap12: bool) -> etree._Element:
    signed = sign(greet_envelope("Ada", soap12), ids["client"])
    reference = signed.find(f".//{{{DS}}}Reference")
    assert reference is not None
    reference.set("URI", "http://127.0.0.1:9/body.xml")
    return signed


def _duplicate_ids(ids: dict[str, Identity], soap12: bool) -> etree._Element:
    signed = sign(greet_envelope("Ada", soap12), ids["client"])
    body_id = body_of(signed).get(f"{{{WSU}}}Id") or ""
    etree.SubElement(_header(signed), "{urn:other}Note", ID=body_id)
    return signed


def _unknown(ids: dict[str, Identity], soap12: bool) -> etree._Element:
    return sign(greet_envelope("Ada", soap12), ids["stranger"])


def _unknown_ski(ids: dict[str, Identity], soap12: bool) -> etree._Element:
    return sign(greet_envelope("Ada", soap12), ids["stranger"], key_reference="ski")


def _expired_certificate(ids: dict[str, Identity], soap12: bool) -> etree._Element:
    return sign(greet_envelope("Ada", soap12), ids["expired"])


def _expired_timestamp(ids: dict[str, Identity], soap12: bool) -> etree._Element:
    old = datetime.now(UTC) - timedelta(hours=1)
    return sign(greet_envelope("Ada", soap12), ids["client"], timestamp=old)


#: each hostile request: how it is made, and the wsse: fault it gets
HOSTILE: dict[str, tuple[Callable[[dict[str, Identity], bool], etree._Element], str]] = {
    "unknown certificate": (_unknown, "FailedAuthentication"),
    "unknown certificate by its key identifier": (_unknown_ski, "SecurityTokenUnavailable"),
    "expired certificate": (_expired_certificate, "InvalidSecurityToken"),
    "tampered body": (_tampered, "FailedCheck"),
    "moved body": (_moved_body, "FailedCheck"),
    "wrong element signed": (_wrong_element, "FailedCheck"),
    "expired timestamp": (_expired_timestamp, "MessageExpired"),
    "unknown algorithm": (_algorithm, "UnsupportedAlgorithm"),
    "external URI": (_external, "InvalidSecurity"),
    "duplicate IDs": (_duplicate_ids, "InvalidSecurity"),
}


def wsse_code(answer: requests.Response) -> str:
    """The local name of the fault's ``wsse:`` code (SOAP 1.1's faultcode, SOAP 1.2's
    subcode), its prefix resolved to the WS-Security namespace."""
    root = etree.fromstring(answer.content)
    for element in root.iter("faultcode", f"{{{SOAP12}}}Value"):
        prefix, _, local = (element.text or "").partition(":")
        if element.nsmap.get(prefix) == WSSE:
            return local
    raise AssertionError(answer.text)


def _post(
    server: LiveServer, envelope: etree._Element, soap12: bool = False
) -> tuple[requests.Response, str]:
    request_id = f"x509-{uuid.uuid4().hex[:12]}"
    media = "application/soap+xml" if soap12 else "text/xml"
    answer = requests.post(
        server.url + ("/soap12" if soap12 else "/soap"),
        data=etree.tostring(envelope),
        headers={"Content-Type": f"{media}; charset=utf-8", "X-Request-ID": request_id},
        timeout=30,
    )
    return answer, request_id


@pytest.mark.parametrize("soap12", [False, True], ids=["soap11", "soap12"])
@pytest.mark.parametrize("case", list(HOSTILE))
def test_each_hostile_signature_is_a_typed_wsse_fault_logged_once(
    live_server: LiveServer,
    identities: dict[str, Identity],
    trusted: Path,
    case: str,
    soap12: bool,
) -> None:
    make, code = HOSTILE[case]
    answer, request_id = _post(live_server, make(identities, soap12), soap12)
    assert answer.status_code == 500, answer.text
    assert wsse_code(answer) == code, answer.text
    assert b"Signature" not in answer.content  # a refused request's fault is not signed
    line = live_server.access_line(request_id)
    assert f"fault=wsse:{code}" in line, line
    log = live_server.log_text()
    assert "Traceback" not in log
    assert "PRIVATE KEY" not in log
    for identity in identities.values():
        assert base64.b64encode(identity.der).decode()[40:100] not in log  # no certificate


def test_a_replayed_signature_is_refused_by_every_worker(
    live_server: LiveServer, identities: dict[str, Identity], trusted: Path
) -> None:
    signed = sign(greet_envelope(), identities["client"])
    first, _ = _post(live_server, signed, soap12=False)
    assert first.status_code == 200, first.text
    for _ in range(4):  # two workers: each refuses it
        again, request_id = _post(live_server, signed, soap12=False)
        assert wsse_code(again) == "FailedAuthentication"
        assert "fault=wsse:FailedAuthentication" in live_server.access_line(request_id)


def test_a_removed_certificate_is_no_longer_trusted(
    live_server: LiveServer, tmp_path: Path, trusted: Path
) -> None:
    other = make_identity(tmp_path, "temporary")
    added = certs(live_server, "add", str(other.cert_path), "--user", "tester")
    assert added.returncode == 0, added.stderr
    answer, _ = _post(live_server, sign(greet_envelope(), other), soap12=False)
    assert answer.status_code == 200, answer.text
    removed = certs(live_server, "remove", other.fingerprint)
    assert removed.returncode == 0, removed.stderr
    answer, _ = _post(live_server, sign(greet_envelope(), other), soap12=False)
    assert wsse_code(answer) == "FailedAuthentication"
    assert certs(live_server, "remove", other.fingerprint).returncode == 2
    unknown_user = certs(live_server, "add", str(other.cert_path), "--user", "nobody-here")
    assert unknown_user.returncode == 2 and "no user" in unknown_user.stderr


def test_a_signed_request_names_its_user_for_authorisation(
    live_server: LiveServer, identities: dict[str, Identity], trusted: Path
) -> None:
    """UploadImage needs a user: the signature alone is enough, no password sent."""
    upload = etree.fromstring(
        f'<s:Envelope xmlns:s="{SOAP11}"><s:Header/><s:Body>'
        '<UploadImage xmlns="urn:soap-service:v1"><filename>x.png</filename>'
        f"<content>{base64.b64encode(PNG).decode()}</content></UploadImage>"
        "</s:Body></s:Envelope>".encode()
    )
    unsigned, _ = _post(live_server, copy.deepcopy(upload))
    assert unsigned.status_code == 401
    answer, _ = _post(live_server, sign(upload, identities["client"]))
    assert answer.status_code == 200, answer.text
    assert b"image_id" in answer.content


def test_a_signed_mtom_request_is_refused(
    live_server: LiveServer, identities: dict[str, Identity], trusted: Path
) -> None:
    """A signature over an xop:Include covers the reference, not the part's bytes, which
    could be swapped under it: signed requests carry their binary inline."""
    from tests.mtom_messages import message, upload_envelope

    signed = sign(etree.fromstring(upload_envelope("1.1")), identities["client"])
    package = message("1.1", etree.tostring(signed), [("image-1@tests", PNG)])
    request_id = f"x509-{uuid.uuid4().hex[:12]}"
    answer = requests.post(
        live_server.url + "/soap",
        data=package.body,
        headers={"Content-Type": package.content_type, "X-Request-ID": request_id},
        timeout=30,
    )
    assert answer.status_code == 500
    assert b"inline" in answer.content
    assert "fault=wsse:InvalidSecurity" in live_server.access_line(request_id)
