"""Reading a fault envelope the way the tests compare it: one dotted code for both SOAP versions."""

from __future__ import annotations

from lxml import etree

from service import ns


def fault_code_of(root: etree._Element) -> str:
    """The dotted code (``Client.Validation``) of a SOAP 1.1 or 1.2 fault envelope."""
    env = etree.QName(root).namespace
    assert root.tag == f"{{{env}}}Envelope", root.tag
    fault = root.find(f"{{{env}}}Body/{{{env}}}Fault")
    assert fault is not None, etree.tostring(root)[:2000]
    if env == ns.SOAP11_ENV:
        return fault.findtext("faultcode").split(":", 1)[1]
    values = [v.text.split(":", 1)[1] for v in fault.iter(f"{{{env}}}Value")]
    values[0] = {"Sender": "Client", "Receiver": "Server"}.get(values[0], values[0])
    return ".".join(values)
