"""Real images made for the tests with Pillow (an independent encoder)."""

from __future__ import annotations

import io
import os

from PIL import Image


def make_image(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 90))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def make_noise_png(target_bytes: int) -> bytes:
    """An uncompressible PNG of about ``target_bytes`` (at most), made fast."""
    width = 1024
    height = max(1, (target_bytes - 1024) // (width * 3 + 1))
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()
