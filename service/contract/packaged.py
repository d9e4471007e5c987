"""The contract as installed: copies of ``wsdl/service.wsdl`` shipped inside the packages.

``wsdl/service.wsdl`` is the reviewed source, but it lives outside the packages, so a
wheel cannot carry it. ``soap-service wsdl export`` writes it together with two
byte-identical copies, package data that every install has:

- ``service/contract/service.wsdl``: what ``soap-service wsdl check`` compares with the
  models when there is no checkout (an installed wheel);
- ``client/service.wsdl``: what the client's zeep proxy is built from.

``soap-service wsdl check`` (in a checkout) and ``tests/test_packaging.py`` fail when a copy
differs from ``wsdl/service.wsdl`` by a single byte.

``wsdl/service-soap11.wsdl``, the SOAP 1.1 view (``GET /soap?wsdl=soap11``), is written
and checked beside it and has no packaged copy: nothing installed reads it (the service
renders it at startup, like the full one), and it is the full contract minus the SOAP 1.2
binding and port, so checking the full one checks what the view is made of.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

NAME: Final = "service.wsdl"
#: The SOAP 1.1 view of the contract, beside it in wsdl/ (``render_wsdl(soap12=False)``)
SOAP11_NAME: Final = "service-soap11.wsdl"
#: Where the reviewed contract is in a source checkout (absent from an installed wheel).
CHECKOUT_WSDL: Final = Path(__file__).resolve().parent.parent.parent / "wsdl" / NAME


def wsdl_bytes() -> bytes:
    """The contract shipped in this package."""
    return resources.files("service.contract").joinpath(NAME).read_bytes()


def in_checkout() -> bool:
    return CHECKOUT_WSDL.is_file()


def checkout_copies() -> list[Path]:
    """The packaged copies of ``wsdl/service.wsdl``, as files of the source checkout."""
    root = CHECKOUT_WSDL.parent.parent
    return [root / "service" / "contract" / NAME, root / "client" / NAME]


def checkout_soap11_view() -> Path:
    """``wsdl/service-soap11.wsdl`` beside the reviewed contract."""
    return CHECKOUT_WSDL.parent / SOAP11_NAME
