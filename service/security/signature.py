"""WS-Security X.509 signatures on requests: who signed this, and did they sign *this*.

A request whose ``wsse:Security`` header holds a ``ds:Signature`` is taken only if,
in this order (each failure a ``wsse:`` fault of WS-Security 1.1 section 12):

1. **One signature, plain structure**: one ``ds:Signature``, a direct child of the
   envelope's one ``wsse:Security``; one ``SignedInfo``, at most
   ``max_signature_references`` References (``InvalidSecurity``).
2. **Unique IDs**: every ``wsu:Id``, ``Id``, ``ID`` and ``xml:id`` value in the whole
   envelope appears once (``InvalidSecurity``). Two elements sharing an ID is how most
   signature-wrapping attacks make a verifier digest one element and the application
   read another. And no ``xop:Include``: the digest would cover the reference to an MTOM
   part, not its bytes, which could then be swapped (``InvalidSecurity``).
3. **Allowed algorithms only** (``UnsupportedAlgorithm``): exclusive C14N for SignedInfo;
   exclusive C14N and enveloped-signature (node-soap's default pair) as Reference
   transforms; RSA-SHA256 and SHA-256 (RSA-SHA1 and SHA-1 only with
   ``SIGNATURE_ALLOW_SHA1=1``). No XPath, XSLT, inclusive C14N or base64 transform, no
   HMAC (``HMACOutputLength`` truncation).
4. **References inside this envelope only**: each URI is ``#id`` naming one element of
   this envelope (resolved here, from the table of step 2), each element referenced once;
   an empty URI, an XPointer, a file or a URL is ``InvalidSecurity``. Nothing is fetched.
5. **Coverage** (``FailedCheck``): the references must include the very ``soap:Body`` that
   is dispatched (the envelope's one Body, found by ``service.soap.envelope``) and the
   ``wsu:Timestamp`` that is checked (the one child Timestamp of this Security header;
   a signed request must carry one). A Body moved into a header or a wrapper, a second
   Timestamp elsewhere, a signature over the operation element instead of the Body: each
   leaves the dispatched Body or the checked Timestamp unsigned, and is refused.
6. **Freshness**: the Timestamp's rules (``service.security.usernametoken``:
   ``MessageExpired`` when stale).
7. **The key**: ``KeyInfo/wsse:SecurityTokenReference`` names the certificate: a
   ``wsse:Reference`` to an X.509v3 ``wsse:BinarySecurityToken`` in this Security header,
   or a ``wsse:KeyIdentifier`` (SubjectKeyIdentifier or ThumbprintSHA1), or a
   ``ds:X509Data/ds:X509IssuerSerial``. The certificate must be exactly one in the trust
   store (``service.security.certificates``; else ``FailedAuthentication``, or
   ``SecurityTokenUnavailable`` when a reference finds none) and within its validity
   period (``InvalidSecurityToken``); its user must exist.
8. **The signature** is verified by libxmlsec1 (python-xmlsec) with that certificate's
   key, the IDs registered for exactly the elements resolved in step 4, and the
   transforms enabled for exactly the allow-list of step 3 (``FailedCheck``).
9. **Replay**: a signature value seen within the freshness window is refused
   (``FailedAuthentication``), remembered in the same nonce store as digest tokens'
   nonces (every worker, every instance on one PostgreSQL).

Requests without a ``ds:Signature`` never reach this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import xmlsec
from cryptography import x509
from lxml import etree

from service.config import Settings
from service.faults import (
    FailedAuthenticationFault,
    FailedCheckFault,
    InvalidSecurityFault,
    InvalidSecurityTokenFault,
    SecurityTokenUnavailableFault,
    UnsupportedAlgorithmFault,
)
from service.ns import DS, WSSE, WSU, X509_TOKEN_PROFILE, XML, XOP
from service.security.certificates import TrustedCertificate, fingerprint
from service.security.usernametoken import FieldLimits, Freshness, check_timestamp
from service.security.users import User, UserStore

SIGNATURE: Final = f"{{{DS}}}Signature"
EXC_C14N: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
#: the enveloped-signature transform: node-soap's WSSecurityCert sends it (with exc-c14n)
#: by default; on a Body or Timestamp, which never hold the Signature, it removes nothing
ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#: the transforms a Reference may use
TRANSFORMS: Final = frozenset({EXC_C14N, ENVELOPED})
RSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1: Final = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA256: Final = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA1: Final = "http://www.w3.org/2000/09/xmldsig#sha1"
X509V3: Final = f"{X509_TOKEN_PROFILE}#X509v3"
SKI: Final = f"{X509_TOKEN_PROFILE}#X509SubjectKeyIdentifier"
THUMBPRINT_SHA1: Final = (
    "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#ThumbprintSHA1"
)
BASE64_BINARY: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
#: the attributes that name an element for a Reference: (namespace, local name)
ID_ATTRIBUTES: Final = ((WSU, "Id"), (None, "Id"), (None, "ID"), (XML, "id"))
_ID_KEYS: Final = tuple(f"{{{ns}}}{name}" if ns else name for ns, name in ID_ATTRIBUTES)
#: SignedInfo's children, and what may stand in a Reference and a Transform
_SIGNED_INFO: Final = frozenset(
    f"{{{DS}}}{name}" for name in ("CanonicalizationMethod", "SignatureMethod", "Reference")
)
_REFERENCE: Final = frozenset(
    f"{{{DS}}}{name}" for name in ("Transforms", "DigestMethod", "DigestValue")
)
_INCLUSIVE: Final = f"{{{EXC_C14N}}}InclusiveNamespaces"
_XOP_INCLUDE: Final = f"{{{XOP}}}Include"
_SERIAL: Final = re.compile(r"[0-9]{1,49}")

#: The signer of the request being answered, once its signature verified (the app signs
#: the response then); set to None first by the app for every request with a header.
signer: ContextVar[Signer | None] = ContextVar("signer", default=None)


@dataclass(frozen=True)
class SignaturePolicy:
    """What a request's signature may use (settings ``SIGNATURE_ALLOW_SHA1``,
    ``MAX_SIGNATURE_REFERENCES``, ``MAX_WSSE_TOKEN_LENGTH``)."""

    allow_sha1: bool = False
    max_references: int = 16
    max_token_length: int = 16384

    @classmethod
    def from_settings(cls, settings: Settings) -> SignaturePolicy:
        return cls(
            allow_sha1=bool(settings.signature_allow_sha1),
            max_references=settings.max_signature_references,
            max_token_length=settings.max_wsse_token_length,
        )

    @property
    def signature_methods(self) -> frozenset[str]:
        return frozenset({RSA_SHA256, RSA_SHA1} if self.allow_sha1 else {RSA_SHA256})

    @property
    def digest_methods(self) -> frozenset[str]:
        return frozenset({SHA256, SHA1} if self.allow_sha1 else {SHA256})


@dataclass(frozen=True)
class Signer:
    """Who signed a request: the user, and the certificate's fingerprint."""

    user: User
    fingerprint: str


