"""A typed zeep client for soap-service; see ``client.client``."""

from client.client import (
    ImageData,
    ImagePage,
    ImageReceipt,
    Person,
    RequestDescription,
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
    "RequestDescription",
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
