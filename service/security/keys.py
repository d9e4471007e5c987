"""The service's secret key, and the opaque page tokens made with it.

One key file (``SECRET_KEY_FILE``, default ``secret.key`` in the data directory; a
Fernet key, made with mode 0600 the first time it is needed) serves two uses:

- digest users' passwords are encrypted under it (``service.security.users``);
- ListImages' page tokens are sealed under a key derived from it (HKDF-SHA256), so
  they are opaque and bound to the user they were given to.

Instances sharing a database must share the file: a token given by one is then
taken by every other, and each can read the digest users' passwords.

A page token is ``base64url(AES-SIV(seq as 8 bytes))`` (RFC 5297: a 16-byte synthetic
IV, then the 8 encrypted bytes) with the caller's user name as associated data: 32
characters that say nothing about how many images anyone uploaded, and that another
user (or a changed character) cannot use: it is then "not a page token of this
service". AES-SIV is deterministic, so the same page for the same caller has the same
token, as a listing's tokens always had; it reveals only that two tokens are equal.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import struct
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.storage import Cursor

_SEQ: Final = struct.Struct(">Q")
_TOKEN_CHARS: Final = 32  # base64url of 16 + 8 bytes, no padding


def load_key(path: Path) -> bytes:
    """The Fernet key in ``path``, made (mode 0600) if there is none yet.

    Made in a temporary file and linked into place, so a process starting at the
    same time never reads a half-written key: the first link wins, the others read it.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(Fernet.generate_key())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_bytes().strip()


class PageTokens:
    """Seals a listing's cursor for one user, and opens it for that user only."""

    def __init__(self, key: bytes) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=64, salt=None, info=b"soap-service page token v3"
        ).derive(key)
        self._siv = AESSIV(derived)

    @classmethod
    def from_key_file(cls, path: Path) -> PageTokens:
        return cls(load_key(path))

    @staticmethod
    def _bound_to(user: str) -> list[bytes]:
        return [user.encode()]

    def seal(self, cursor: Cursor, user: str) -> str:
        sealed = self._siv.encrypt(_SEQ.pack(cursor.seq), self._bound_to(user))
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, token: str, user: str) -> Cursor:
        """The cursor ``token`` seals for ``user``; ValueError when it is not one."""
        if len(token) != _TOKEN_CHARS:
            raise ValueError("not a page token of this service")
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii"))
            if base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
                raise ValueError("not canonical")
            (seq,) = _SEQ.unpack(self._siv.decrypt(raw, self._bound_to(user)))
        except (InvalidTag, binascii.Error, UnicodeEncodeError, ValueError, struct.error):
            raise ValueError("not a page token of this service") from None
        if seq < 1:
            raise ValueError("not a page token of this service")
        return Cursor(seq)
