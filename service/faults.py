"""Every fault the service answers with, in one tree.

    ServiceFault                         (abstract; ``code`` is the dotted SOAP 1.1 faultcode)
     ├── ClientFault                     the request is wrong: fix it and send again
     │    ├── ValidationFault            Client.Validation        declared; detail: field, reason
     │    ├── ImageRejectedFault         Client.ImageRejected     declared; detail: reason, message
     │    ├── NotFoundFault              Client.NotFound          declared; detail: image_id
     │    ├── MalformedRequestFault      Client.MalformedRequest  not XML, not an envelope, no Body
     │    ├── MalformedMimeFault         Client.MalformedMime     an MTOM message that breaks a MIME/XOP rule
     │    ├── ForbiddenXmlFault          Client.ForbiddenXml      DTDs, entities, processing tricks
     │    ├── LimitExceededFault         Client.LimitExceeded     depth, element count, attributes, text, headers
     │    ├── RequestTooLargeFault       Client.RequestTooLarge   body over the limit (HTTP 413)
     │    ├── RequestTimeoutFault        Client.RequestTimeout    the body came too slowly (HTTP 408)
     │    ├── UnsupportedMediaFault      Client.UnsupportedMedia  Content-Type we do not read (415)
     │    ├── MethodNotAllowedFault      Client.MethodNotAllowed  HTTP method other than POST (405)
     │    ├── UnknownOperationFault      Client.UnknownOperation  Body names no operation of ours
     │    ├── SoapActionMismatchFault    Client.SoapActionMismatch SOAPAction names another operation
     │    ├── TooManyAttemptsFault       Client.TooManyAttempts   credentials refused unchecked for a while (Retry-After; 429 off SOAP)
     │    ├── WsSecurityFault            wsse:*  (WS-Security 1.1 codes, a QName in the wsse namespace)
     │    │    ├── FailedAuthenticationFault   wsse:FailedAuthentication  wrong or missing credentials
     │    │    │    └── AuthenticationRequiredFault  (HTTP 401 + WWW-Authenticate: Basic) none were sent
     │    │    ├── InvalidSecurityFault  wsse:InvalidSecurity     a malformed Security header, a signature wrapped or with duplicate IDs
     │    │    ├── MessageExpiredFault   wsse:MessageExpired      stale Timestamp or token
     │    │    ├── FailedCheckFault      wsse:FailedCheck         a signature that does not verify, or that misses the Body or Timestamp
     │    │    ├── UnsupportedAlgorithmFault  wsse:UnsupportedAlgorithm  a signature, digest or transform algorithm not allowed
     │    │    ├── SecurityTokenUnavailableFault  wsse:SecurityTokenUnavailable  a referenced certificate not in the trust store
     │    │    └── InvalidSecurityTokenFault  wsse:InvalidSecurityToken  a certificate that cannot be read, or is outside its validity
     │    └── AddressingFault            wsa:*  (WS-Addressing codes, in the request's wsa namespace)
     │         ├── InvalidAddressingHeaderFault  wsa:InvalidAddressingHeader  repeated, or a reply address we cannot reach
     │         ├── MessageAddressingHeaderRequiredFault  wsa:MessageAddressingHeaderRequired  Action or MessageID missing
     │         └── ActionNotSupportedFault  wsa:ActionNotSupported  wsa:Action names no operation of the Body's
     ├── ShuttingDownFault               Server.ShuttingDown      the service stops before the request could be taken in (503)
     ├── VersionMismatchFault            VersionMismatch          SOAP 1.2 envelope on the 1.1 port, or back
     ├── MustUnderstandFault             MustUnderstand           a mustUnderstand header we do not know
     └── InternalFault                   Server.Internal          our bug; the message says nothing more

(``tests/test_faults.py`` holds this drawing to the classes.)

Faults *declared* in the WSDL carry a typed detail element (``detail_type``);
the protocol-level ones cannot be declared per operation and carry none.

SOAP 1.2 spells the first segment of a code differently (``Client`` is
``Sender``, ``Server`` is ``Receiver``); the rest becomes a subcode. See
:func:`service.soap.envelope.fault_envelope`.
"""

from __future__ import annotations

import re
from typing import ClassVar, Final

from spyne import ComplexModel, Fault

from service.contract.models import (
    IMAGE_REJECTION_REASONS,
    ImageRejectedFaultDetail,
    NotFoundFaultDetail,
    ValidationFaultDetail,
)
from service.ns import TNS, WSA, WSSE

