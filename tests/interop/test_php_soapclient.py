"""PHP's SoapClient (ext-soap) in WSDL mode, as PHP's manual shows it, on the served WSDL.

``new SoapClient($wsdl, ['login' => $user, 'password' => $password])``: the WSDL is
``GET /soap?wsdl`` unedited, no ``location`` (the address is the WSDL's), no cache option
(the WSDL cache, on by default, gets a fresh ``soap.wsdl_cache_dir`` per test so no run
reads an older contract). ``login``/``password`` is the manual's HTTP Basic; ext-soap sends
``Authorization: Basic`` on every request, unasked.

- ``default``: no other option. ext-soap binds every operation to the WSDL's first port that
  declares it, ``SoapServiceSoap11`` (``/soap``), and sends SOAP 1.1 (``text/xml``), the
  manual's default ``soap_version``.
- ``1.2``: adds ``'soap_version' => SOAP_1_2``, the manual's documented option for SOAP 1.2
  and the only way ext-soap sends it. ext-soap still posts to the first port, ``/soap``
  (the option picks the envelope, not the port), and the port answers in the request's
  version (``application/soap+xml``).

ext-soap's own limitation, not the service's: its ``SoapFault`` keeps only a SOAP 1.2 fault's
``Code/Value`` (``soap:Sender``) and drops the ``Subcode`` the wire carries::

    <soap:Code><soap:Value>soap:Sender</soap:Value>
      <soap:Subcode><soap:Value>tns:Validation</soap:Value></soap:Subcode></soap:Code>

so on the 1.2 row the code is ``Sender`` and the typed detail (``$f->detail``) says which
fault it is. xs:base64Binary is a PHP byte string both ways (GetImage's ``content`` too).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, require, run
from tests.interop.scenario import check_report, parse_report


@pytest.mark.parametrize("usage", ["default", "1.2"])
def test_php_soapclient(
    live_server: LiveServer, payloads: dict[str, Path], usage: str, tmp_path: Path
) -> None:
    require("php")
    before = live_server.log_text()
    out = run(
        [
            "php",
            "-d",
            f"soap.wsdl_cache_dir={tmp_path}",
            "driver.php",
            live_server.url + "/soap?wsdl",
            usage,
            payloads["png"],
            payloads["text"],
            *TESTER,
        ],
        cwd=HERE / "php",
    )
    report = parse_report(out)
    check_report(report, payloads["png"], subcodes_visible=usage == "default", images=True)
    if usage == "1.2":  # the limitation above, asserted: the subcode never reaches SoapFault
        assert report["fault_validation"]["code"] == "soap:Sender", report["fault_validation"]
    marker = "method=POST path=/soap operation=GetImage outcome=ok"
    assert live_server.log_text().count(marker) > before.count(marker), "not called on /soap"