def is_signed(security: etree._Element) -> bool:
    return security.find(SIGNATURE) is not None


def _one(parent: etree._Element, tag: str, what: str) -> etree._Element:
    found = parent.findall(tag)
    if len(found) != 1:
        raise InvalidSecurityFault(f"the signature needs exactly one {what}.")
    return found[0]


def _ids(envelope: etree._Element) -> dict[str, tuple[etree._Element, str | None, str]]:
    """Every ID in the envelope: value -> (element, the attribute's namespace, name);
    InvalidSecurity when a value appears twice (on two elements, or twice on one)."""
    found: dict[str, tuple[etree._Element, str | None, str]] = {}
    for element in envelope.iter(etree.Element):
        if element.tag == _XOP_INCLUDE:  # the digest would cover the reference, not the part
            raise InvalidSecurityFault(
                "a signed request carries its binary content inline, not as an MTOM part."
            )
        attributes = element.attrib
        if not attributes:
            continue
        for key, (namespace, name) in zip(_ID_KEYS, ID_ATTRIBUTES, strict=True):
            value = attributes.get(key)
            if value is None:
                continue
            if value in found:
                raise InvalidSecurityFault(f"the ID {value[:64]!r} appears more than once.")
            found[value] = (element, namespace, name)
    return found


def _bounded(text: str | None, what: str, policy: SignaturePolicy) -> str:
    text = (text or "").strip()
    if len(text) > policy.max_token_length:
        raise InvalidSecurityFault(
            f"{what} is longer than {policy.max_token_length} characters"
            " (SOAP_SERVICE_MAX_WSSE_TOKEN_LENGTH)."
        )
    return text


