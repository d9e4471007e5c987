"""service.intake in process: the size, pace and memory rules on a body's chunks."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import pytest

from service.faults import RequestTimeoutFault, RequestTooLargeFault
from service.intake import IntakeRules, Refused, declared_length, take_in

RULES = IntakeRules(body_limit=1000, body_timeout=0.2, body_min_rate=1000, spool_threshold=100)


async def chunks(*parts: bytes, pause: float = 0.0) -> AsyncIterator[bytes]:
    for part in parts:
        if pause:
            await asyncio.sleep(pause)
        yield part


def take(parts: AsyncIterator[bytes], declared: int | None, rules: IntakeRules = RULES):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        return await take_in(parts, declared, rules, asyncio.get_running_loop())

    return asyncio.run(run())


def test_a_small_body_is_one_bytes_object() -> None:
    body = take(chunks(b"ab", b"cd"), 4)
    assert body.whole and body.length == 4 and body.stream.read() == b"abcd"
    assert isinstance(body.stream, io.BytesIO)


def test_a_large_body_is_spooled_to_a_file_past_the_threshold() -> None:
    rules = IntakeRules(body_limit=1 << 20, body_timeout=5, body_min_rate=1, spool_threshold=1000)
    parts = [bytes([n]) * 50_000 for n in range(4)]
    body = take(chunks(*parts), None, rules)
    assert body.whole and body.length == 200_000
    assert body.stream.read() == b"".join(parts)
    assert body.stream._rolled  # type: ignore[attr-defined]  # on disk, not in memory
    body.close()


@pytest.mark.parametrize(("declared", "parts"), [(5000, [b"x"]), (None, [b"x" * 600] * 2)])
def test_a_body_over_the_limit_is_refused(declared: int | None, parts: list[bytes]) -> None:
    body = take(chunks(*parts), declared)
    assert not body.whole and isinstance(body.stream, Refused)
    with pytest.raises(RequestTooLargeFault):
        body.stream.read()


def test_a_body_that_stops_coming_is_refused_at_its_deadline() -> None:
    async def stalls() -> AsyncIterator[bytes]:
        yield b"<"
        await asyncio.sleep(30)
        yield b">"

    body = take(stalls(), 2)
    with pytest.raises(RequestTimeoutFault):
        body.stream.read()


def test_each_byte_received_extends_the_deadline() -> None:
    # 0.2 s to start, then 1000 bytes/s: 100 bytes every 0.05 s keeps ahead (2000 bytes/s)
    body = take(chunks(*[b"x" * 100] * 8, pause=0.05), 800)
    assert body.whole and body.length == 800


@pytest.mark.parametrize(
    ("header", "expected"), [(None, None), ("", None), ("12", 12), ("-1", -1), ("1e3", -1)]
)
def test_declared_lengths(header: str | None, expected: int | None) -> None:
    assert declared_length(header) == expected


def test_a_small_declared_body_is_read_in_one_call_under_its_deadline() -> None:
    async def whole() -> bytes:
        return b"abcd"

    async def never() -> bytes:
        await asyncio.sleep(30)
        return b""

    async def run(read, declared):  # type: ignore[no-untyped-def]
        return await take_in(chunks(), declared, RULES, asyncio.get_running_loop(), None, read)

    body = asyncio.run(run(whole, 4))
    assert body.whole and body.stream.read() == b"abcd"
    late = asyncio.run(run(never, 4))
    with pytest.raises(RequestTimeoutFault):
        late.stream.read()
