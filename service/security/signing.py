"""The service's own signature on the responses to signed requests.

When a request's X.509 signature verified (``service.security.signature``), its
response (the result or a fault) carries a ``wsse:Security`` header with a fresh
``wsu:Timestamp`` (Created now, Expires ``TOKEN_LIFETIME`` later), a
``wsse:BinarySecurityToken`` with the service's certificate, and a ``ds:Signature``
over the Body and the Timestamp: exclusive C14N, RSA-SHA256, SHA-256 digests. The
signing is zeep's ``BinarySignature`` (libxmlsec1 through python-xmlsec), the very
layout zeep's ``verify_envelope`` and WSS4J read.

The key and certificate: ``SIGNING_KEY_FILE`` and ``SIGNING_CERT_FILE`` (PEM; one
file may hold both). Left empty, ``signing.pem`` in the data directory holds both,
made at start when missing: RSA 3072, a self-signed certificate for
``SIGNING_CERT_DAYS`` days named after the public URL, mode 0600, when first needed (the first signed
request, or the first fetch of the certificate), written to a temporary file and
linked into place so workers agree on one key. Clients fetch the certificate at ``GET /certificate.pem``.
"""

from __future__ import annotations

import os
import secrets
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from zeep.wsse.signature import BinarySignature

from service.config import Settings
from service.ns import WSSE, WSU

_STAMP_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"


def _make_identity(path: Path, common_name: str, days: int) -> None:
    """A key and a self-signed certificate in ``path`` (mode 0600), unless one is there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), True
        )
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + certificate.public_bytes(serialization.Encoding.PEM)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        try:
            os.link(temporary, path)
        except FileExistsError:  # another worker made it first: theirs is the one
            pass
    finally:
        temporary.unlink(missing_ok=True)


class ResponseSigner:
    """Signs response envelopes with the service's key (module docstring).

    A configured key and certificate are read at start (a missing or unreadable one
    stops the start); the default ``signing.pem`` is made or read when first needed,
    so services (and tests) that never see a signed request never pay for an RSA key.
    """

    def __init__(self, key_path: Path, cert_path: Path, lifetime: float, make: str = "") -> None:
        """``make``: the certificate's name when ``key_path`` is the default file, made
        if missing; empty when both are configured files."""
        self.key_path, self.cert_path = key_path, cert_path
        self.lifetime = lifetime
        self._make = make
        self._days = 825
        self._lock = threading.Lock()
        self._loaded: tuple[bytes, BinarySignature] | None = None
        if not make:
            self._load()

    @classmethod
    def from_settings(cls, settings: Settings) -> ResponseSigner:
        default = not settings.signing_key_file
        signer = cls(
            settings.signing_key_path,
            settings.signing_cert_path,
            settings.token_lifetime,
            f"soap-service {settings.base_url}" if default else "",
        )
        signer._days = settings.signing_cert_days
        return signer

    def _load(self) -> tuple[bytes, BinarySignature]:
        with self._lock:
            if self._loaded is None:
                if self._make and not self.key_path.exists():
                    _make_identity(self.key_path, self._make, self._days)
                certificates = x509.load_pem_x509_certificates(self.cert_path.read_bytes())
                if len(certificates) != 1:
                    raise ValueError(f"{self.cert_path} must hold exactly one certificate")
                signature = BinarySignature(
                    str(self.key_path),
                    str(self.cert_path),
                    signature_method=xmlsec.constants.TransformRsaSha256,
                    digest_method=xmlsec.constants.TransformSha256,
                )
                pem = certificates[0].public_bytes(serialization.Encoding.PEM)
                self._loaded = (pem, signature)
            return self._loaded

    @property
    def certificate_pem(self) -> bytes:
        """What GET /certificate.pem answers."""
        return self._load()[0]

    def sign(self, envelope: etree._Element, now: datetime | None = None) -> etree._Element:
        """``envelope`` with a fresh Timestamp and the signature over it and the Body."""
        signature = self._load()[1]
        now = now or datetime.now(UTC)
        soap = etree.QName(envelope).namespace
        header = envelope.find(f"{{{soap}}}Header")
        if header is None:
            header = etree.Element(f"{{{soap}}}Header")
            envelope.insert(0, header)
        security = etree.SubElement(header, f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
        stamp = etree.SubElement(security, f"{{{WSU}}}Timestamp", nsmap={"wsu": WSU})
        etree.SubElement(stamp, f"{{{WSU}}}Created").text = now.strftime(_STAMP_FORMAT)
        expires = now + timedelta(seconds=self.lifetime)
        etree.SubElement(stamp, f"{{{WSU}}}Expires").text = expires.strftime(_STAMP_FORMAT)
        signature.apply(envelope, {})
        return envelope
