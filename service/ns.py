"""Names and namespaces of the contract, in one place.

Everything a client's generated code is named after lives here: changing a value
in this module changes the contract (and the drift test will say so).
"""

from __future__ import annotations

from typing import Final

TNS: Final = "urn:soap-service:v1"
SERVICE_NAME: Final = "SoapService"
PORT_TYPE: Final = "SoapServicePortType"

XSD: Final = "http://www.w3.org/2001/XMLSchema"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
WSDL: Final = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP11: Final = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12: Final = "http://schemas.xmlsoap.org/wsdl/soap12/"
SOAP11_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV: Final = "http://www.w3.org/2003/05/soap-envelope"
HTTP_TRANSPORT: Final = "http://schemas.xmlsoap.org/soap/http"
WSP: Final = "http://www.w3.org/ns/ws-policy"
#: WS-Security 1.0: the Security header and its tokens, and the utility namespace (Timestamp, Id)
WSSE: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
#: XML-DSig (ds:Signature), the X.509 Token Profile 1.0 (BinarySecurityToken ValueTypes),
#: and the xml: namespace (xml:id)
DS: Final = "http://www.w3.org/2000/09/xmldsig#"
X509_TOKEN_PROFILE: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0"
)
XML: Final = "http://www.w3.org/XML/1998/namespace"
#: the UsernameToken Profile 1.0 (the Password element's Type URIs start with it)
WSSE_USERNAME_TOKEN_PROFILE: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
)
#: WS-Addressing 1.0 (W3C), the 2004/08 member submission WCF's and older stacks still
#: send, and the metadata namespace of ``wsam:Action`` in the contract
WSA: Final = "http://www.w3.org/2005/08/addressing"
WSA_SUBMISSION: Final = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSAM: Final = "http://www.w3.org/2007/05/addressing/metadata"
#: the WSDL Binding draft's namespace (2006/05), whose wsaw:Action WCF publishes and
#: Mono's svcutil reads (it ignores wsam:Action)
WSAW: Final = "http://www.w3.org/2006/05/addressing/wsdl"
#: XOP 1.0: MTOM's xop:Include
XOP: Final = "http://www.w3.org/2004/08/xop/include"
WSOMA: Final = "http://schemas.xmlsoap.org/ws/2004/09/policy/optimizedmimeserialization"
#: xs:dateTime in UTC as the contract writes it (and the stores keep it): always with a ``Z``
UTC_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"

#: The policy both bindings reference: MTOM is understood, and optional.
MTOM_POLICY_ID: Final = "SoapServiceMtomPolicy"
#: The other: WS-Addressing is understood, optional, with replies on the HTTP response only.
ADDRESSING_POLICY_ID: Final = "SoapServiceAddressingPolicy"

#: The address written into the committed contract; the running service
#: replaces it with its configured public URL.
PLACEHOLDER_BASE_URL: Final = "http://localhost:8000"


def soap_action(operation: str) -> str:
    """The SOAPAction URI of an operation (the same on both bindings), and its request's
    ``wsam:Action``."""
    return f"{TNS}/{operation}"


def output_action(operation: str) -> str:
    """The ``wsam:Action`` of an operation's reply."""
    return f"{soap_action(operation)}Response"


def fault_action(operation: str, fault: str) -> str:
    """The ``wsam:Action`` of an operation's declared fault (``fault``: its name)."""
    return f"{soap_action(operation)}/Fault/{fault}"