#: A character XML 1.0 cannot carry (lxml refuses to write it).
NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` with each character XML cannot carry written as a Python escape.

    Messages quote what the client sent (a Content-ID, a media type), and a
    control character there must not make the fault itself unwritable.
    """
    return NOT_XML.sub(lambda m: repr(m.group(0))[1:-1], text)


class ServiceFault(Fault):  # type: ignore[misc]
    """Base of every fault the service sends."""

    __namespace__ = TNS
    code: ClassVar[str] = "Server"
    #: HTTP status of a fault on either port: 500, as WS-I BP R1126 requires for
    #: SOAP 1.1. SOAP 1.2 suggests 400 for Sender faults, but WCF (and Mono) clients
    #: read a fault body only from a 500, and WCF and CXF services send 500 too.
    http_status_soap11: ClassVar[int] = 500
    http_status_soap12: ClassVar[int] = 500
    #: HTTP status on the plain HTTP/JSON binding (service.http.binding), which has no
    #: SOAP toolkit to please: the status says what the fault says.
    http_status_plain: ClassVar[int] = 500
    detail_type: ClassVar[type[ComplexModel] | None] = None
    #: A code that is a QName outside the SOAP namespace (namespace, local name).
    wire_qname: ClassVar[tuple[str, str] | None] = None
    #: A further subcode in the same namespace (SOAP 1.2 only: SOAP 1.1 has no subcodes).
    wire_subcode: ClassVar[str | None] = None
    #: HTTP headers to send with the fault.
    http_headers: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, message: str) -> None:
        message = xml_safe(message)
        super().__init__(faultcode=self.code, faultstring=message)
        self.message = message

    def typed_detail(self) -> ComplexModel | None:
        """The typed detail, for declared faults."""
        return None

    @classmethod
    def detail_element(cls) -> str:
        """The name of the detail's element: its type's name, as WCF expects."""
        assert cls.detail_type is not None, cls
        return str(cls.detail_type.get_type_name())

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ClientFault(ServiceFault):
    code = "Client"

    http_status_plain = 400


class ValidationFault(ClientFault):
    code = "Client.Validation"
    detail_type = ValidationFaultDetail

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"Invalid value for '{field}': {reason}")
        self.field = field
        self.reason = reason

    def typed_detail(self) -> ComplexModel:
        return ValidationFaultDetail(field=self.field, reason=self.reason)


class ImageRejectedFault(ClientFault):
    code = "Client.ImageRejected"
    http_status_plain = 422
    detail_type = ImageRejectedFaultDetail

    def __init__(self, reason: str, message: str) -> None:
        assert reason in IMAGE_REJECTION_REASONS, reason
        super().__init__(f"Image rejected ({reason}): {message}")
        self.reason = reason
        self.reason_message = message

    def typed_detail(self) -> ComplexModel:
        return ImageRejectedFaultDetail(reason=self.reason, message=self.reason_message)


class NotFoundFault(ClientFault):
    code = "Client.NotFound"
    http_status_plain = 404
    detail_type = NotFoundFaultDetail

    def __init__(self, image_id: str) -> None:
        super().__init__(f"No image {image_id!r} that you may see.")
        self.image_id = image_id

    def typed_detail(self) -> ComplexModel:
        return NotFoundFaultDetail(image_id=self.image_id)


class MalformedRequestFault(ClientFault):
    code = "Client.MalformedRequest"


class MalformedMimeFault(ClientFault):
    code = "Client.MalformedMime"


class ForbiddenXmlFault(ClientFault):
    code = "Client.ForbiddenXml"


class LimitExceededFault(ClientFault):
    code = "Client.LimitExceeded"
    http_status_plain = 413


class RequestTooLargeFault(ClientFault):
    code = "Client.RequestTooLarge"
    http_status_plain = 413
    http_status_soap11 = 413
    http_status_soap12 = 413


class RequestTimeoutFault(ClientFault):
    code = "Client.RequestTimeout"
    http_status_plain = 408
    http_status_soap11 = 408
    http_status_soap12 = 408


class UnsupportedMediaFault(ClientFault):
    code = "Client.UnsupportedMedia"
    http_status_plain = 415
    http_status_soap11 = 415
    http_status_soap12 = 415


class MethodNotAllowedFault(ClientFault):
    code = "Client.MethodNotAllowed"
    http_status_plain = 405
    http_status_soap11 = 405
    http_status_soap12 = 405


class UnknownOperationFault(ClientFault):
    code = "Client.UnknownOperation"
    http_status_plain = 404


class SoapActionMismatchFault(ClientFault):
    code = "Client.SoapActionMismatch"


class TooManyAttemptsFault(ClientFault):
    """Too many wrong credentials for a user name or from an address lately
    (``service.security.throttle``): refused before any password is hashed.

    Not ``wsse:FailedAuthentication``: that says the credentials are wrong, and
    these were not even checked; a client told to wait must not conclude its
    password is bad. On the SOAP ports a 500 like every fault (WS-I BP R1126:
    toolkits read a fault body from a 500 only); on /http and /images, 429.
    Both carry ``Retry-After``.
    """

    code = "Client.TooManyAttempts"
    http_status_plain = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many failed sign-ins for this user or from this address lately;"
            f" credentials are not checked for {retry_after} more seconds."
        )
        self.retry_after = retry_after
        self.http_headers = (("Retry-After", str(retry_after)),)  # type: ignore[misc]


class WsSecurityFault(ClientFault):
    """A WS-Security failure; its code is ``wsse:<name>`` on the wire."""

    http_status_plain = 401


class FailedAuthenticationFault(WsSecurityFault):
    code = "wsse:FailedAuthentication"
    wire_qname = (WSSE, "FailedAuthentication")

    def __init__(
        self, message: str = "The security token could not be authenticated or authorized."
    ) -> None:
        super().__init__(message)


class AuthenticationRequiredFault(FailedAuthenticationFault):
    http_status_soap11 = 401
    http_status_soap12 = 401
    http_headers = (("WWW-Authenticate", 'Basic realm="soap-service", charset="UTF-8"'),)

    def __init__(self, operation: str) -> None:
        super().__init__(
            f"{operation} needs an authenticated user: send a WS-Security UsernameToken"
            " or HTTP Basic credentials."
        )


class InvalidSecurityFault(WsSecurityFault):
    code = "wsse:InvalidSecurity"
    wire_qname = (WSSE, "InvalidSecurity")

    def __init__(self, why: str) -> None:
        super().__init__(f"An error was discovered processing the Security header: {why}")


class MessageExpiredFault(WsSecurityFault):
    code = "wsse:MessageExpired"
    wire_qname = (WSSE, "MessageExpired")

    def __init__(self) -> None:
        super().__init__("The message has expired.")


class FailedCheckFault(WsSecurityFault):
    code = "wsse:FailedCheck"
    wire_qname = (WSSE, "FailedCheck")

    def __init__(self, why: str) -> None:
        super().__init__(f"The signature or decryption was invalid: {why}")


class UnsupportedAlgorithmFault(WsSecurityFault):
    code = "wsse:UnsupportedAlgorithm"
    wire_qname = (WSSE, "UnsupportedAlgorithm")

    def __init__(self, why: str) -> None:
        super().__init__(f"An unsupported signature or encryption algorithm was used: {why}")


class SecurityTokenUnavailableFault(WsSecurityFault):
    code = "wsse:SecurityTokenUnavailable"
    wire_qname = (WSSE, "SecurityTokenUnavailable")

    def __init__(self, why: str) -> None:
        super().__init__(f"Referenced security token could not be retrieved: {why}")


class InvalidSecurityTokenFault(WsSecurityFault):
    code = "wsse:InvalidSecurityToken"
    wire_qname = (WSSE, "InvalidSecurityToken")

    def __init__(self, why: str) -> None:
        super().__init__(f"An invalid security token was provided: {why}")


class AddressingFault(ClientFault):
    """A WS-Addressing failure (WS-Addressing 1.0 SOAP Binding, section 6): its code is
    ``wsa:<name>`` on the wire, in the namespace the request's headers used (1.0's or
    the 2004/08 submission's), and a SOAP 1.2 fault adds a subcode where one applies."""

    #: the local name of the code
    name: ClassVar[str] = ""

    def __init__(self, message: str, namespace: str = WSA, subcode: str | None = None) -> None:
        super().__init__(message)
        self.wire_qname = (namespace, self.name)  # type: ignore[misc]
        self.wire_subcode = subcode  # type: ignore[misc]


class InvalidAddressingHeaderFault(AddressingFault):
    code = "wsa:InvalidAddressingHeader"
    name = "InvalidAddressingHeader"


class MessageAddressingHeaderRequiredFault(AddressingFault):
    code = "wsa:MessageAddressingHeaderRequired"
    name = "MessageAddressingHeaderRequired"


class ActionNotSupportedFault(AddressingFault):
    code = "wsa:ActionNotSupported"
    name = "ActionNotSupported"


class ShuttingDownFault(ServiceFault):
    code = "Server.ShuttingDown"
    http_status_plain = 503
    http_status_soap11 = 503
    http_status_soap12 = 503
    http_headers = (("Retry-After", "1"),)

    def __init__(self) -> None:
        super().__init__(
            "The service is stopping and could not take the whole request in time;"
            " nothing of it was stored. Send it again."
        )


class VersionMismatchFault(ServiceFault):
    code = "VersionMismatch"
    http_status_plain = 400


class MustUnderstandFault(ServiceFault):
    code = "MustUnderstand"
    http_status_plain = 400


class InternalFault(ServiceFault):
    code = "Server.Internal"

    def __init__(self, message: str = "The service failed to process the request.") -> None:
        super().__init__(message)