def _base64(text: str, what: str) -> bytes:
    try:
        value = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSecurityFault(f"{what} is not base64.") from None
    if not value:
        raise InvalidSecurityFault(f"{what} is empty.")
    return value


def _algorithm(element: etree._Element, allowed: frozenset[str], what: str) -> str:
    algorithm = element.get("Algorithm") or ""
    if algorithm not in allowed:
        raise UnsupportedAlgorithmFault(
            f"{what} {algorithm[:200]!r} is not accepted here ({', '.join(sorted(allowed))})."
        )
    return algorithm


def _signed_elements(
    signed_info: etree._Element,
    ids: dict[str, tuple[etree._Element, str | None, str]],
    policy: SignaturePolicy,
) -> dict[etree._Element, tuple[str | None, str]]:
    """The elements SignedInfo's References name (steps 3 and 4), each with its ID
    attribute (namespace, name), after checking every algorithm and URI."""
    for child in signed_info:
        if child.tag not in _SIGNED_INFO:
            raise InvalidSecurityFault(
                f"SignedInfo holds an unexpected {etree.QName(child).localname}."
            )
    c14n = _one(signed_info, f"{{{DS}}}CanonicalizationMethod", "CanonicalizationMethod")
    _algorithm(c14n, frozenset({EXC_C14N}), "the canonicalization")
    if any(child.tag != _INCLUSIVE for child in c14n):
        raise InvalidSecurityFault("CanonicalizationMethod holds more than InclusiveNamespaces.")
    method = _one(signed_info, f"{{{DS}}}SignatureMethod", "SignatureMethod")
    _algorithm(method, policy.signature_methods, "the signature method")
    if len(method):  # HMACOutputLength and the like: nothing an RSA signature has
        raise InvalidSecurityFault("SignatureMethod holds parameters.")
    references = signed_info.findall(f"{{{DS}}}Reference")
    if not references:
        raise InvalidSecurityFault("the signature has no Reference.")
    if len(references) > policy.max_references:
        raise InvalidSecurityFault(
            f"the signature has more than {policy.max_references} References"
            " (SOAP_SERVICE_MAX_SIGNATURE_REFERENCES)."
        )
    signed: dict[etree._Element, tuple[str | None, str]] = {}
    for reference in references:
        if any(child.tag not in _REFERENCE for child in reference):
            raise InvalidSecurityFault("a Reference holds an unexpected element.")
        uri = reference.get("URI")
        if not uri or not uri.startswith("#") or len(uri) == 1 or "(" in uri:
            raise InvalidSecurityFault(
                'a Reference must name an element of this envelope by its ID (URI="#id");'
                " nothing outside the envelope is read."
            )
        target = ids.get(uri[1:])
        if target is None:
            raise InvalidSecurityFault(f"no element of this envelope has the ID {uri[1:65]!r}.")
        element, namespace, name = target
        if element in signed:
            raise InvalidSecurityFault("two References name one element.")
        transforms = reference.findall(f"{{{DS}}}Transforms")
        if len(transforms) > 1:
            raise InvalidSecurityFault("a Reference has more than one Transforms.")
        for transform in transforms[0] if transforms else ():
            if transform.tag != f"{{{DS}}}Transform":
                raise InvalidSecurityFault("Transforms holds an unexpected element.")
            _algorithm(transform, TRANSFORMS, "the transform")
            if any(child.tag != _INCLUSIVE for child in transform):
                raise InvalidSecurityFault("a Transform holds more than InclusiveNamespaces.")
        digest = _one(reference, f"{{{DS}}}DigestMethod", "DigestMethod per Reference")
        _algorithm(digest, policy.digest_methods, "the digest method")
        signed[element] = (namespace, name)
    return signed


