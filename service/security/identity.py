"""Who is calling, and may they call this operation.

Credentials come from a WS-Security header (a UsernameToken,
``service.security.usernametoken``, or an X.509 signature over the Body and
Timestamp, ``service.security.signature``) or HTTP Basic. When both are sent, both must hold and name the same user. Sent
credentials are always checked, even for an anonymous operation: wrong
credentials never pass silently. Every check goes through the policy's
throttle (``service.security.throttle``): after a few failures for a user name
or from an address, credentials are refused unchecked (``Client.TooManyAttempts``)
for a while, on anonymous operations too, so wrong credentials cost no scrypt
beyond the throttle; a call without credentials never touches it. Operations
not listed as anonymous need a user; without one the answer is HTTP 401 with ``WWW-Authenticate: Basic``,
which is what lets WCF and other HTTP stacks send their credentials.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from lxml import etree

from service.faults import (
    AuthenticationRequiredFault,
    FailedAuthenticationFault,
    InvalidSecurityFault,
)
from service.ns import WSSE
from service.security import signature
from service.security.signature import SignaturePolicy
from service.security.throttle import Gate, Throttle, client_address
from service.security.usernametoken import SECURITY, FieldLimits, Freshness, authenticate
from service.security.users import User, UserStore

_USERNAME_TOKEN = f"{{{WSSE}}}UsernameToken"


@dataclass(frozen=True)
class Policy:
    anonymous_operations: frozenset[str]
    freshness: Freshness = Freshness()
    limits: FieldLimits = FieldLimits()
    #: Failed checks counted in this process (per user name and client address)
    throttle: Throttle = field(default_factory=Throttle, compare=False)
    #: what an X.509 signature may use (service.security.signature)
    signatures: SignaturePolicy = SignaturePolicy()

    @classmethod
    def parse(
        cls,
        anonymous: str,
        freshness: Freshness | None = None,
        limits: FieldLimits | None = None,
        throttle: Throttle | None = None,
        signatures: SignaturePolicy | None = None,
    ) -> Policy:
        names = frozenset(name.strip() for name in anonymous.split(",") if name.strip())
        return cls(
            names,
            freshness or Freshness(),
            limits or FieldLimits(),
            throttle or Throttle(),
            signatures or SignaturePolicy(),
        )

    def allows_anonymous(self, operation: str) -> bool:
        return operation in self.anonymous_operations


def _basic(authorization: str, users: UserStore, gate: Gate) -> User | None:
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        name, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, ValueError):
        raise AuthenticationRequiredFault("This operation") from None
    user = gate.check(name, lambda: users.verify(name, password)) if sep else None
    if user is None:
        raise AuthenticationRequiredFault("This operation")
    return user


def identify(
    operation: str,
    header: etree._Element | None,
    authorization: str | None,
    users: UserStore,
    policy: Policy,
    body: etree._Element | None = None,
) -> User | None:
    """The caller, or None for an anonymous call the policy allows; else a fault.

    ``body``: the envelope's ``soap:Body`` that is dispatched, which a signature must
    cover (``service.security.signature``); a verified signer is left in
    ``signature.signer`` for the response to be signed."""
    from_header = None
    gate = Gate(policy.throttle, client_address.get())
    if header is not None:
        blocks = header.findall(SECURITY)
        if len(blocks) > 1:
            raise InvalidSecurityFault("more than one Security header.")
        if blocks and body is not None and signature.is_signed(blocks[0]):
            signed = signature.verify(
                blocks[0], body, users, policy.freshness, policy.signatures, policy.limits
            )
            signature.signer.set(signed)
            from_header = signed.user
            if blocks[0].find(_USERNAME_TOKEN) is not None:  # both: they must agree
                token_user = authenticate(
                    blocks[0], users, policy.freshness, limits=policy.limits, gate=gate
                )
                if token_user.name != signed.user.name:
                    raise FailedAuthenticationFault()
        elif blocks:
            from_header = authenticate(
                blocks[0], users, policy.freshness, limits=policy.limits, gate=gate
            )
    from_http = _basic(authorization, users, gate) if authorization else None
    if from_header and from_http and from_header.name != from_http.name:
        raise FailedAuthenticationFault()
    user = from_header or from_http
    if user is None and not policy.allows_anonymous(operation):
        raise AuthenticationRequiredFault(operation)
    return user
