"""A large upload's base64, read from the spooled body instead of from a tree.

Above ``Settings.stream_threshold`` a plain (not MTOM) SOAP request is not parsed
whole. Its longest text (the bytes between a ``>`` and the next ``<``), when every
byte of it is base64, is found by scanning the spool, and the parser
gets the body with that text replaced by a random marker: the tree is built as
before (the same hardened parser, the same limits) but small. Where the marker
lands decides what follows:

- the sole text of an operation's own base64Binary field, directly inside the
  operation element in the Body, in canonical base64 (every character of the
  alphabet, the padding only at the end, the last group re-encoding to itself) and
  at least ``binary.PREDECODE_MIN`` long: exactly what ``binary.take_canonical_base64``
  would have decoded and emptied. The element is left empty for the schema, and the
  operation gets a :class:`SpooledBase64`, decoded a piece at a time from the spool
  (the image checks, the sha256, the store);
- anywhere else, or in a signed request (a signature covers the Body's text), or
  when the schema refuses the request: the text is put back, read from the spool,
  and the tree is then the whole-document path's tree;
- a parse that fails, a limit broken, an encoding in which bytes are not characters
  (only UTF-8 and ASCII are spliced), or no such text (folded lines, other characters,
  padding inside, a last group that is not canonical): the request takes the
  whole-document path from the start.

Large MTOM messages likewise (:func:`unpack_spooled`): their largest part stays in the
spool. The bytes are read from the spool up to three times (the scan, the image checks
and sha256, the store): page cache, and cheaper than holding or copying them.

So every result, fault and schema error is the whole path's by construction; the
fallbacks hold what the whole path holds (bounded by the body limit, as before).
``tests/test_upload_streamed.py`` compares both paths on generated requests.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import IO, Final

import pybase64
from lxml import etree

from service.faults import ServiceFault
from service.soap import binary, mtom
from service.soap.hardening import Limits, parse_request
from service.storage import Content

#: the spool is scanned and decoded this many bytes at a time (a multiple of 4)
SCAN: Final = 1 << 20
_SPACE: Final = b" \t\r\n"
_DECLARATION: Final = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)")
_SPLICED_ENCODINGS: Final = frozenset({b"UTF-8", b"UTF8", b"US-ASCII", b"ASCII"})
_DSIG_SIGNATURE: Final = "{http://www.w3.org/2000/09/xmldsig#}Signature"


@dataclass(frozen=True)
class Run:
    """Where the long base64 text lies in the spool: ``[start, end)``."""

    start: int
    end: int
    padding: int

    @property
    def length(self) -> int:
        return self.end - self.start


class SpooledBase64:
    """``Content`` for a base64 text left in the spool: its decoded bytes a piece at a time."""

    def __init__(self, spool: IO[bytes], run: Run) -> None:
        self._spool = spool
        self.run = run
        self.size = run.length // 4 * 3 - run.padding

    def __len__(self) -> int:
        return self.size

    def pieces(self, size: int = SCAN) -> Iterator[bytes]:
        step = max(4, size // 3 * 4)
        position = self.run.start
        while position < self.run.end:
            self._spool.seek(position)
            text = self._spool.read(min(step, self.run.end - position))
            position += len(text)
            yield pybase64.b64decode(text, validate=True)

    def text(self) -> str:
        """The base64 text itself (for the whole path's tree)."""
        self._spool.seek(self.run.start)
        return self._spool.read(self.run.length).decode("ascii")

    def close(self) -> None:
        pass


@dataclass
class Spliced:
    """A request parsed without its long base64 text (module docstring)."""

    root: etree._Element
    element: etree._Element
    value: SpooledBase64

    restored: bool = False

    def restore(self) -> None:
        """Puts the text back: the tree becomes the whole-document path's."""
        if not self.restored:
            self.element.text = self.value.text()
            self.restored = True


def splice(
    spool: IO[bytes],
    length: int,
    limits: Limits,
    base64_tags: dict[str, frozenset[str]],
) -> Spliced | None:
    """The request in ``spool`` parsed with its long base64 text left there, or None
    when it must be parsed whole. ``base64_tags``: each operation element's Clark name
    and its base64Binary fields."""
    spool.seek(0)
    head = spool.read(4096)
    if not _spliceable_encoding(head):
        return None
    run = _find_run(spool, length)
    if run is None or run.length > limits.max_text_length:
        return None
    marker = f"SPOOLED{secrets.token_hex(16)}"
    spool.seek(0)
    before = spool.read(run.start)
    spool.seek(run.end)
    after = spool.read()
    document = before + marker.encode() + after
    # the count of "=" the whole document would have had (the marker has none)
    if document.count(b"=") + run.padding > limits.max_elements:
        return None
    try:
        root = parse_request(document, limits)
    except ServiceFault:
        return None
    found = [element for element in root.iter() if element.text == marker]
    if len(found) != 1:
        return None
    spliced = Spliced(root, found[0], SpooledBase64(spool, run))
    if not _in_place(spliced, base64_tags) or run.length < binary.PREDECODE_MIN:
        spliced.restore()
    return spliced


def _in_place(spliced: Spliced, base64_tags: dict[str, frozenset[str]]) -> bool:
    """Whether the marker is the sole text of an operation's own base64Binary field,
    in a request with no signature."""
    element = spliced.element
    wrapper = element.getparent()
    body = wrapper.getparent() if wrapper is not None else None
    if body is None or body.getparent() is not spliced.root or len(element):
        return False
    if etree.QName(body).localname != "Body" or not isinstance(element.tag, str):
        return False
    fields = base64_tags.get(wrapper.tag)  # type: ignore[union-attr]
    if fields is None or element.tag.rpartition("}")[2] not in fields:
        return False
    return next(spliced.root.iter(_DSIG_SIGNATURE), None) is None


def _spliceable_encoding(head: bytes) -> bool:
    """Whether the body's bytes are its characters (UTF-8 or ASCII, as declared)."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if not head or head[0] not in b"<" + _SPACE:
        return False
    stripped = head.lstrip(_SPACE)
    if stripped.startswith(b"<?xml"):
        end = stripped.find(b"?>")
        if end == -1:
            return False
        declared = _DECLARATION.match(stripped[: end + 2])
        if declared is not None and declared.group(1).upper() not in _SPLICED_ENCODINGS:
            return False
    return True


def _find_run(spool: IO[bytes], length: int) -> Run | None:
    """The longest text between a ``>`` and the next ``<`` (at least
    ``binary.PREDECODE_MIN`` bytes) when its every byte is base64, the padding only at
    its end and the last group canonical; else None."""
    spool.seek(0)
    last_gt = -1
    last_lt = -1
    found: tuple[int, int] | None = None
    position = 0
    while chunk := spool.read(SCAN):
        at = 0
        while (lt := chunk.find(b"<", at)) != -1:
            gt = chunk.rfind(b">", at, lt)
            if gt != -1:
                last_gt = position + gt
            start, end = last_gt + 1, position + lt
            if last_gt > last_lt and end - start >= binary.PREDECODE_MIN:
                if found is None or end - start > found[1] - found[0]:
                    found = (start, end)
            last_lt = position + lt
            at = lt + 1
        gt = chunk.rfind(b">", at)
        if gt != -1:
            last_gt = position + gt
        position += len(chunk)
    if found is None:
        return None
    start, end = found
    if (end - start) % 4:
        return None
    spool.seek(start)
    position = start
    tail = b""
    while position < end:
        text = spool.read(min(SCAN, end - position))
        if not text:
            return None
        position += len(text)
        if b"=" in text[: len(text) - 2 if position == end else len(text)]:
            return None  # padding before the end
        try:  # every byte in the alphabet: pybase64's SIMD decoder checks it fastest
            pybase64.b64decode(text, validate=True)
        except ValueError:
            return None
        tail = (tail + text)[-4:]
    padding = len(tail) - len(tail.rstrip(b"="))
    if padding > 2 or b"=" in tail[: 4 - padding]:
        return None
    try:
        last = pybase64.b64decode(tail, validate=True)
    except ValueError:
        return None
    if pybase64.b64encode(last) != tail:
        return None
    return Run(start, end, padding)


# --- MTOM: the one large part left in the spool ---

#: a part is left in the spool when its bytes past its header block are at least this
_MIN_PART: Final = 64 * 1024


class SpooledPart:
    """``Content`` for an MTOM part whose bytes stay in the spool: the head that went
    through ``mtom.unpack`` with the rest of the message, then ``[start, end)`` of the spool."""

    def __init__(self, head: bytes, spool: IO[bytes], start: int, end: int) -> None:
        self._head = head
        self._spool = spool
        self._start = start
        self._end = end
        self.size = len(head) + end - start

    def __len__(self) -> int:
        return self.size

    def pieces(self, size: int = SCAN) -> Iterator[bytes]:
        if self._head:
            yield self._head
        position = self._start
        while position < self._end:
            self._spool.seek(position)
            piece = self._spool.read(min(size, self._end - position))
            if not piece:
                raise OSError("the spooled body is shorter than it was")
            position += len(piece)
            yield piece

    def read(self) -> bytes:
        """Every byte at once (a part included as text: the whole path's cost)."""
        return b"".join(self.pieces())

    def close(self) -> None:
        pass


def unpack_spooled(
    spool: IO[bytes],
    length: int,
    params: dict[str, str],
    soap_media: str,
    accepted: Collection[str],
) -> mtom.Package | None:
    """``mtom.unpack`` of the MTOM message in ``spool`` with its largest part's bytes
    left there (a :class:`SpooledPart`), or None when it must be read whole.

    The bytes cut out lie wholly inside one part's body, past its header block (and
    past the window ``mtom.split`` searches for its end), up to the delimiter that ends
    it, and a random marker stands at the cut; the cut message's delimiters are
    checked to be the whole message's, so ``mtom.unpack`` meets the same structure and
    raises the same faults (any fault: None, and the whole path raises it). Each size
    limit is then judged on the part's true length (``len``)."""
    boundary = _boundary(spool, params)
    if boundary is None:
        return None
    delimiter = b"\r\n--" + boundary
    found = _occurrences(spool, delimiter)
    gaps = [(found[i + 1] - found[i], i) for i in range(len(found) - 1)]
    if not gaps:
        return None
    _, index = max(gaps)
    begin, end = found[index], found[index + 1]
    spool.seek(begin + len(delimiter))
    window = spool.read(min(end - begin - len(delimiter), mtom.MAX_PART_HEADERS + 4096))
    line_end = window.find(b"\r\n")
    if line_end < 0:
        return None
    cut = begin + len(delimiter) + line_end + 2 + mtom.MAX_PART_HEADERS + 8
    if end - cut < _MIN_PART:
        return None
    marker = f"SPOOLED{secrets.token_hex(16)}".encode()
    spool.seek(0)
    before = spool.read(cut)
    spool.seek(end)
    after = spool.read()
    message = before + marker + after
    shift = end - cut - len(marker)
    expected = [p if p < cut else p - shift for p in found]
    if _find_all(message, delimiter) != expected:
        return None
    try:
        package = mtom.unpack(message, dict(params), soap_media, accepted)
    except ServiceFault:
        return None
    if package.root.endswith(marker):
        return None  # the root part is the large one: parsed whole
    for cid, body in package.attachments.items():
        if not isinstance(body, memoryview):
            continue
        if len(body) >= len(marker) and body[-len(marker) :] == marker:
            head = bytes(body[: -len(marker)])
            attachments: dict[str, memoryview | Content] = dict(package.attachments)
            attachments[cid] = SpooledPart(head, spool, cut, end)
            return mtom.Package(package.root, package.soap_media, package.action, attachments)
    return None


def _boundary(spool: IO[bytes], params: dict[str, str]) -> bytes | None:
    boundary = params.get("boundary")
    if boundary is None:
        spool.seek(0)
        try:
            params, _ = mtom.headers_in_body(spool.read(mtom.MAX_PART_HEADERS + 64), params)
        except ServiceFault:
            return None
        boundary = params.get("boundary")
    if boundary is None or not mtom.valid_boundary(boundary):
        return None
    return boundary.encode("ascii")


def _occurrences(spool: IO[bytes], needle: bytes) -> list[int]:
    """Every start of ``needle`` in the spool, read a piece at a time."""
    spool.seek(0)
    found: list[int] = []
    carry = b""
    position = 0  # where carry begins
    while chunk := spool.read(SCAN):
        window = carry + chunk
        # an occurrence that starts in carry runs past it: it was not found before
        found += (position + at for at in _find_all(window, needle))
        keep = len(needle) - 1
        carry = window[-keep:] if keep else b""
        position += len(window) - len(carry)
    return found


def _find_all(data: bytes, needle: bytes) -> list[int]:
    found = []
    at = data.find(needle)
    while at != -1:
        found.append(at)
        at = data.find(needle, at + 1)
    return found
