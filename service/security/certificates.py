"""The trust store: the X.509 certificates whose signatures are taken, each mapped to a user.

A signed request (``service.security.signature``) is accepted only when its
certificate is *exactly* one added here with ``soap-service certs add FILE --user
NAME``: the same DER bytes (its SHA-256 fingerprint), not merely one a trusted CA
issued. That is the simplest rule that is safe: no chain building, no revocation
lists to fetch, no name constraints to get right; a certificate is trusted because
an administrator added it, and removing it (``certs remove FINGERPRINT``) revokes it
at once. The user it maps to must exist (``users add``) and is then authorised like
any other; removing the user (``users remove``) removes their certificates too, so a
user added later under the same name inherits none.

The rows live beside the users (``users.sqlite3``'s table ``certificates``, or the
PostgreSQL table of schema version 5), so every worker and instance sees the same
trust store. A certificate is found by what a ``wsse:SecurityTokenReference`` may
name: its fingerprint (a BinarySecurityToken carries the certificate itself), its
SubjectKeyIdentifier, its SHA-1 thumbprint (``ThumbprintSHA1``), or its issuer and
serial number (``ds:X509IssuerSerial``).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

#: what a certificate can be found by (the table's columns of the same names)
Lookup = Literal["fingerprint", "ski", "thumbprint", "serial"]
LOOKUPS: Final = ("fingerprint", "ski", "thumbprint", "serial")
_SPACES: Final = re.compile(r"\s*([,=+])\s*")


class CertificateError(ValueError):
    """A trust-store request that cannot be done; the message says why."""


@dataclass(frozen=True)
class TrustedCertificate:
    """One row of the trust store."""

    fingerprint: str
    user: str
    der: bytes
    issuer: str
    subject: str
    not_after: float

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.der)


class CertificateTable(Protocol):
    """Where the trust store's rows are kept (``SqliteUserTable``, ``PostgresImageStore``)."""

    def insert_certificate(self, row: dict[str, object]) -> bool:
        """False when the fingerprint is there already."""

    def delete_certificate(self, fingerprint: str) -> bool:
        """False when there is no such fingerprint."""

    def certificate_rows(
        self, lookup: Lookup | None = None, value: str = ""
    ) -> list[tuple[str, str, bytes, str, str, float]]:
        """(fingerprint, user, der, issuer, subject, not_after) of every row whose
        ``lookup`` column is ``value`` (every row, by fingerprint, when None)."""


def fingerprint(der: bytes) -> str:
    """A certificate's SHA-256 fingerprint, lower-case hex (what ``certs list`` shows)."""
    return hashlib.sha256(der).hexdigest()


def thumbprint(der: bytes) -> str:
    """Its SHA-1 thumbprint (WS-Security 1.1 ``ThumbprintSHA1``), lower-case hex."""
    return hashlib.sha1(der).hexdigest()  # noqa: S324  (an identifier WS-Security defines)


def subject_key_identifier(certificate: x509.Certificate) -> str:
    """Its SubjectKeyIdentifier extension, or (none) the one RFC 5280's method 1 gives."""
    try:
        ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        return ski.value.digest.hex()
    except x509.ExtensionNotFound:
        return x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest.hex()


def normal_name(name: str) -> str:
    """A distinguished name as text, spelled one way (toolkits space and case it
    differently: ``CN=a, O=b`` and ``cn=a,o=b``)."""
    return _SPACES.sub(r"\1", name.strip()).lower()


def read_certificate(data: bytes) -> x509.Certificate:
    """The one certificate of a PEM or DER file; CertificateError otherwise."""
    try:
        if b"-----BEGIN" in data:
            found = x509.load_pem_x509_certificates(data)
            if len(found) != 1:
                raise CertificateError("the file holds more than one certificate")
            return found[0]
        return x509.load_der_x509_certificate(data)
    except ValueError as error:
        if isinstance(error, CertificateError):
            raise
        raise CertificateError("the file is not an X.509 certificate (PEM or DER)") from None


class TrustStore:
    """The certificates whose signatures are taken, in ``table``."""

    def __init__(self, table: CertificateTable) -> None:
        self.table = table

    def add(self, certificate: x509.Certificate, user: str) -> TrustedCertificate:
        der = certificate.public_bytes(Encoding.DER)
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
            raise CertificateError("only RSA keys of at least 2048 bits sign requests here")
        row = TrustedCertificate(
            fingerprint(der),
            user,
            der,
            certificate.issuer.rfc4514_string(),
            certificate.subject.rfc4514_string(),
            certificate.not_valid_after_utc.timestamp(),
        )
        inserted = self.table.insert_certificate(
            {
                "fingerprint": row.fingerprint,
                "user_name": user,
                "der": der,
                "ski": subject_key_identifier(certificate),
                "thumbprint": thumbprint(der),
                "issuer": normal_name(row.issuer),
                "serial": str(certificate.serial_number),
                "subject": row.subject,
                "not_after": row.not_after,
                "created_at": time.time(),
            }
        )
        if not inserted:
            raise CertificateError(f"certificate {row.fingerprint} is in the trust store already")
        return row

    def remove(self, fingerprint_hex: str) -> None:
        if not self.table.delete_certificate(fingerprint_hex.lower().replace(":", "")):
            raise CertificateError(f"no certificate {fingerprint_hex} in the trust store")

    def list(self) -> list[TrustedCertificate]:
        return [TrustedCertificate(*row) for row in self.table.certificate_rows()]

    def find(
        self, lookup: Lookup, value: str, issuer: str | None = None
    ) -> TrustedCertificate | None:
        """The one certificate ``lookup`` names (an issuer too, for ``serial``), or None."""
        rows = [TrustedCertificate(*row) for row in self.table.certificate_rows(lookup, value)]
        if issuer is not None:
            rows = [row for row in rows if normal_name(row.issuer) == normal_name(issuer)]
        return rows[0] if len(rows) == 1 else None
