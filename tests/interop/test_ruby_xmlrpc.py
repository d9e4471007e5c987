"""A third XML-RPC client: Ruby's xmlrpc (Debian ``ruby-xmlrpc`` 0.3.2), as its README shows it:
``XMLRPC::Client.new2(url)`` and ``server.call(method, *params)``, HTTP Basic in the URL.

Ruby's client is the strictest of the three about times: it refuses a ``dateTime.iso8601``
with a fraction of a second ("wrong dateTime.iso8601 format"), which is why the service sends
the contract's string to the second (``service.http.xmlrpc``); it reads the offset and gives
the instant in UTC.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, require, run


def test_ruby_xmlrpc(live_server: LiveServer, payloads: dict[str, Path]) -> None:
    require("ruby", "/usr/lib/ruby/vendor_ruby/xmlrpc/client.rb")
    before = datetime.now(timezone.utc).replace(microsecond=0)
    out = run(
        [
            "ruby",
            "xmlrpc_driver.rb",
            live_server.url + "/xmlrpc",
            payloads["png"],
            payloads["text"],
            *TESTER,
        ],
        cwd=HERE / "ruby",
    )
    report = json.loads(out)
    assert report["greet"] == {"result": "Hello, Ada!"}
    assert report["greet_blank"]["faultCode"] == -32602
    assert report["greet_blank"]["faultString"].startswith("Client.Validation: ")
    times = report["time"]["result"]
    assert times["timezone"] == "Europe/Paris"
    # both read as the same instant: Ruby applies the +01:00 of the local time
    assert times["utc"] == times["local"]
    assert datetime(*times["utc"]["dateTime"], tzinfo=timezone.utc) >= before
    ada = {"first_name": "Ada", "last_name": "Lovelace", "age": 36}
    assert report["echo"] == {"result": ada}
    assert report["echo_too_old"]["faultCode"] == -32602
    assert report["unknown"]["faultCode"] == -32601
    assert "DescribeRequest" in report["methods"]["result"]
    assert report["signature"]["result"][1] == ["struct", "string", "base64", "string"]

    receipt = report["upload"]["result"]
    assert receipt["sha256"] == report["png_sha256"] == report["get_sha256"]
    assert receipt["size_bytes"] == payloads["png"].stat().st_size
    assert report.get("listed") == receipt["image_id"]
    assert report["delete"]["result"]["image_id"] == receipt["image_id"]
    assert report["get_deleted"]["faultCode"] == 2
    assert report["upload_text"]["faultCode"] == 1
    described = report["describe"]["result"]
    assert described["soap_version"] == "XML-RPC" and described["user"] == TESTER[0]
    assert described["tls"] is False