def _certificate(
    signature: etree._Element,
    security: etree._Element,
    ids: dict[str, tuple[etree._Element, str | None, str]],
    users: UserStore,
    policy: SignaturePolicy,
) -> tuple[TrustedCertificate, x509.Certificate]:
    """The trusted certificate KeyInfo names (step 7), and the certificate itself."""
    key_info = _one(signature, f"{{{DS}}}KeyInfo", "KeyInfo")
    reference = _one(key_info, f"{{{WSSE}}}SecurityTokenReference", "SecurityTokenReference")
    if len(reference) != 1:
        raise InvalidSecurityFault("the SecurityTokenReference must hold one reference.")
    (pointer,) = reference
    trust = users.trust
    found: TrustedCertificate | None
    if pointer.tag == f"{{{WSSE}}}Reference":
        uri = pointer.get("URI") or ""
        if pointer.get("ValueType") not in (None, X509V3):
            raise InvalidSecurityFault("the token reference is not to an X.509v3 certificate.")
        target = ids.get(uri[1:]) if uri.startswith("#") else None
        token = target[0] if target else None
        if token is None or token.getparent() is not security:
            raise SecurityTokenUnavailableFault(
                "the Reference names no BinarySecurityToken of this Security header."
            )
        if token.tag != f"{{{WSSE}}}BinarySecurityToken" or token.get("ValueType") != X509V3:
            raise InvalidSecurityTokenFault("the referenced token is not an X.509v3 certificate.")
        if token.get("EncodingType") not in (None, BASE64_BINARY):
            raise InvalidSecurityTokenFault("the token's EncodingType is not Base64Binary.")
        der = _base64(_bounded(token.text, "the BinarySecurityToken", policy), "the token")
        found = trust.find("fingerprint", fingerprint(der))
        if found is None:
            try:
                x509.load_der_x509_certificate(der)
            except ValueError:
                raise InvalidSecurityTokenFault("the token is not an X.509 certificate.") from None
            raise FailedAuthenticationFault("The certificate is not in this service's trust store.")
    elif pointer.tag == f"{{{WSSE}}}KeyIdentifier":
        kind = pointer.get("ValueType")
        if pointer.get("EncodingType") not in (None, BASE64_BINARY):
            raise InvalidSecurityFault("the KeyIdentifier's EncodingType is not Base64Binary.")
        value = _base64(_bounded(pointer.text, "the KeyIdentifier", policy), "the KeyIdentifier")
        if kind == SKI:
            found = trust.find("ski", value.hex())
        elif kind == THUMBPRINT_SHA1:
            found = trust.find("thumbprint", value.hex())
        else:
            raise InvalidSecurityFault(
                "the KeyIdentifier is neither a SubjectKeyIdentifier nor a ThumbprintSHA1."
            )
        if found is None:
            raise SecurityTokenUnavailableFault(
                "no certificate in the trust store has that identifier."
            )
    elif pointer.tag == f"{{{DS}}}X509Data":
        issuer_serial = _one(pointer, f"{{{DS}}}X509IssuerSerial", "X509IssuerSerial")
        issuer = _bounded(
            _one(issuer_serial, f"{{{DS}}}X509IssuerName", "X509IssuerName").text,
            "X509IssuerName",
            policy,
        )
        serial = _bounded(
            _one(issuer_serial, f"{{{DS}}}X509SerialNumber", "X509SerialNumber").text,
            "X509SerialNumber",
            policy,
        )
        if not _SERIAL.fullmatch(serial):  # X.509 serials are at most 20 octets: 49 digits
            raise InvalidSecurityFault("X509SerialNumber is not a serial number.")
        found = trust.find("serial", str(int(serial)), issuer=issuer)
        if found is None:
            raise SecurityTokenUnavailableFault(
                "no certificate in the trust store has that issuer and serial number."
            )
    else:
        raise InvalidSecurityFault(
            "the SecurityTokenReference names the key in a way this service does not read"
            " (a Reference to a BinarySecurityToken, a KeyIdentifier or X509IssuerSerial)."
        )
    return found, found.certificate


