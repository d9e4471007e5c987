"""An independent XML-RPC client: Perl's XMLRPC::Lite (Debian ``libxmlrpc-lite-perl`` 0.717),
as ``perldoc XMLRPC::Lite`` shows it: ``XMLRPC::Lite->proxy($url)->call($method, @params)``.

HTTP Basic is given as the proxy's LWP ``credentials`` (host:port, realm, user, password):
LWP sends them only after a 401 that names the realm, which the service answers a call
without credentials with. Binary goes as ``XMLRPC::Data->type(base64 => $bytes)``.
XMLRPC::Lite returns ``<int>`` and ``<boolean>`` as text and ``<dateTime.iso8601>`` as its
string, which the driver prints as it got them.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, require, run


def test_perl_xmlrpc_lite(live_server: LiveServer, payloads: dict[str, Path]) -> None:
    require("perl", "/usr/share/perl5/XMLRPC/Lite.pm")
    before = live_server.log_text()
    out = run(
        [
            "perl",
            "xmlrpc_lite_driver.pl",
            live_server.url + "/xmlrpc",
            payloads["png"],
            payloads["text"],
            *TESTER,
        ],
        cwd=HERE / "perl",
    )
    report = json.loads(out)
    assert report["greet"] == {"result": "Hello, Ada!"}
    assert report["greet_blank"]["faultCode"] == -32602
    assert report["greet_blank"]["faultString"].startswith("Client.Validation: ")
    assert report["time"]["result"]["local"].endswith("+01:00")
    person = {"first_name": "Ada", "last_name": "Lovelace", "age": "36"}
    assert report["echo"] == {"result": person}
    assert report["echo_too_old"]["faultCode"] == -32602
    assert "person/age" in report["echo_too_old"]["faultString"]
    assert report["unknown"]["faultCode"] == -32601
    assert "UploadImage" in report["methods"]["result"]
    assert report["help"]["result"].startswith("Greets someone by name.")
    assert report["signature"]["result"][0] == ["struct", "string", "base64"]

    receipt = report["upload"]["result"]
    assert receipt["sha256"] == report["png_sha256"] == report["get_sha256"]
    assert report["get"]["result"]["image_id"] == receipt["image_id"]
    assert report.get("listed") == receipt["image_id"], report.get("list")
    assert report["delete"]["result"]["image_id"] == receipt["image_id"]
    assert report["get_deleted"]["faultCode"] == 2
    assert report["get_deleted"]["faultString"].startswith("Client.NotFound: ")
    assert report["upload_text"]["faultCode"] == 1
    assert report["upload_text"]["faultString"].startswith("Client.ImageRejected: ")
    described = report["describe"]["result"]
    assert described["soap_version"] == "XML-RPC" and described["user"] == TESTER[0]

    after = live_server.log_text()[len(before) :]
    assert "path=/xmlrpc operation=UploadImage outcome=ok" in after
    assert "path=/xmlrpc operation=GetImage outcome=fault fault=Client.NotFound" in after
    assert TESTER[1] not in after
