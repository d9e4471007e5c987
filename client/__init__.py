"""A typed zeep client for soap-service; see ``client.client``."""

from client.client import (
    ImageData,
    ImagePage,
    ImageReceipt,
    Person,
    SoapServiceClient,
    TimeInfo,
)
from client.exceptions import (
    AuthenticationError,
    ImageRejected,
    NotFound,
    SoapClientError,
    SoapFault,
    TransportError,
    ValidationError,
)

__all__ = [
    "AuthenticationError",
    "ImageData",
    "ImagePage",
    "ImageReceipt",
    "ImageRejected",
    "NotFound",
    "Person",
    "SoapClientError",
    "SoapFault",
    "SoapServiceClient",
    "TimeInfo",
    "TransportError",
    "ValidationError",
]
