"""service.imaging alone: formats, sizes and damage, on images Pillow made."""

from __future__ import annotations

import struct
import zlib

import pytest

from service.contract import internals
from service.contract.models import ImageReceipt
from service.faults import ValidationFault
from service.imaging import MAX_DIMENSION, ImageError, inspect_image
from tests.images import make_image


@pytest.mark.parametrize(("fmt", "name"), [("PNG", "png"), ("JPEG", "jpeg"), ("GIF", "gif")])
def test_formats_and_sizes(fmt: str, name: str) -> None:
    info = inspect_image(make_image(fmt, (123, 45)))
    assert (info.format, info.width, info.height) == (name, 123, 45)
    assert info.media_type == f"image/{name}"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF"])
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9, -1])
def test_truncated_images_are_corrupt(fmt: str, keep: float) -> None:
    data = make_image(fmt, (40, 40))
    end = len(data) - 1 if keep == -1 else int(len(data) * keep)
    with pytest.raises(ImageError) as caught:
        inspect_image(data[:end])
    assert caught.value.reason == "corrupt"


def test_png_with_a_flipped_bit_fails_its_crc() -> None:
    data = bytearray(make_image("PNG"))
    data[40] ^= 0x01
    with pytest.raises(ImageError) as caught:
        inspect_image(bytes(data))
    assert caught.value.reason == "corrupt"


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "WEBP", "ICO"])
def test_other_image_formats_are_unsupported(fmt: str) -> None:
    with pytest.raises(ImageError) as caught:
        inspect_image(make_image(fmt, (16, 16)))
    assert caught.value.reason == "unsupported_format"


@pytest.mark.parametrize("data", [b"", b"hello", b"%PDF-1.7\n", b"\x89PNG"])
def test_not_images(data: bytes) -> None:
    with pytest.raises(ImageError) as caught:
        inspect_image(data)
    assert caught.value.reason in ("not_an_image", "corrupt")


# --- issue 16, finding 8: no receipt may carry a size the contract cannot ---


def png_declaring(width: int, height: int) -> bytes:
    """A complete PNG (CRCs right) whose IHDR declares ``width`` x ``height``."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(body, zlib.crc32(kind))
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A JPEG's structure (SOF0, SOS, EOI): the most its 16-bit size fields can say."""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + sof + sos + b"\x00" + b"\xff\xd9"


def gif_declaring(width: int, height: int) -> bytes:
    screen = struct.pack("<HHBBB", width, height, 0, 0, 0)
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return b"GIF89a" + screen + descriptor + b"\x02\x02\x44\x01\x00" + b"\x3b"


def test_the_limit_is_the_contracts_xs_int() -> None:
    receipt_fields = internals.fields(ImageReceipt)
    for name in ("width", "height"):
        assert receipt_fields[name].get_type_name() == "int"
    assert MAX_DIMENSION == 2**31 - 1


@pytest.mark.parametrize(
    ("width", "height"),
    [(2**32 - 1, 1), (1, 2**32 - 1), (2**31, 1), (1, 2**31), (2**32 - 1, 2**32 - 1)],
)
def test_a_png_declaring_more_than_an_xs_int_is_a_validation_fault(width: int, height: int) -> None:
    with pytest.raises(ValidationFault) as caught:
        inspect_image(png_declaring(width, height))
    assert caught.value.field == "content"
    assert "declared dimensions" in caught.value.reason and "out of range" in caught.value.reason


def test_the_largest_sizes_each_format_can_declare_fit() -> None:
    assert inspect_image(png_declaring(MAX_DIMENSION, MAX_DIMENSION)).width == MAX_DIMENSION
    for make, name in ((jpeg_declaring, "jpeg"), (gif_declaring, "gif")):
        info = inspect_image(make(65535, 65535))  # 16 bits: all JPEG and GIF can say
        assert (info.format, info.width, info.height) == (name, 65535, 65535)
