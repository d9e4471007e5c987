"""WS-Security 1.1 UsernameToken Profile: who signed this request.

Accepted in a ``wsse:Security`` header:

1. one ``wsse:UsernameToken`` with ``wsse:Username`` and ``wsse:Password`` of
   type PasswordText (the default) or PasswordDigest, where
   digest = Base64(SHA-1(nonce + created + password)) and ``wsse:Nonce`` and
   ``wsu:Created`` are required;
2. an optional ``wsu:Timestamp`` with one ``Created`` and at most one
   ``Expires`` (WS-Security 1.1 section 10): ``Created`` neither in the future
   nor older than the freshness window (``token_lifetime``), ``Expires`` after
   ``Created`` and not past, each give or take the allowed clock skew. A
   ``Created`` is held to the window even without an ``Expires``: a timestamp
   with no end is not fresh for ever;
3. a token's own ``wsu:Created`` (required for a digest, optional for
   PasswordText) obeys the same rules, and a digest's nonce is unseen within that window (shared by all
   workers through the user store), so a captured token cannot be replayed.
   The nonce must be canonical base64 (the one spelling of its bytes: no
   other padding bits) of at most ``max_nonce_bytes`` bytes, and it is
   remembered by its decoded bytes, so re-spelling a captured nonce does not
   make a new one.

Every field read (Username, Password, Nonce, each Created and Expires) is
bounded before anything decodes, hashes, compares or stores it: at most
``max_field_length`` characters (and a nonce ``max_nonce_bytes``), else
``wsse:InvalidSecurity`` naming the field and the limit; each appears at most
once, and times are xs:dateTime's lexical form only.

Failures are the WSS fault codes, and never say which half was wrong:
``wsse:InvalidSecurity`` (the header is malformed), ``wsse:MessageExpired``
(stale timestamps), ``wsse:FailedAuthentication`` (anything else).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Final

from lxml import etree

from service.config import Settings
from service.faults import FailedAuthenticationFault, InvalidSecurityFault, MessageExpiredFault
from service.ns import WSSE, WSSE_USERNAME_TOKEN_PROFILE, WSU
from service.security.throttle import Gate
from service.security.users import User, UserStore

PASSWORD_TEXT: Final = f"{WSSE_USERNAME_TOKEN_PROFILE}#PasswordText"
PASSWORD_DIGEST: Final = f"{WSSE_USERNAME_TOKEN_PROFILE}#PasswordDigest"
SECURITY: Final = f"{{{WSSE}}}Security"
#: xs:dateTime's lexical form (fromisoformat alone also takes ISO week dates, a date alone...)
_DATETIME: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")


@dataclass(frozen=True)
class Freshness:
    max_clock_skew: float = 300.0
    token_lifetime: float = 300.0


@dataclass(frozen=True)
class FieldLimits:
    """How large the fields of a ``wsse:Security`` header may be.

    ``max_nonce_bytes``: a nonce's decoded size. WS-Security recommends 16 random
    bytes (WSS4J, WCF, zeep and SoapUI send 16); 64 leaves room for clients that
    send a SHA-1, SHA-256 or SHA-512 output, and keeps each remembered nonce small.
    """

    max_nonce_bytes: int = 64
    #: The longest Username, Password, Nonce, Created or Expires, in characters, checked
    #: before anything else reads it: user names have at most 100, digests 28, times ~35.
    max_field_length: int = 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> FieldLimits:
        return cls(
            max_nonce_bytes=settings.max_wsse_nonce_bytes,
            max_field_length=settings.max_wsse_field_length,
        )


def _instant(text: str | None, what: str) -> float:
    if not text:
        raise InvalidSecurityFault(f"{what} is missing.")
    text = text.strip()
    if not _DATETIME.fullmatch(text):
        raise InvalidSecurityFault(f"{what} is not an xs:dateTime.")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidSecurityFault(f"{what} is not an xs:dateTime.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _only(parent: etree._Element, tag: str, what: str) -> etree._Element | None:
    found = parent.findall(tag)
    if len(found) > 1:
        raise InvalidSecurityFault(f"The Security header holds more than one {what}.")
    return found[0] if found else None


def _text(
    parent: etree._Element, tag: str, what: str, limits: FieldLimits
) -> tuple[etree._Element | None, str | None]:
    """``parent``'s one ``tag`` child and its text (None, None without one); a text over
    the limit is refused here, before anything decodes, hashes or stores it."""
    element = _only(parent, tag, what)
    if element is None:
        return None, None
    text = element.text or ""
    if len(text) > limits.max_field_length:
        raise InvalidSecurityFault(
            f"{what} is longer than {limits.max_field_length} characters"
            " (SOAP_SERVICE_MAX_WSSE_FIELD_LENGTH)."
        )
    return element, text


def _fresh(created: float, what: str, freshness: Freshness, now: float) -> None:
    """A ``Created`` neither in the future nor older than the freshness window (give or
    take the clock skew); else InvalidSecurity or MessageExpired."""
    if created > now + freshness.max_clock_skew:
        raise InvalidSecurityFault(f"{what} is in the future.")
    if created < now - freshness.token_lifetime - freshness.max_clock_skew:
        raise MessageExpiredFault()


def check_timestamp(
    stamp: etree._Element, freshness: Freshness, now: float, limits: FieldLimits
) -> float:
    """The WS-Security 1.1 rules for a ``wsu:Timestamp`` (section 10); its ``Created``."""
    _, created_text = _text(stamp, f"{{{WSU}}}Created", "Timestamp/Created", limits)
    expires_element, expires_text = _text(stamp, f"{{{WSU}}}Expires", "Timestamp/Expires", limits)
    created = _instant(created_text, "Timestamp/Created")
    if expires_element is not None:
        expires = _instant(expires_text, "Timestamp/Expires")
        if expires <= created:
            raise InvalidSecurityFault("Timestamp/Expires is not after Timestamp/Created.")
        if expires < now - freshness.max_clock_skew:
            raise MessageExpiredFault()
    _fresh(created, "Timestamp/Created", freshness, now)
    return created


def _nonce(text: str, limits: FieldLimits) -> bytes:
    """The nonce's bytes, from its one canonical base64 spelling; else InvalidSecurity."""
    if not text:
        raise InvalidSecurityFault("A PasswordDigest needs a Nonce.")
    too_long = InvalidSecurityFault(
        f"UsernameToken/Nonce is longer than {limits.max_nonce_bytes} bytes"
        " (SOAP_SERVICE_MAX_WSSE_NONCE_BYTES)."
    )
    if len(text) > (limits.max_nonce_bytes + 2) // 3 * 4:  # checked before decoding
        raise too_long
    try:
        nonce = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSecurityFault("The Nonce is not base64.") from None
    if not nonce:
        raise InvalidSecurityFault("A PasswordDigest needs a Nonce.")
    if len(nonce) > limits.max_nonce_bytes:
        raise too_long
    # b64decode ignores the bits padding leaves over ("QQ==" and "QR==" are both b"A"):
    # one spelling only, so a captured nonce cannot be re-spelled into a "new" one.
    if base64.b64encode(nonce).decode("ascii") != text:
        raise InvalidSecurityFault("The Nonce is not canonical base64.")
    return nonce


