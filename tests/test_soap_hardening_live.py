"""Issue 16, finding 3, through the real server: a DOCTYPE in any encoding names a FIFO.

The byte scan of service.soap.hardening sees ``<!DOCTYPE`` only where the
encoding spells it in those bytes; in UTF-16, UTF-32, UCS-2/4 or UTF-7 the
parser is the first to see it, and it opened the files a SYSTEM identifier
named. A FIFO tells: opened for reading by anyone, a non-blocking open for
writing succeeds; with no reader it fails with ENXIO. And the fault must not
tell a file that exists from one that does not.
"""

from __future__ import annotations

import base64
import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree

from tests.conftest import LiveServer, start_server, stop_server
from tests.soap_faults import fault_code_of

ENVELOPE = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    '<tns:Greet xmlns:tns="http://example.com/soap-service"><tns:person>'
    "<tns:first_name>Ada</tns:first_name><tns:last_name>L</tns:last_name><tns:age>36</tns:age>"
    "</tns:person></tns:Greet></soap:Body></soap:Envelope>"
)


def _utf7(text: str) -> bytes:
    """Every character base64-spelled ("<" is "+ADw-"): nothing for a byte scan to see."""
    spelled = base64.b64encode(text.encode("utf-16-be")).decode().rstrip("=")
    return b'<?xml version="1.0" encoding="UTF-7"?>+' + spelled.encode() + b"-"


def _declared(name: str, codec: str, bom: bytes = b"") -> Callable[[str], bytes]:
    return lambda text: bom + f'<?xml version="1.0" encoding="{name}"?>{text}'.encode(codec)


#: Every encoding libxml2 reads a DOCTYPE in (EBCDIC it refuses outright).
ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "utf-8": _declared("UTF-8", "utf-8"),
    "utf-16-bom": _declared("UTF-16", "utf-16"),
    "utf-16le": _declared("UTF-16LE", "utf-16-le"),
    "utf-16be": _declared("UTF-16BE", "utf-16-be"),
    "utf-16-bom-undeclared": lambda text: text.encode("utf-16"),
    "utf-32-bom": _declared("UTF-32", "utf-32"),
    "utf-32le": _declared("UTF-32LE", "utf-32-le"),
    "utf-32be": _declared("UTF-32BE", "utf-32-be"),
    "ucs-2": _declared("ISO-10646-UCS-2", "utf-16-le"),
    "ucs-4": _declared("ISO-10646-UCS-4", "utf-32-le"),
    "iso-8859-1": _declared("ISO-8859-1", "latin-1"),
    "utf-7": _utf7,
}


def external_subset(path: str) -> str:
    return f'<!DOCTYPE soap:Envelope SYSTEM "{path}">{ENVELOPE}'


def parameter_entity(path: str) -> str:
    return f'<!DOCTYPE soap:Envelope [<!ENTITY % p SYSTEM "{path}"> %p;]>{ENVELOPE}'


def general_entity(path: str) -> str:
    body = ENVELOPE.replace(">Ada<", ">&g;<")
    return f'<!DOCTYPE soap:Envelope [<!ENTITY g SYSTEM "{path}">]>{body}'


SHAPES = {"external-subset": external_subset, "parameter-entity": parameter_entity}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("hardening-live"))
    yield live
    stop_server(live)


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    yield path
    path.unlink()


def someone_reads(fifo: Path) -> bool:
    """Whether anything holds ``fifo`` open for reading (or waits in open() to)."""
    try:
        descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as error:
        assert error.errno == errno.ENXIO, error
        return False
    os.close(descriptor)  # the reader sees end-of-file and lets its worker go
    return True


def send(server: LiveServer, body: bytes) -> requests.Response | None:
    """The answer, or None when none came (a worker stuck opening the FIFO)."""
    try:
        return requests.post(
            server.url + "/soap",
            data=body,
            headers={"Content-Type": "text/xml", "SOAPAction": '""'},
            timeout=3,
        )
    except requests.exceptions.ReadTimeout:
        return None


def fault(response: requests.Response | None) -> tuple[int, str, str]:
    assert response is not None, "no answer: the worker is stuck opening a named file"
    root = etree.fromstring(response.content)
    return response.status_code, fault_code_of(root), root.findtext(".//faultstring") or ""


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_fifo_named_in_a_doctype_is_never_opened(
    server: LiveServer, fifo: Path, encoding: str, shape: str
) -> None:
    response = send(server, ENCODINGS[encoding](SHAPES[shape](str(fifo))))
    assert not someone_reads(fifo), "the server opened the FIFO a request named"
    assert fault(response)[:2] == (500, "Client.ForbiddenXml")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_fault_does_not_tell_whether_a_named_file_exists(
    server: LiveServer, tmp_path: Path, encoding: str
) -> None:
    existing = tmp_path / "there.dtd"
    existing.write_text("<!ELEMENT x ANY>\nnot a DTD at all\n")
    named = [str(existing), str(tmp_path / "missing.dtd"), "/etc/passwd", "/dev/zero"]
    for shape in (external_subset, parameter_entity, general_entity):
        faults = {fault(send(server, ENCODINGS[encoding](shape(path)))) for path in named}
        assert faults == {
            (500, "Client.ForbiddenXml", "DTDs and entity declarations are not accepted.")
        }
