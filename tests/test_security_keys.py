"""The secret key file and ListImages' page tokens (issue 16, finding 12)."""

from __future__ import annotations

import base64
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from service.security.keys import PageTokens, load_key
from service.storage import Cursor


@pytest.fixture
def tokens(tmp_path: Path) -> PageTokens:
    return PageTokens.from_key_file(tmp_path / "secret.key")


def test_the_key_is_made_once_private_and_whole(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "secret.key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_key(path), range(32)))
    assert len(keys) == 1
    Fernet(keys.pop())  # a whole Fernet key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]


def test_a_token_opens_for_its_user_only(tokens: PageTokens) -> None:
    token = tokens.seal(Cursor(42), "ada")
    assert tokens.open(token, "ada") == Cursor(42)
    assert tokens.seal(Cursor(42), "ada") == token  # the same page, the same token
    for other in ("bob", "ad", "ada ", ""):
        with pytest.raises(ValueError):
            tokens.open(token, other)


def test_a_token_says_nothing_of_the_position(tokens: PageTokens) -> None:
    near = [tokens.seal(Cursor(seq), "ada") for seq in (1, 2, 1000, 10**12)]
    assert len({len(t) for t in near}) == 1 and len(near[0]) == 32
    for token in near:
        raw = base64.urlsafe_b64decode(token + "==")
        assert not raw.startswith(b"v2") and len(raw) == 24
        assert not any(str(n).encode() in raw for n in (1000, 10**12))


def test_another_key_does_not_open_it(tokens: PageTokens, tmp_path: Path) -> None:
    other = PageTokens.from_key_file(tmp_path / "other.key")
    with pytest.raises(ValueError):
        other.open(tokens.seal(Cursor(7), "ada"), "ada")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x",
        "djJ8NDI",  # the former v2|42
        "A" * 32,
        "A" * 31 + "=",
        "é" * 32,
        "!" * 32,
    ],
)
def test_what_is_not_a_token(tokens: PageTokens, token: str) -> None:
    with pytest.raises(ValueError):
        tokens.open(token, "ada")


def test_every_changed_character_is_refused(tokens: PageTokens) -> None:
    token = tokens.seal(Cursor(99), "ada")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i in range(len(token)):
        changed = token[:i] + alphabet[(alphabet.index(token[i]) + 1) % 64] + token[i + 1 :]
        with pytest.raises(ValueError):
            tokens.open(changed, "ada")
