"""A typed zeep client for soap-service; see ``client.client``."""

from client.client import ImageReceipt, Person, SoapServiceClient, TimeInfo
from client.exceptions import (
    ImageRejected,
    SoapClientError,
    SoapFault,
    TransportError,
    ValidationError,
)

__all__ = [
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