def authenticate(
    security: etree._Element,
    users: UserStore,
    freshness: Freshness,
    now: float | None = None,
    limits: FieldLimits = FieldLimits(),  # noqa: B008  (frozen: one shared default is fine)
    gate: Gate = Gate(),  # noqa: B008  (frozen: no throttle)
) -> User:
    """The user a ``wsse:Security`` header proves, or a WSS fault; the password or
    digest is checked only once ``gate``'s throttle admits it."""
    now = time.time() if now is None else now
    skew = freshness.max_clock_skew
    stamp = _only(security, f"{{{WSU}}}Timestamp", "Timestamp")
    if stamp is not None:
        check_timestamp(stamp, freshness, now, limits)
    token = _only(security, f"{{{WSSE}}}UsernameToken", "UsernameToken")
    if token is None:
        raise InvalidSecurityFault("The Security header holds no UsernameToken.")
    # Every field the token's checks read, each bounded before any of them is used.
    _, username_text = _text(token, f"{{{WSSE}}}Username", "UsernameToken/Username", limits)
    password, password_text = _text(token, f"{{{WSSE}}}Password", "UsernameToken/Password", limits)
    _, nonce_field = _text(token, f"{{{WSSE}}}Nonce", "UsernameToken/Nonce", limits)
    created_element, created_field = _text(
        token, f"{{{WSU}}}Created", "UsernameToken/Created", limits
    )
    username = (username_text or "").strip()
    if not username or password is None or password_text is None:
        raise InvalidSecurityFault("The UsernameToken needs a Username and a Password.")
    kind = password.get("Type", PASSWORD_TEXT)
    created_text = (created_field or "").strip()
    if created_element is not None or kind == PASSWORD_DIGEST:
        created = _instant(created_text, "UsernameToken/Created")
        _fresh(created, "UsernameToken/Created", freshness, now)
    if kind == PASSWORD_TEXT:
        text = password_text
        user = gate.check(username, lambda: users.verify(username, text))
        if user is None:
            raise FailedAuthenticationFault()
        return user
    if kind != PASSWORD_DIGEST:
        raise InvalidSecurityFault("The Password Type is neither PasswordText nor PasswordDigest.")
    nonce = _nonce((nonce_field or "").strip(), limits)

    # A digest check is one SHA-1, no CPU weapon: its failures are not counted (every
    # attempt has a new nonce, so a client's retries would each count), but it waits
    # like any check while the name or address does.
    def check_digest() -> tuple[User | None, bool]:
        found = users.digest_secret(username)
        if found is None:
            return None, True
        user, secret = found
        expected = base64.b64encode(
            hashlib.sha1(nonce + created_text.encode() + secret.encode()).digest()
        ).decode()
        return (user if hmac.compare_digest(expected, password_text.strip()) else None), True

    digest_user = gate.check(username, check_digest)
    if digest_user is None:
        raise FailedAuthenticationFault()
    # Keyed on the decoded bytes (in their canonical spelling, so the same key as the text
    # of a canonical nonce): however a nonce is written, its bytes are used once.
    nonce_key = f"{username}:{base64.b64encode(nonce).decode('ascii')}"
    if not users.remember_nonce(nonce_key, created + freshness.token_lifetime + 2 * skew, now):
        raise FailedAuthenticationFault()
    return digest_user
