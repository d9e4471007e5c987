"""X.509 test material: certificates made with ``cryptography``, and a WS-Security signer.

``sign`` lays a signature out as WS-Security's X.509 Token Profile does (the layout
zeep's ``BinarySignature`` writes), with what the hostile tests vary: which elements
are signed, how the key is referenced, the algorithms. libxmlsec1 (python-xmlsec)
computes the signature, as zeep's does.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from zeep.wsse.utils import ensure_id, get_security_header

from service.ns import DS, WSSE, WSU
from service.security.signature import BASE64_BINARY, SKI, THUMBPRINT_SHA1, X509V3
from tests.live_server import ROOT, LiveServer

STAMP = "%Y-%m-%dT%H:%M:%SZ"


def stamp_text(moment: datetime) -> str:
    """xs:dateTime to the millisecond, as WSS4J and node-soap write it: two identical
    calls in one second are two messages, not one replayed."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Identity:
    """A key and its certificate, PEM, and the files they were written to."""

    key_pem: bytes
    cert_pem: bytes
    certificate: x509.Certificate
    key_path: Path
    cert_path: Path

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest()


def make_identity(
    directory: Path, name: str, *, valid_from: datetime | None = None, days: float = 30
) -> Identity:
    """An RSA 2048 key and a self-signed certificate valid from ``valid_from`` for ``days``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "soap-service tests"),
        ]
    )
    start = valid_from or datetime.now(UTC) - timedelta(hours=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.pem"
    key_path.write_bytes(key_pem)
    cert_path.write_bytes(cert_pem)
    return Identity(key_pem, cert_pem, certificate, key_path, cert_path)


def add_timestamp(envelope: etree._Element, created: datetime | None = None) -> etree._Element:
    """A ``wsu:Timestamp`` in the envelope's Security header (made if missing)."""
    created = created or datetime.now(UTC)
    security = get_security_header(envelope)
    stamp = etree.SubElement(security, f"{{{WSU}}}Timestamp")
    etree.SubElement(stamp, f"{{{WSU}}}Created").text = stamp_text(created)
    etree.SubElement(stamp, f"{{{WSU}}}Expires").text = stamp_text(created + timedelta(minutes=5))
    return stamp


class TimestampPlugin:
    """zeep ``wsse``: a fresh Timestamp, applied before ``BinarySignature`` signs it."""

    def apply(self, envelope: etree._Element, headers: dict[str, Any]) -> tuple[Any, Any]:
        add_timestamp(envelope)
        return envelope, headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        return envelope


def body_of(envelope: etree._Element) -> etree._Element:
    return envelope.find(f"{{{etree.QName(envelope).namespace}}}Body")  # type: ignore[return-value]


def sign(
    envelope: etree._Element,
    signer: Identity,
    *,
    targets: list[etree._Element] | None = None,
    key_reference: str = "bst",
    signature_method: Any = xmlsec.constants.TransformRsaSha256,
    digest_method: Any = xmlsec.constants.TransformSha256,
    transforms: tuple[Any, ...] = (xmlsec.constants.TransformExclC14N,),
    timestamp: datetime | None = None,
) -> etree._Element:
    """``envelope`` signed by ``signer`` over ``targets`` (default: the Body and a fresh
    Timestamp); ``key_reference``: bst, ski, thumbprint or issuer_serial."""
    security = get_security_header(envelope)
    stamp = security.find(f"{{{WSU}}}Timestamp")
    if stamp is None:
        stamp = add_timestamp(envelope, timestamp)
    signature = xmlsec.template.create(
        envelope, xmlsec.constants.TransformExclC14N, signature_method
    )
    security.insert(0, signature)
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(signer.key_pem, xmlsec.constants.KeyDataFormatPem)
    for target in targets if targets is not None else [body_of(envelope), stamp]:
        node_id = ensure_id(target)
        context.register_id(target, "Id", WSU)
        reference = xmlsec.template.add_reference(signature, digest_method, uri=f"#{node_id}")
        for transform in transforms:
            xmlsec.template.add_transform(reference, transform)
    key_info = xmlsec.template.ensure_key_info(signature)
    context.sign(signature)
    pointer = etree.SubElement(key_info, f"{{{WSSE}}}SecurityTokenReference")
    if key_reference == "bst":
        token = etree.Element(
            f"{{{WSSE}}}BinarySecurityToken",
            ValueType=X509V3,
            EncodingType=BASE64_BINARY,
        )
        token.text = base64.b64encode(signer.der).decode()
        security.insert(1, token)
        etree.SubElement(
            pointer, f"{{{WSSE}}}Reference", URI=f"#{ensure_id(token)}", ValueType=X509V3
        )
    elif key_reference in ("ski", "thumbprint"):
        if key_reference == "ski":
            value = signer.certificate.extensions.get_extension_for_class(
                x509.SubjectKeyIdentifier
            ).value.digest
        else:
            value = hashlib.sha1(signer.der).digest()
        identifier = etree.SubElement(
            pointer,
            f"{{{WSSE}}}KeyIdentifier",
            ValueType=SKI if key_reference == "ski" else THUMBPRINT_SHA1,
            EncodingType=BASE64_BINARY,
        )
        identifier.text = base64.b64encode(value).decode()
    else:
        data = etree.SubElement(pointer, f"{{{DS}}}X509Data")
        issuer_serial = etree.SubElement(data, f"{{{DS}}}X509IssuerSerial")
        etree.SubElement(
            issuer_serial, f"{{{DS}}}X509IssuerName"
        ).text = signer.certificate.issuer.rfc4514_string()
        etree.SubElement(issuer_serial, f"{{{DS}}}X509SerialNumber").text = str(
            signer.certificate.serial_number
        )
    return envelope


def trust(server: LiveServer, identity: Identity, user: str = "tester") -> None:
    """``soap-service certs add`` of ``identity``'s certificate for ``user`` on ``server``."""
    done = certs(server, "add", str(identity.cert_path), "--user", user)
    assert done.returncode == 0 or "already" in done.stderr, done.stderr


def certs(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    """``soap-service certs ARGS`` on ``server``'s data (and database)."""
    env = {**os.environ}
    if server.database_url:
        env["SOAP_SERVICE_DATABASE_URL"] = server.database_url
    return subprocess.run(
        [sys.executable, "-m", "service", "certs", *args, "--data-dir", str(server.data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )


def greet_envelope(name: str = "Ada", soap12: bool = False) -> etree._Element:
    soap = (
        "http://www.w3.org/2003/05/soap-envelope"
        if soap12
        else "http://schemas.xmlsoap.org/soap/envelope/"
    )
    return etree.fromstring(
        f'<s:Envelope xmlns:s="{soap}"><s:Header/><s:Body>'
        f'<Greet xmlns="urn:soap-service:v1"><name>{name}</name></Greet>'
        "</s:Body></s:Envelope>".encode()
    )