def _verify_value(
    signature: etree._Element,
    der: bytes,
    signed: dict[etree._Element, tuple[str | None, str]],
    policy: SignaturePolicy,
) -> None:
    """libxmlsec1 checks the digests and the signature value (step 8)."""
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(der, xmlsec.constants.KeyDataFormatCertDer)
    transforms = [
        xmlsec.constants.TransformExclC14N,
        xmlsec.constants.TransformEnveloped,
        xmlsec.constants.TransformSha256,
    ]
    methods = [xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformRsaSha256]
    if policy.allow_sha1:
        transforms.append(xmlsec.constants.TransformSha1)
        methods.append(xmlsec.constants.TransformRsaSha1)
    for transform in transforms:
        context.enable_reference_transform(transform)
    for method in methods:
        context.enable_signature_transform(method)
    try:
        for element, (namespace, name) in signed.items():
            context.register_id(element, name, namespace)
        context.verify(signature)
    except xmlsec.Error:
        raise FailedCheckFault("a digest or the signature value does not match.") from None


def verify(
    security: etree._Element,
    body: etree._Element,
    users: UserStore,
    freshness: Freshness,
    policy: SignaturePolicy = SignaturePolicy(),  # noqa: B008  (frozen)
    limits: FieldLimits = FieldLimits(),  # noqa: B008  (frozen)
    now: float | None = None,
) -> Signer:
    """The signer of the request whose ``wsse:Security`` is ``security`` and whose
    dispatched ``soap:Body`` is ``body``; a ``wsse:`` fault otherwise (module docstring)."""
    now = time.time() if now is None else now
    signature = _one(security, SIGNATURE, "Signature in the Security header")
    envelope = body.getparent()
    if envelope is None:
        raise InvalidSecurityFault("the Body is outside an envelope.")
    ids = _ids(envelope)
    signed_info = _one(signature, f"{{{DS}}}SignedInfo", "SignedInfo")
    signed = _signed_elements(signed_info, ids, policy)
    if body not in signed:
        raise FailedCheckFault("the signature does not cover the Body.")
    stamps = security.findall(f"{{{WSU}}}Timestamp")
    if len(stamps) != 1:
        raise InvalidSecurityFault("a signed request needs one Timestamp in its Security header.")
    if stamps[0] not in signed:
        raise FailedCheckFault("the signature does not cover the Timestamp.")
    created = check_timestamp(stamps[0], freshness, now, limits)
    value = _base64(
        _bounded(
            _one(signature, f"{{{DS}}}SignatureValue", "SignatureValue").text,
            "the SignatureValue",
            policy,
        ),
        "the SignatureValue",
    )
    trusted, certificate = _certificate(signature, security, ids, users, policy)
    moment = datetime.fromtimestamp(now, UTC)
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        raise InvalidSecurityTokenFault("the certificate is outside its validity period.")
    user = users.role(trusted.user)
    if user is None:
        raise FailedAuthenticationFault()
    _verify_value(signature, trusted.der, signed, policy)
    # Keyed on the signature value's bytes: an RSA signature has one encoding of the
    # modulus' length, so the same signed message cannot come back "new".
    key = f"x509:{hashlib.sha256(value).hexdigest()}"
    expires = created + freshness.token_lifetime + 2 * freshness.max_clock_skew
    if not users.remember_nonce(key, expires, now):
        raise FailedAuthenticationFault("This signature was seen already (a replay).")
    return Signer(user, trusted.fingerprint)


__all__ = ["SignaturePolicy", "Signer", "is_signed", "signer", "verify"]
