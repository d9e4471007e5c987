"""MTOM requests written by hand, byte for byte, the way WCF and JAX-WS frame them."""

from __future__ import annotations

import base64
import email.parser
import email.policy
from dataclasses import dataclass

from lxml import etree

from service import ns

XOP = "http://www.w3.org/2004/08/xop/include"
BOUNDARY = "uuid:6b6e1f6c-0b4b-4bd0-9a1e-soap-service-tests"
ROOT_ID = "root.message@cxf.apache.org"
SOAP_MEDIA = {"1.1": "text/xml", "1.2": "application/soap+xml"}
#: each SOAP version's port: its path and its media type
SOAP_PORTS = {"1.1": ("/soap", SOAP_MEDIA["1.1"]), "1.2": ("/soap12", SOAP_MEDIA["1.2"])}


def envelope(version: str, operation: str, fields: str) -> bytes:
    env = ns.SOAP11_ENV if version == "1.1" else ns.SOAP12_ENV
    return (
        f'<soap:Envelope xmlns:soap="{env}" xmlns:t="{ns.TNS}" xmlns:xop="{XOP}">'
        f"<soap:Body><t:{operation}>{fields}</t:{operation}></soap:Body></soap:Envelope>"
    ).encode()


def upload_envelope(version: str, cid: str = "image-1@tests", filename: str = "big.png") -> bytes:
    return envelope(
        version,
        "UploadImage",
        f'<t:filename>{filename}</t:filename><t:content><xop:Include href="cid:{cid}"/></t:content>',
    )


@dataclass
class Message:
    body: bytes
    content_type: str


def message(
    version: str,
    root: bytes,
    attachments: list[tuple[str, bytes]],
    *,
    boundary: str = BOUNDARY,
    start: str | None = ROOT_ID,
    action: str | None = None,
) -> Message:
    """``root`` as the start part, then each (Content-ID, bytes) as a binary part."""
    media = SOAP_MEDIA[version]
    type_param = media if action is None else f'{media}; action=\\"{action}\\"'
    chunks = [
        f"--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8;"
        f' type="{type_param}"\r\nContent-Transfer-Encoding: binary\r\n'
        f"Content-ID: <{ROOT_ID}>\r\n\r\n".encode(),
        root,
    ]
    for cid, data in attachments:
        chunks.append(
            f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Transfer-Encoding: binary\r\nContent-ID: <{cid}>\r\n\r\n".encode()
        )
        chunks.append(data)
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    content_type = f'multipart/related; type="application/xop+xml"; boundary="{boundary}"'
    if start is not None:
        content_type += f'; start="<{start}>"'
    content_type += f'; start-info="{media}"'
    if action is not None:
        content_type += f'; action="{action}"'
    return Message(b"".join(chunks), content_type)


@dataclass
class Reply:
    """An MTOM response read with the standard library's MIME parser (not ours)."""

    root: etree._Element
    parts: dict[str, bytes]
    root_type: str

    def content(self, element: etree._Element) -> bytes:
        """The bytes of a base64Binary element, inline or through its xop:Include."""
        include = element.find(f"{{{XOP}}}Include")
        if include is None:
            return base64.b64decode(element.text or "")
        return self.parts[include.get("href", "")[4:]]


def read_reply(content_type: str, body: bytes) -> Reply:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    assert parsed.get_content_type() == "multipart/related", content_type
    parts = list(parsed.iter_parts())
    start = parsed.get_param("start")
    root_part = next(p for p in parts if p["Content-ID"] == start) if start else parts[0]
    others = {
        str(p["Content-ID"]).strip("<>"): p.get_payload(decode=True)
        for p in parts
        if p is not root_part
    }
    payload = root_part.get_payload(decode=True)
    return Reply(etree.fromstring(payload), others, root_part.get_content_type())
