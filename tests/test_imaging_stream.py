"""service.imaging.inspect_pieces against inspect_image: the same answer, or the same
error, for good and damaged images cut into pieces anywhere (issue 17, uploads)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.faults import ValidationFault
from service.imaging import ImageError, inspect_image, inspect_pieces
from tests.images import make_image
from tests.test_imaging import png_declaring

BASES = [
    make_image("PNG", (40, 30)),
    make_image("JPEG", (40, 30)),
    make_image("GIF", (40, 30)),
    make_image("BMP", (8, 8)),
    png_declaring(2**31, 5),
    b"GIF89a" + bytes(20),
    b"\xff\xd8\xff\xd9",
    b"",
]


def _verdict(run: object) -> object:
    try:
        return ("ok", run())  # type: ignore[operator]
    except ImageError as error:
        return ("image", error.reason, error.message)
    except ValidationFault as fault:
        return ("validation", fault.message)


def _pieces(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    edges = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    for start, end in zip(edges, edges[1:], strict=False):
        yield data[start:end]


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["flip", "truncate", "append", "insert", "zeros"]))
        at = draw(st.integers(0, max(0, len(data))))
        if kind == "flip" and data:
            data[at % len(data)] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "append":
            data += draw(st.binary(max_size=16))
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from([b"\xff\xd9", b",", b";", b"\x00\x00", b"\xff"]))
        else:
            data += bytes(draw(st.integers(1, 8)))
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged(), st.lists(st.integers(0, 10**6), max_size=12))
def test_pieces_give_what_the_whole_gives(data: bytes, cuts: list[int]) -> None:
    whole = _verdict(lambda: inspect_image(data))
    streamed = _verdict(lambda: inspect_pieces(_pieces(data, cuts), len(data)))
    if whole[0] == "ok":
        assert streamed == ("ok", (whole[1], hashlib.sha256(data).hexdigest()))
    else:
        assert streamed == whole


@pytest.mark.parametrize("base", BASES[:3])
def test_one_byte_pieces(base: bytes) -> None:
    info, digest = inspect_pieces((base[i : i + 1] for i in range(len(base))), len(base))
    assert info == inspect_image(base)
    assert digest == hashlib.sha256(base).hexdigest()
