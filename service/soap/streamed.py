"""Answers whose binary values are read from the store while they are sent.

GetImage's ``content`` reaches the dispatcher as a ``service.storage.Content``:
the bytes as of one snapshot of the store, not yet read. The envelope is written
as for any answer, with a marker in place of each such value; the serialised
document is cut at the markers, and the body is the document's pieces with each
value between them, read from the store a piece at a time while the answer is
sent:

- inline (plain XML): the value's base64, encoded piece by piece. Pieces are
  ``PIECE`` bytes, a multiple of 3, so the base64 of each is the base64 of the
  whole cut where it ends (``base64_pieces`` carries any remainder all the same);
- MTOM (``service.soap.mtom.pack``): the value's raw bytes, as its part.

The length is known before the first byte (``Content-Length``): the document's
less its markers, plus each value's size (its base64 length inline). The body is
the very bytes the whole-document path writes (``tests/test_getimage_streamed.py``).
A value already in memory (``LoadedContent``: a small image) is put in place at
once, and the answer is one piece of bytes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import Final

import pybase64
from lxml import etree

from service.storage import Content, LoadedContent

#: The pieces a value is read in: a multiple of 3 bytes (base64 concatenates), about
#: the store's chunk (``service.storage.CHUNK``).
PIECE: Final = 3 * 85 * 1024


def base64_length(size: int) -> int:
    """The length of the base64 of ``size`` bytes (padded, no line breaks)."""
    return (size + 2) // 3 * 4


def base64_pieces(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The base64 of the pieces' concatenation, a piece at a time: whatever their sizes,
    the pieces it yields concatenate to ``base64.b64encode(b"".join(pieces))``."""
    carry = b""
    for piece in pieces:
        if carry:
            piece = carry + piece
        cut = len(piece) - len(piece) % 3
        if cut:
            yield pybase64.b64encode(memoryview(piece)[:cut] if cut < len(piece) else piece)
        carry = piece[cut:]
    if carry:
        yield pybase64.b64encode(carry)


class StreamedBody:
    """A body of fixed pieces and store values, read while it is sent; iterated once.

    ``close`` (called by the serving core, the WSGI server, or the end of the
    iteration) releases every value's snapshot, whether it was read or not.
    """

    def __init__(self, parts: Sequence[bytes | Content], encode: bool, length: int) -> None:
        self._parts = parts
        self._encode = encode
        self.length = length
        self._iterator = self._generate()

    def __iter__(self) -> StreamedBody:
        return self

    def __next__(self) -> bytes:
        return next(self._iterator)

    def _generate(self) -> Generator[bytes, None, None]:
        try:
            for part in self._parts:
                if isinstance(part, bytes):
                    if part:
                        yield part
                    continue
                pieces = part.pieces(PIECE)
                yield from base64_pieces(pieces) if self._encode else pieces
        finally:
            self._release()

    def _release(self) -> None:
        for part in self._parts:
            if not isinstance(part, bytes):
                part.close()

    def close(self) -> None:
        self._iterator.close()
        self._release()


def materialize(streams: Iterable[tuple[etree._Element, Content]]) -> None:
    """Each value read whole, as base64 text into its element (the whole-document path:
    ``/http`` and every caller that wants the envelope as a tree)."""
    for element, content in streams:
        if element.text is None:
            try:
                element.text = b"".join(base64_pieces(content.pieces(PIECE))).decode("ascii")
            finally:
                content.close()


def body_of(parts: Sequence[bytes | Content], encode: bool) -> tuple[Iterable[bytes], int]:
    """The body made of ``parts`` and its length: one piece when every value is in
    memory, else a ``StreamedBody``."""
    length = sum(
        len(part) if isinstance(part, bytes) else base64_length(part.size) if encode else part.size
        for part in parts
    )
    whole: list[bytes] = []
    for part in parts:
        if isinstance(part, bytes):
            whole.append(part)
        elif isinstance(part, LoadedContent):
            whole.append(pybase64.b64encode(part.data) if encode else part.data)
        else:
            break
    else:
        return (b"".join(whole),), length
    return StreamedBody(parts, encode, length), length


def inline(
    envelope: etree._Element,
    streams: Sequence[tuple[etree._Element, Content]],
    serialize: Callable[[etree._Element], bytes],
) -> tuple[Iterable[bytes], int]:
    """The envelope as plain XML, each streamed value as its base64 text in place."""
    token = uuid.uuid4().hex
    markers: list[tuple[bytes, Content]] = []
    for number, (element, content) in enumerate(streams):
        text = f"{token}.{number}."
        element.text = text
        markers.append((text.encode("ascii"), content))
    document = serialize(envelope)
    for element, _ in streams:
        element.text = None
    found = sorted((document.index(marker), marker, content) for marker, content in markers)
    parts: list[bytes | Content] = []
    at = 0
    for position, marker, content in found:
        parts += [document[at:position], content]
        at = position + len(marker)
    parts.append(document[at:])
    return body_of(parts, encode=True)
