"""The scenario every toolkit's driver runs, and the check of its report.

A driver gets: the WSDL path, the endpoint URL (``.../soap`` or ``.../soap12``),
the PNG path, the text-file path, a user name and its password. It signs its
calls with HTTP Basic in its toolkit's own way (UploadImage needs a user), calls,
and prints one JSON object with these keys:

    greet            Greet(name="Ada")                         -> the greeting
    time_default     GetTime() with no zone                   -> {"timezone": ..., "utc": ISO text}
    time_zone        GetTime(timezone="Asia/Kolkata")         -> {"timezone": ..., "local": ISO text}
    echo             EchoPerson for PEOPLE, in order           -> [[first, last, age], ...]
    upload           UploadImage(the PNG, as raw bytes where the toolkit takes bytes)
                                                              -> {"image_id", "sha256", "size_bytes", "format", "width", "height"}
    listed           ListImages(page_size=100), following next_page_token until the upload's
                     image_id shows                            -> that receipt: {"image_id", "sha256", "size_bytes"}
    image            GetImage(the upload's image_id)           -> {"image_id", "filename", "sha256", "size_bytes"},
                     sha256 and size_bytes of ``content`` as the toolkit hands it over,
                     in its own byte type (Buffer, byte[], bytes, a gSOAP __ptr/__size ...)
    fault_validation Greet(name=" ")                          -> {"code", "field", "reason"}
    fault_age        EchoPerson(age=200)                      -> {"code", "field"}
    fault_zone       GetTime(timezone="Mars/Olympus_Mons")    -> {"code", "field"}
    fault_image      UploadImage(the text file)               -> {"code", "reason"}

``listed`` and ``image`` are checked when ``check_report(..., images=True)``: issue 15
asks it of every row; the drivers that do not report them yet are called without it.

``code`` is whatever the toolkit shows as the fault code (``soap:Client.Validation``,
``Client.Validation``, ``Sender``+subcode ...): it must contain the subcode's words.
The fault's detail fields must be read through the toolkit's own fault type.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

PEOPLE = [["Zoë", "Ñúñez-李", 0], ["Ada", "Lovelace", 150]]


def parse_report(stdout: str) -> dict[str, Any]:
    """The last line of ``stdout`` that is a JSON object."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)  # type: ignore[no-any-return]
    raise AssertionError(f"no JSON report in the driver's output:\n{stdout[-3000:]}")


def _offset(iso: str) -> str:
    match = re.search(r"([+-]\d\d:?\d\d|Z)$", iso.strip())
    return match.group(1).replace("0530", "05:30") if match else ""


def check_report(
    report: dict[str, Any],
    png: Path,
    *,
    subcodes_visible: bool = True,
    keeps_offsets: bool = True,
    images: bool = False,
) -> None:
    """Asserts the report is what the contract promises.

    ``subcodes_visible=False`` is for toolkits whose fault type keeps only the SOAP 1.2
    top-level code (PHP's SoapFault): their code must then be ``Sender``, and the typed
    detail still has to say which fault it is. ``keeps_offsets=False`` is for toolkits
    that map xs:dateTime to an instant (gSOAP's time_t): the local time must then be
    the same instant as now, give or take a few minutes, instead of showing +05:30.
    ``images=True`` checks ListImages and GetImage too (``listed``, ``image``).
    """
    data = png.read_bytes()

    def code_says(code: str, words: str) -> bool:
        return words in code if subcodes_visible else code.endswith("Sender")

    assert report["greet"] == "Hello, Ada!"
    assert report["time_default"]["timezone"] == "UTC"
    assert _offset(report["time_default"]["utc"]) in ("Z", "+00:00", "+0000")
    assert report["time_zone"]["timezone"] == "Asia/Kolkata"
    local = report["time_zone"]["local"]
    if keeps_offsets:
        assert _offset(local) == "+05:30", report["time_zone"]
    else:
        instant = datetime.fromisoformat(local.replace("Z", "+00:00"))
        assert abs(instant - datetime.now(timezone.utc)) < timedelta(minutes=10), local
    assert report["echo"] == PEOPLE
    upload = report["upload"]
    assert upload["sha256"] == hashlib.sha256(data).hexdigest()
    assert int(upload["size_bytes"]) == len(data)
    assert (upload["format"], int(upload["width"]), int(upload["height"])) == ("png", 64, 48)
    if images:
        assert upload["image_id"], upload
        listed = report["listed"]
        assert listed["image_id"] == upload["image_id"], listed
        assert listed["sha256"] == upload["sha256"]
        assert int(listed["size_bytes"]) == len(data)
        image = report["image"]
        assert image["image_id"] == upload["image_id"], image
        assert image["sha256"] == upload["sha256"], "GetImage's content is not the uploaded bytes"
        assert int(image["size_bytes"]) == len(data)
        assert image["filename"]
    validation = report["fault_validation"]
    assert code_says(validation["code"], "Validation"), validation
    assert validation["field"] == "name"
    assert validation["reason"]
    assert code_says(report["fault_age"]["code"], "Validation")
    assert report["fault_age"]["field"] == "person/age"
    assert code_says(report["fault_zone"]["code"], "Validation")
    assert report["fault_zone"]["field"] == "timezone"
    assert code_says(report["fault_image"]["code"], "ImageRejected")
    assert report["fault_image"]["reason"] == "not_an_image"
