"""service.imaging alone: formats, sizes and damage, on images Pillow made."""

from __future__ import annotations

import pytest

from service.imaging import ImageError, inspect_image
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
