"""What a call can raise, in one tree.

    SoapClientError
     ├── SoapFault              the service answered with a SOAP fault
     │    ├── ValidationError   Client.Validation: ``field`` and ``reason``
     │    ├── ImageRejected     Client.ImageRejected: ``reason`` code and ``reason_message``
     │    ├── NotFound          Client.NotFound: ``image_id`` (missing, or not yours to see)
     │    └── AuthenticationError  wsse:FailedAuthentication, wsse:InvalidSecurity,
     │                             wsse:MessageExpired (WS-Security codes, kept as such)
     └── TransportError         no SOAP answer at all: connection, timeout, HTTP error page

Every fault's ``code`` is the dotted SOAP 1.1 form (``Client.Validation``)
whichever SOAP version carried it; WS-Security codes stay ``wsse:<name>``.
"""

from __future__ import annotations

from lxml import etree


class SoapClientError(Exception):
    """Base of everything the client raises."""


class SoapFault(SoapClientError):
    """A SOAP fault from the service (declared or not)."""

    def __init__(self, code: str, message: str, detail: etree._Element | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.detail = detail

    @property
    def is_client_error(self) -> bool:
        """True when the request was wrong (fix it); False when the service failed."""
        return self.code.startswith("Client")


class ValidationError(SoapFault):
    """A field of the request broke the contract."""

    def __init__(
        self, code: str, message: str, detail: etree._Element | None, *, field: str, reason: str
    ) -> None:
        super().__init__(code, message, detail)
        self.field = field
        self.reason = reason


class ImageRejected(SoapFault):
    """The upload was not a PNG, JPEG or GIF image the service accepts."""

    def __init__(
        self,
        code: str,
        message: str,
        detail: etree._Element | None,
        *,
        reason: str,
        reason_message: str,
    ) -> None:
        super().__init__(code, message, detail)
        self.reason = reason
        self.reason_message = reason_message


class NotFound(SoapFault):
    """No such image, or not one the caller may see."""

    def __init__(
        self, code: str, message: str, detail: etree._Element | None, *, image_id: str
    ) -> None:
        super().__init__(code, message, detail)
        self.image_id = image_id


class AuthenticationError(SoapFault):
    """The service did not accept (or was not sent) the credentials it needs."""


class TransportError(SoapClientError):
    """The service could not be reached, or answered with something not SOAP."""
