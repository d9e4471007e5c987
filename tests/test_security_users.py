"""Users on both tables (``users.sqlite3`` and PostgreSQL), and the shared failure counts.

Issue 16, finding 13: with PostgreSQL, users, their hashes, digest secrets, nonces and
the throttle's failure counts are the database's, so every instance agrees on them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from service.config import Settings
from service.faults import TooManyAttemptsFault
from service.security.throttle import Throttle, ThrottleLimits
from service.security.users import UserError, UserStore, open_users
from service.storage.postgres import PostgresImageStore
from tests.pg import fresh_database


@pytest.fixture(scope="module")
def database() -> Iterator[PostgresImageStore]:
    with fresh_database() as dsn:
        store = PostgresImageStore(dsn)
        yield store
        store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def users(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UserStore]:
    table = None if request.param == "sqlite" else request.getfixturevalue("database")
    with UserStore(tmp_path, table=table, cache_seconds=0) as store:
        yield store


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_add_check_list_remove(users: UserStore) -> None:
    name = unique("ada")
    users.add(name, "Right-Pa55word", role="admin")
    assert users.check_password(name, "Right-Pa55word") is not None
    assert users.check_password(name, "wrong-password") is None
    assert (next(u for u, _ in users.list() if u.name == name)).is_admin
    with pytest.raises(UserError, match="exists already"):
        users.add(name, "Other-Pa55word")
    users.remove(name)
    assert users.check_password(name, "Right-Pa55word") is None
    with pytest.raises(UserError, match="no user"):
        users.remove(name)


def test_digest_secret_round_trip_and_nonces(users: UserStore) -> None:
    name = unique("dig")
    users.add(name, "Digest-Pa55word", digest=True)
    found = users.digest_secret(name)
    assert found is not None and found[1] == "Digest-Pa55word"
    nonce = unique("nonce")
    assert users.remember_nonce(nonce, expires=2e9, now=1e9)
    assert not users.remember_nonce(nonce, expires=2e9, now=1e9)


def test_two_instances_share_the_database_users(
    database: PostgresImageStore, tmp_path: Path
) -> None:
    key = tmp_path / "shared.key"
    first = UserStore(tmp_path / "a", table=database, key_path=key)
    second = UserStore(tmp_path / "b", table=database, key_path=key)
    name = unique("both")
    first.add(name, "Shared-Pa55word", digest=True)
    assert second.check_password(name, "Shared-Pa55word") is not None
    found = second.digest_secret(name)
    assert found is not None and found[1] == "Shared-Pa55word"
    assert not (tmp_path / "a" / "users.sqlite3").exists()


def test_another_key_refuses_the_digest_and_says_why(
    database: PostgresImageStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name = unique("key")
    UserStore(tmp_path / "a", table=database).add(name, "Keyed-Pa55word", digest=True)
    other = UserStore(tmp_path / "b", table=database)
    with caplog.at_level(logging.WARNING, logger="soap_service.security"):
        assert other.digest_secret(name) is None
    assert "SOAP_SERVICE_SECRET_KEY_FILE" in caplog.text
    assert "Keyed-Pa55word" not in caplog.text


def test_the_users_file_is_copied_once(database: PostgresImageStore, tmp_path: Path) -> None:
    name = unique("old")
    with UserStore(tmp_path) as local:
        local.add(name, "Local-Pa55word")
    settings = Settings(data_dir=tmp_path)
    moved = open_users(settings, database)
    assert moved.check_password(name, "Local-Pa55word") is not None
    assert (tmp_path / "users.sqlite3.imported").exists()
    moved.remove(name)
    again = open_users(settings, database)  # no file left: the removed user stays removed
    assert again.check_password(name, "Local-Pa55word") is None


def test_the_trust_store_is_copied_with_the_users_and_shared(
    database: PostgresImageStore, tmp_path: Path
) -> None:
    from tests.wssec import make_identity

    name = unique("signer")
    identity = make_identity(tmp_path / "certs", name)
    with UserStore(tmp_path) as local:
        local.add(name, "Local-Pa55word")
        local.trust.add(identity.certificate, name)
    moved = open_users(Settings(data_dir=tmp_path), database)
    found = moved.trust.find("fingerprint", identity.fingerprint)
    assert found is not None and found.user == name and found.der == identity.der
    ski = identity.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert moved.trust.find("ski", ski.value.digest.hex()) == found
    issuer = identity.certificate.issuer.rfc4514_string().replace(",", ", ").upper()
    serial = str(identity.certificate.serial_number)
    assert moved.trust.find("serial", serial, issuer=issuer) == found
    assert moved.trust.find("serial", serial, issuer="CN=someone else") is None
    moved.trust.remove(identity.fingerprint)
    assert moved.trust.find("fingerprint", identity.fingerprint) is None


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_failures_counted_in_one_worker_hold_back_another(database: PostgresImageStore) -> None:
    limits = ThrottleLimits(max_failures=3, backoff=2.0)
    clock, wall = Clock(), Clock()
    wall.now = 2e9  # its own epoch: the rows of other tests are long forgotten
    one, other = (Throttle(limits, clock, database, wall) for _ in range(2))
    name = unique("victim")
    for _ in range(3):
        one.admit(name, None)
        one.failed(name, None)
    with pytest.raises(TooManyAttemptsFault):
        other.admit(name, None)  # never failed in this "worker"
    wall.now += 2.5
    clock.now += 2.5
    other.admit(name, None)  # the wait is over
    other.succeeded(name, None)  # a success forgets the name's count everywhere
    one.failed(name, None)
    assert database.failure_wait([("name", name)], wall.now) == 0.0
