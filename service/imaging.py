"""What an uploaded file really is: format and size read from its own bytes.

The checks walk each format's structure (PNG chunks with their CRCs, JPEG
segments up to the end-of-image marker, the GIF header and trailer), so a
truncated or corrupt file is told apart from a good one without decoding
pixels. Nothing here trusts the file name or the declared content type.
Dimensions a receipt could not carry (over the contract's ``xs:int``) are a
ValidationFault on ``content``: no response may break the published schema.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from service.faults import ValidationFault

SUPPORTED_FORMATS: Final = ("png", "jpeg", "gif")
#: A complete 1x1 PNG (signature, IHDR, IDAT, IEND with their CRCs): the sample image of
#: the help page, the SoapUI project, the fuzzers and the soak test.
TINY_PNG: Final = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int

    @property
    def media_type(self) -> str:
        return f"image/{self.format}"


class ImageError(ValueError):
    """The bytes are not an image we accept; ``reason`` is a contract reason code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def inspect_image(data: bytes) -> ImageInfo:
    """Identify ``data`` as a complete PNG, JPEG or GIF image, or raise ImageError."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(data)
    raise _not_accepted(data)


def _not_accepted(head: bytes) -> ImageError:
    """Why an image with neither PNG's, JPEG's nor GIF's signature is refused (``head``:
    its first 12 bytes at least)."""
    other = _other_image_format(head)
    if other:
        return ImageError(
            "unsupported_format",
            f"{other} images are not accepted; send one of: {', '.join(SUPPORTED_FORMATS)}",
        )
    return ImageError("not_an_image", "the content is not an image (no known image signature)")


def _other_image_format(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[:2] == b"BM":
        return "BMP"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if data[4:12] in (b"ftypavif", b"ftypheic", b"ftypmif1"):
        return "AVIF/HEIF"
    if data[:4] == b"\x00\x00\x01\x00":
        return "ICO"
    return None


def _corrupt(what: str) -> ImageError:
    return ImageError("corrupt", what)


#: The largest width or height a receipt can carry: the contract's ``xs:int``
#: (ImageReceipt.width and .height are Integer32), which is also PNG's own limit.
#: JPEG and GIF store 16 bits; only a PNG's 32-bit fields can declare more, and a
#: receipt saying ``width=4294967295`` broke every strict client's ListImages
#: (issue 16, finding 8).
MAX_DIMENSION: Final = 2**31 - 1


def _checked_size(fmt: str, width: int, height: int) -> ImageInfo:
    if width <= 0 or height <= 0:
        raise _corrupt(f"{fmt.upper()} image has a zero width or height")
    if width > MAX_DIMENSION or height > MAX_DIMENSION:
        raise ValidationFault(
            "content",
            f"the image's declared dimensions ({width}x{height}) are out of range:"
            f" width and height are at most {MAX_DIMENSION} (xs:int)",
        )
    return ImageInfo(fmt, width, height)


def _png(data: bytes) -> ImageInfo:
    view = memoryview(data)
    pos = 8
    width = height = 0
    first = True
    while True:
        if pos + 8 > len(data):
            raise _corrupt("PNG image is truncated (no IEND chunk)")
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 8 + length + 4
        if end > len(data):
            raise _corrupt("PNG image is truncated inside a chunk")
        body = view[pos + 8 : pos + 8 + length]  # no copy of a 10 MiB chunk
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(body, zlib.crc32(ctype)) != crc:
            raise _corrupt(f"PNG chunk {ctype!r} fails its CRC check")
        if first:
            if ctype != b"IHDR" or length != 13:
                raise _corrupt("PNG image does not start with an IHDR chunk")
            width, height = struct.unpack(">II", body[:8])
            first = False
        if ctype == b"IEND":
            return _checked_size("png", width, height)
        pos = end


_SOF_MARKERS: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg(data: bytes) -> ImageInfo:
    pos = 2
    size: tuple[int, int] | None = None
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise _corrupt("JPEG segment does not start with a marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise _corrupt("JPEG image is truncated inside a segment")
        if marker in _SOF_MARKERS:
            if length < 7:
                raise _corrupt("JPEG frame header is too short")
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            size = (width, height)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            if size is None:
                raise _corrupt("JPEG image has no frame header before its scan")
            if data.rfind(b"\xff\xd9") < pos + 2 + length:
                raise _corrupt("JPEG image is truncated (no end-of-image marker)")
            return _checked_size("jpeg", *size)
        pos += 2 + length
    raise _corrupt("JPEG image is truncated before its scan data")


def _gif(data: bytes) -> ImageInfo:
    if len(data) < 14:
        raise _corrupt("GIF image is truncated in its header")
    width, height = struct.unpack("<HH", data[6:10])
    if not data.rstrip(b"\x00").endswith(b"\x3b"):
        raise _corrupt("GIF image is truncated (no trailer)")
    if b"\x2c" not in data[13:]:
        raise _corrupt("GIF image has no image descriptor")
    return _checked_size("gif", width, height)


def inspect_pieces(pieces: Iterable[bytes], size: int) -> tuple[ImageInfo, str]:
    """``inspect_image`` over bytes given a piece at a time (``size`` of them in all), and
    their sha256: the same answer or the same error, without holding the bytes.

    The checks read what they need as it goes by: a PNG's chunk headers, with each
    chunk's CRC run over its body; a JPEG's segment headers, then whether an
    end-of-image marker begins after the first scan's header; a GIF's header, its last
    byte that is not NUL and whether a ``,`` comes after the header. Every piece goes
    through the sha256. ``tests/test_imaging.py`` holds it to ``inspect_image``."""
    reader = _Reader(iter(pieces), size)
    try:
        info = _inspect_stream(reader)
    finally:
        reader.drain()
    return info, reader.sha256.hexdigest()


class _Reader:
    """Bytes from an iterator of pieces: a short window at ``pos``, kept only as needed."""

    def __init__(self, pieces: Iterator[bytes], size: int) -> None:
        self._pieces = pieces
        self.size = size
        self.sha256 = hashlib.sha256()
        self._buffer = bytearray()
        self.pos = 0  # the absolute position of _buffer[0]
        #: called with each piece's bytes from where it stands (the scans)
        self.watchers: list[Callable[[int, bytes], None]] = []

    def _pull(self) -> bool:
        piece = next(self._pieces, None)
        if piece is None:
            return False
        self.sha256.update(piece)
        at = self.pos + len(self._buffer)
        for watch in self.watchers:
            watch(at, piece)
        self._buffer += piece
        return True

    def peek(self, n: int) -> bytes:
        """Up to ``n`` bytes from ``pos`` (fewer only at the end)."""
        while len(self._buffer) < n and self._pull():
            pass
        return bytes(self._buffer[:n])

    def skip(self, n: int, crc: int | None = None) -> int | None:
        """Moves ``pos`` on by ``n`` bytes (the CRC run over them when given)."""
        while n:
            if not self._buffer and not self._pull():
                return crc
            take = min(n, len(self._buffer))
            if crc is not None:
                crc = zlib.crc32(memoryview(self._buffer)[:take], crc)
            del self._buffer[:take]
            self.pos += take
            n -= take
        return crc

    def watch(self, watcher: Callable[[int, bytes], None]) -> None:
        """``watcher`` sees every byte from the first: those already read, then each piece."""
        watcher(self.pos, bytes(self._buffer))
        self.watchers.append(watcher)

    def drain(self) -> None:
        """Reads the rest (for the sha256 and the watchers), keeping none of it."""
        while True:
            self.pos += len(self._buffer)
            self._buffer.clear()
            if not self._pull():
                return


def _inspect_stream(reader: _Reader) -> ImageInfo:
    head = reader.peek(12)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png_stream(reader)
    if head.startswith(b"\xff\xd8\xff"):
        return _jpeg_stream(reader)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _gif_stream(reader)
    raise _not_accepted(head)


def _png_stream(reader: _Reader) -> ImageInfo:
    size = reader.size
    reader.skip(8)
    width = height = 0
    first = True
    while True:
        pos = reader.pos
        if pos + 8 > size:
            raise _corrupt("PNG image is truncated (no IEND chunk)")
        length, ctype = struct.unpack(">I4s", reader.peek(8))
        end = pos + 8 + length + 4
        if end > size:
            raise _corrupt("PNG image is truncated inside a chunk")
        reader.skip(8)
        ihdr = reader.peek(8) if first and length >= 8 else b""
        crc = reader.skip(length, zlib.crc32(ctype))
        (stored,) = struct.unpack(">I", reader.peek(4))
        reader.skip(4)
        if crc != stored:
            raise _corrupt(f"PNG chunk {ctype!r} fails its CRC check")
        if first:
            if ctype != b"IHDR" or length != 13:
                raise _corrupt("PNG image does not start with an IHDR chunk")
            width, height = struct.unpack(">II", ihdr)
            first = False
        if ctype == b"IEND":
            return _checked_size("png", width, height)


def _jpeg_stream(reader: _Reader) -> ImageInfo:
    size_of = reader.size
    last_end = [-1]  # where the last "\xff\xd9" seen so far begins
    carry = [False]  # the byte before the piece is 0xff

    def watch(at: int, piece: bytes) -> None:
        found = piece.rfind(b"\xff\xd9")
        if found != -1:
            last_end[0] = at + found
        elif carry[0] and piece[:1] == b"\xd9":
            last_end[0] = at - 1
        if piece:
            carry[0] = piece[-1] == 0xFF

    reader.watch(watch)
    reader.skip(2)
    size: tuple[int, int] | None = None
    while reader.pos + 4 <= size_of:
        pos = reader.pos
        header = reader.peek(4)
        if header[0] != 0xFF:
            raise _corrupt("JPEG segment does not start with a marker")
        marker = header[1]
        if marker == 0xFF:  # fill byte
            reader.skip(1)
            continue
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            reader.skip(2)
            continue
        (length,) = struct.unpack(">H", header[2:4])
        if length < 2 or pos + 2 + length > size_of:
            raise _corrupt("JPEG image is truncated inside a segment")
        if marker in _SOF_MARKERS:
            if length < 7:
                raise _corrupt("JPEG frame header is too short")
            height, width = struct.unpack(">HH", reader.peek(9)[5:9])
            size = (width, height)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            if size is None:
                raise _corrupt("JPEG image has no frame header before its scan")
            reader.drain()
            if last_end[0] < pos + 2 + length:
                raise _corrupt("JPEG image is truncated (no end-of-image marker)")
            return _checked_size("jpeg", *size)
        reader.skip(2 + length)
    raise _corrupt("JPEG image is truncated before its scan data")


def _gif_stream(reader: _Reader) -> ImageInfo:
    if reader.size < 14:
        raise _corrupt("GIF image is truncated in its header")
    width, height = struct.unpack("<HH", reader.peek(10)[6:10])
    last = [0]  # the last byte that is not NUL
    comma = [False]  # a "," at 13 or after

    def watch(at: int, piece: bytes) -> None:
        stripped = piece.rstrip(b"\x00")
        if stripped:
            last[0] = stripped[-1]
        if not comma[0]:
            skip = max(0, 13 - at)
            comma[0] = piece.find(b"\x2c", skip) != -1

    reader.watch(watch)
    reader.drain()
    if last[0] != 0x3B:
        raise _corrupt("GIF image is truncated (no trailer)")
    if not comma[0]:
        raise _corrupt("GIF image has no image descriptor")
    return _checked_size("gif", width, height)
