"""``GET /images/{image_id}``: an image's bytes over plain HTTP, streamed.

The same visibility as GetImage (your own images; an admin sees all), with
HTTP Basic credentials. Answers carry ``Content-Type``, ``Content-Length``,
``ETag`` (the quoted sha256), ``Accept-Ranges: bytes``; ``If-None-Match``
gets a 304, one ``Range: bytes=a-b`` (or ``a-`` or ``-n``) a 206 or a 416.
Several ranges are served whole (200), which RFC 9110 allows. The body is
an iterator of chunks read from the store, so memory stays flat whatever
the image's size.

What is served is what the bytes are, never what the uploader said: the
Content-Type is the detected format's, and every answer says
``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy: default-src
'none'; sandbox`` (a PNG that is also an HTML page is never run as a page), and
an image comes as ``Content-Disposition: attachment`` named ``<id>.<format>``
(``<img>`` ignores it; a browser opening the URL saves the file).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from service.answer import Answer
from service.contract.operations import media_type
from service.faults import ServiceFault
from service.security.identity import Policy, identify
from service.security.users import UserStore
from service.storage import ImageRecord, ImageStore

_RANGE: Final = re.compile(r"bytes=(\d*)-(\d*)")
#: a position of more digits is past the end of any file (and never made an int:
#: int() of thousands of digits is refused, and slow)
_DIGITS: Final = 18
_ID: Final = re.compile(r"[A-Za-z0-9]{1,64}")
#: what the access log and the metrics call a download
OPERATION: Final = "download"
#: on every answer of this route: the type is never sniffed, nothing in it ever runs
SAFE_CONTENT: Final = (
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; sandbox"),
)


def _text(status: int, message: str, *headers: tuple[str, str]) -> Answer:
    data = (message + "\n").encode()
    return Answer.whole(
        status, "text/plain; charset=utf-8", data, *SAFE_CONTENT, *headers, operation=OPERATION
    )


def _byte_range(header: str, size: int) -> tuple[int, int] | None | str:
    """(start, end) exclusive; None to serve it all; "unsatisfiable" for a 416."""
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None  # not a single byte range: ignore it
    first, last = (group.lstrip("0") or ("0" if group else "") for group in match.groups())
    if not first and not last:
        return None
    if not first:  # the last n bytes
        count = int(last) if len(last) <= _DIGITS else size
        if count == 0:
            return "unsatisfiable"
        return max(0, size - count), size
    if len(first) > _DIGITS:
        return "unsatisfiable"
    start = int(first)
    end = min(size, int(last) + 1) if last and len(last) <= _DIGITS else size
    if start >= size or end <= start:
        return "unsatisfiable"
    return start, end


def download(
    image_id: str,
    environ: dict[str, object],
    store: ImageStore,
    users: UserStore,
    policy: Policy,
) -> Answer:
    try:
        user = identify(
            "GetImage", None, str(environ.get("HTTP_AUTHORIZATION") or ""), users, policy
        )
    except ServiceFault as fault:
        # plain HTTP: 401 with its challenge, or 429 with Retry-After when throttled
        return _text(fault.http_status_plain, fault.message, *fault.http_headers)
    record: ImageRecord | None = store.get(image_id) if _ID.fullmatch(image_id) else None
    owner = user.name if user is not None else ""
    admin = user is not None and user.is_admin
    if record is None or not (admin or record.owner == owner):
        return _text(404, f"No image {image_id!r} that you may see.")
    etag = f'"{record.sha256}"'
    identity = [("ETag", etag), ("Accept-Ranges", "bytes"), ("Cache-Control", "private")]
    common = [
        *identity,
        *SAFE_CONTENT,
        ("Content-Disposition", f'attachment; filename="{record.image_id}.{record.format}"'),
    ]
    matches = str(environ.get("HTTP_IF_NONE_MATCH") or "")
    if matches.strip() == "*" or etag in [m.strip() for m in matches.split(",")]:
        return Answer(304, common, (), None, OPERATION)
    size = record.size_bytes
    wanted = _byte_range(str(environ.get("HTTP_RANGE") or ""), size)
    if wanted == "unsatisfiable":
        return _text(416, "Range Not Satisfiable", ("Content-Range", f"bytes */{size}"), *identity)
    start, end = wanted if isinstance(wanted, tuple) else (0, size)
    headers = [("Content-Type", media_type(record.format)), *common]
    status = 200
    if isinstance(wanted, tuple):
        status = 206
        headers.append(("Content-Range", f"bytes {start}-{end - 1}/{size}"))
    body: Iterator[bytes] = store.chunks(record.sha256, start, end)
    return Answer(status, headers, body, end - start, OPERATION)
