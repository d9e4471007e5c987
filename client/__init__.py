"""A typed zeep client for soap-service; see ``client.client``."""

from client.client import ImageReceipt, Person, SoapServiceClient, TimeInfo
from client.exceptions import (
    AuthenticationError,
    ImageRejected,
    SoapClientError,
    SoapFault,
    TransportError,
    ValidationError,
)

__all__ = [
    "AuthenticationError",
    "ImageReceipt",
    "ImageRejected",
    "Person",
    "SoapClientError",
    "SoapFault",
    "SoapServiceClient",
    "TimeInfo",
    "TransportError",
    "ValidationError",
]
