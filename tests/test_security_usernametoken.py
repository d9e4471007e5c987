"""service.security.usernametoken and service.security.users alone: every way a token passes or fails."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from service.faults import FailedAuthenticationFault, InvalidSecurityFault, MessageExpiredFault
from service.ns import WSSE, WSU
from service.security.usernametoken import (
    PASSWORD_DIGEST,
    PASSWORD_TEXT,
    FieldLimits,
    Freshness,
    authenticate,
)
from service.security.users import UserError, UserStore

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
FRESH = Freshness(max_clock_skew=60, token_lifetime=300)


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UserStore]:
    with UserStore(tmp_path_factory.mktemp("users")) as store:
        store.add("ada", "lovelace-1815", digest=True)
        store.add("grace", "hopper-1906", role="admin")
        yield store


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def security(
    user: str = "ada",
    password: str = "lovelace-1815",
    kind: str = PASSWORD_TEXT,
    created: datetime = NOW,
    nonce: bytes | None = None,
    timestamp: tuple[datetime, datetime | None] | None = None,
    raw_digest: str | None = None,
    text_created: datetime | None = None,
) -> etree._Element:
    sec = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
    if timestamp:
        ts = etree.SubElement(sec, f"{{{WSU}}}Timestamp")
        etree.SubElement(ts, f"{{{WSU}}}Created").text = stamp(timestamp[0])
        if timestamp[1]:
            etree.SubElement(ts, f"{{{WSU}}}Expires").text = stamp(timestamp[1])
    token = etree.SubElement(sec, f"{{{WSSE}}}UsernameToken")
    etree.SubElement(token, f"{{{WSSE}}}Username").text = user
    pw = etree.SubElement(token, f"{{{WSSE}}}Password", Type=kind)
    if kind == PASSWORD_DIGEST:
        nonce = os.urandom(16) if nonce is None else nonce
        text = stamp(created)
        pw.text = (
            raw_digest
            or base64.b64encode(
                hashlib.sha1(nonce + text.encode() + password.encode()).digest()
            ).decode()
        )
        etree.SubElement(token, f"{{{WSSE}}}Nonce").text = base64.b64encode(nonce).decode()
        etree.SubElement(token, f"{{{WSU}}}Created").text = text
    else:
        pw.text = password
        if text_created is not None:
            etree.SubElement(token, f"{{{WSU}}}Created").text = stamp(text_created)
    return sec


def check(users: UserStore, element: etree._Element) -> str:
    return authenticate(element, users, FRESH, now=NOW.timestamp()).name


def test_password_text(users: UserStore) -> None:
    assert check(users, security()) == "ada"
    assert check(users, security("grace", "hopper-1906")) == "grace"


def test_password_digest(users: UserStore) -> None:
    assert check(users, security(kind=PASSWORD_DIGEST)) == "ada"


def test_digest_with_a_timestamp(users: UserStore) -> None:
    element = security(kind=PASSWORD_DIGEST, timestamp=(NOW, NOW + timedelta(minutes=5)))
    assert check(users, element) == "ada"


@pytest.mark.parametrize(
    "element",
    [
        security(password="wrong-password"),
        security(user="nobody"),
        security(kind=PASSWORD_DIGEST, password="wrong-password"),
        security(user="grace", password="hopper-1906", kind=PASSWORD_DIGEST),  # no digest secret
        security(user="nobody", kind=PASSWORD_DIGEST),
    ],
    ids=["wrong-password", "unknown-user", "wrong-digest", "no-digest-secret", "digest-unknown"],
)
def test_failures_never_say_which_half(users: UserStore, element: etree._Element) -> None:
    with pytest.raises(FailedAuthenticationFault) as caught:
        check(users, element)
    assert caught.value.message == "The security token could not be authenticated or authorized."


def test_a_replayed_digest_is_refused(users: UserStore) -> None:
    nonce = os.urandom(16)
    assert check(users, security(kind=PASSWORD_DIGEST, nonce=nonce)) == "ada"
    with pytest.raises(FailedAuthenticationFault):
        check(users, security(kind=PASSWORD_DIGEST, nonce=nonce))


def test_replays_are_refused_by_every_store_on_the_same_data(
    users: UserStore, tmp_path: Path
) -> None:
    nonce = os.urandom(16)
    assert check(users, security(kind=PASSWORD_DIGEST, nonce=nonce)) == "ada"
    with UserStore(users.path.parent) as other_worker, pytest.raises(FailedAuthenticationFault):
        check(other_worker, security(kind=PASSWORD_DIGEST, nonce=nonce))


@pytest.mark.parametrize(
    "element",
    [
        security(kind=PASSWORD_DIGEST, created=NOW - timedelta(minutes=7)),
        security(timestamp=(NOW - timedelta(minutes=10), NOW - timedelta(minutes=5))),
        security(timestamp=(NOW - timedelta(days=365), None)),
        security(timestamp=(NOW - timedelta(minutes=7), None), kind=PASSWORD_DIGEST),
        security(timestamp=(NOW - timedelta(days=365), NOW + timedelta(days=365))),
        security(text_created=NOW - timedelta(days=365)),
    ],
    ids=[
        "stale-token",
        "expired-timestamp",
        "year-old-timestamp-without-expires",
        "stale-timestamp-with-fresh-digest",
        "year-old-timestamp-with-far-expires",
        "year-old-text-token",
    ],
)
def test_expired(users: UserStore, element: etree._Element) -> None:
    with pytest.raises(MessageExpiredFault):
        check(users, element)


def test_fresh_within_the_window_and_skew(users: UserStore) -> None:
    """The edges stay open: the window plus the skew back, the skew ahead."""
    edge = NOW - timedelta(seconds=FRESH.token_lifetime + FRESH.max_clock_skew)
    assert check(users, security(timestamp=(edge, None), text_created=edge)) == "ada"
    ahead = NOW + timedelta(seconds=FRESH.max_clock_skew)
    assert check(users, security(timestamp=(ahead, ahead + timedelta(minutes=5)))) == "ada"
    late = (NOW - timedelta(minutes=5), NOW - timedelta(seconds=FRESH.max_clock_skew))
    assert check(users, security(timestamp=late)) == "ada"


@pytest.mark.parametrize(
    "element",
    [
        security(timestamp=(NOW, NOW - timedelta(minutes=1))),
        security(timestamp=(NOW, NOW)),
        security(timestamp=(NOW + timedelta(hours=1), NOW + timedelta(hours=2))),
        security(text_created=NOW + timedelta(hours=1)),
    ],
    ids=["expires-before-created", "expires-at-created", "created-in-future", "text-future"],
)
def test_timestamp_rules(users: UserStore, element: etree._Element) -> None:
    with pytest.raises(InvalidSecurityFault):
        check(users, element)


def test_one_created_and_one_expires(users: UserStore) -> None:
    element = security(timestamp=(NOW, NOW + timedelta(minutes=5)))
    ts = element.find(f"{{{WSU}}}Timestamp")
    ts.append(etree.fromstring(etree.tostring(ts[1])))
    with pytest.raises(InvalidSecurityFault, match="more than one Timestamp/Expires"):
        check(users, element)
    element = security(text_created=NOW)
    token = element.find(f"{{{WSSE}}}UsernameToken")
    token.append(etree.fromstring(etree.tostring(token[-1])))
    with pytest.raises(InvalidSecurityFault, match="more than one UsernameToken/Created"):
        check(users, element)


def _mangled(change: str) -> etree._Element:
    element = security(kind=PASSWORD_DIGEST)
    token = element.find(f"{{{WSSE}}}UsernameToken")
    if change == "no-token":
        element.remove(token)
    elif change == "two-tokens":
        element.append(etree.fromstring(etree.tostring(token)))
    elif change == "bad-nonce":
        token.find(f"{{{WSSE}}}Nonce").text = "@@not base64@@"
    elif change == "no-created":
        token.remove(token.find(f"{{{WSU}}}Created"))
    elif change == "bad-created":
        token.find(f"{{{WSU}}}Created").text = "yesterday"
    elif change == "future":
        token.find(f"{{{WSU}}}Created").text = stamp(NOW + timedelta(hours=1))
    elif change == "unknown-type":
        token.find(f"{{{WSSE}}}Password").set("Type", "urn:example:rot13")
    elif change == "no-password":
        token.remove(token.find(f"{{{WSSE}}}Password"))
    return element


@pytest.mark.parametrize(
    "change",
    [
        "no-token",
        "two-tokens",
        "bad-nonce",
        "no-created",
        "bad-created",
        "future",
        "unknown-type",
        "no-password",
    ],
)
def test_invalid_security(users: UserStore, change: str) -> None:
    with pytest.raises(InvalidSecurityFault):
        check(users, _mangled(change))


def test_store_keeps_no_plain_password(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store = UserStore(tmp_path)
    request.addfinalizer(store.close)
    store.add("textonly", "Plain-Secret-123")
    store.add("digester", "Digest-Secret-456", digest=True)
    raw = (tmp_path / "users.sqlite3").read_bytes()
    assert b"Plain-Secret-123" not in raw and b"Digest-Secret-456" not in raw
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    assert [(u.name, d) for u, d in store.list()] == [("digester", True), ("textonly", False)]
    store.remove("textonly")
    assert store.check_password("textonly", "Plain-Secret-123") is None


@pytest.mark.parametrize(
    ("name", "password", "role"),
    [
        ("", "long-enough", "user"),
        ("a:b", "long-enough", "user"),
        ("ok", "short", "user"),
        ("ok", "long-enough", "root"),
    ],
)
def test_user_rules(tmp_path: Path, name: str, password: str, role: str) -> None:
    with UserStore(tmp_path) as store, pytest.raises(UserError):
        store.add(name, password, role=role)


def test_nonce_cache_is_bounded(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store = UserStore(tmp_path, max_nonces=3)
    request.addfinalizer(store.close)
    now = NOW.timestamp()
    assert all(store.remember_nonce(f"n{i}", now + 60, now) for i in range(3))
    assert not store.remember_nonce("n-new", now + 60, now)  # full: refuse rather than forget
    assert store.remember_nonce("n-later", now + 200, now + 120)  # the old ones expired


class _Recorder(UserStore):
    """A user store that notes the nonce keys it is asked to remember."""

    keys: list[str]

    def remember_nonce(self, nonce: str, expires: float, now: float | None = None) -> bool:
        self.keys.append(nonce)
        return super().remember_nonce(nonce, expires, now)


def test_nonces_are_remembered_by_their_bytes_in_one_spelling(tmp_path: Path) -> None:
    with _Recorder(tmp_path) as store:
        store.keys = []
        store.add("ada", "lovelace-1815", digest=True)
        nonce = b"\xfb" * 16
        assert check(store, security(kind=PASSWORD_DIGEST, nonce=nonce)) == "ada"
        assert store.keys == ["ada:" + base64.b64encode(nonce).decode()]


@pytest.mark.parametrize(
    ("spelling", "nonce"),
    [("QR==", b"A"), ("Q/==", b"C"), ("QUJ=", b"AB"), ("QUJD" + "QR==", b"ABCA")],
)
def test_only_canonical_base64_nonces(users: UserStore, spelling: str, nonce: bytes) -> None:
    """Bits the padding leaves over must be zero: one spelling per nonce."""
    assert base64.b64decode(spelling, validate=True)[-1:] == nonce[-1:]
    element = security(kind=PASSWORD_DIGEST, nonce=nonce)
    element.find(f"{{{WSSE}}}UsernameToken/{{{WSSE}}}Nonce").text = spelling
    with pytest.raises(InvalidSecurityFault, match="not canonical base64"):
        check(users, element)


@pytest.mark.parametrize(("size", "ok"), [(1, True), (64, True), (65, False), (1 << 20, False)])
def test_nonce_size_limit(users: UserStore, size: int, ok: bool) -> None:
    element = security(kind=PASSWORD_DIGEST, nonce=os.urandom(size))
    if ok:
        assert check(users, element) == "ada"
        return
    with pytest.raises(InvalidSecurityFault, match="UsernameToken/Nonce is longer than"):
        check(users, element)
    small = FieldLimits(max_nonce_bytes=16)
    with pytest.raises(InvalidSecurityFault, match="longer than 16 bytes"):
        authenticate(
            security(kind=PASSWORD_DIGEST, nonce=os.urandom(17)),
            users,
            FRESH,
            NOW.timestamp(),
            small,
        )


LONG = "x" * 1025


def _with_text(element: etree._Element, path: str, text: str) -> etree._Element:
    found = element.find(path, {"wsse": WSSE, "wsu": WSU})
    assert found is not None, path
    found.text = text
    return element


@pytest.mark.parametrize(
    ("build", "path", "field"),
    [
        (lambda: security(), "wsse:UsernameToken/wsse:Username", "UsernameToken/Username"),
        (lambda: security(), "wsse:UsernameToken/wsse:Password", "UsernameToken/Password"),
        (
            lambda: security(kind=PASSWORD_DIGEST),
            "wsse:UsernameToken/wsse:Password",
            "UsernameToken/Password",
        ),
        (
            lambda: security(kind=PASSWORD_DIGEST),
            "wsse:UsernameToken/wsse:Nonce",
            "UsernameToken/Nonce",
        ),
        (
            lambda: security(kind=PASSWORD_DIGEST),
            "wsse:UsernameToken/wsu:Created",
            "UsernameToken/Created",
        ),
        (
            lambda: security(text_created=NOW),
            "wsse:UsernameToken/wsu:Created",
            "UsernameToken/Created",
        ),
        (
            lambda: security(timestamp=(NOW, NOW + timedelta(minutes=5))),
            "wsu:Timestamp/wsu:Created",
            "Timestamp/Created",
        ),
        (
            lambda: security(timestamp=(NOW, NOW + timedelta(minutes=5))),
            "wsu:Timestamp/wsu:Expires",
            "Timestamp/Expires",
        ),
    ],
)
def test_every_field_is_bounded(users: UserStore, build, path: str, field: str) -> None:  # type: ignore[no-untyped-def]
    element = _with_text(build(), path, LONG)
    with pytest.raises(InvalidSecurityFault) as caught:
        check(users, element)
    assert f"{field} is longer than 1024 characters" in caught.value.message
    assert "SOAP_SERVICE_MAX_WSSE_FIELD_LENGTH" in caught.value.message
    at_limit = _with_text(build(), path, "y" * 1024)  # at the limit: past the bound, then refused
    with pytest.raises((InvalidSecurityFault, FailedAuthenticationFault)) as other:
        check(users, at_limit)
    assert "MAX_WSSE_FIELD_LENGTH" not in other.value.message


@pytest.mark.parametrize(
    "text",
    ["2026-W47-6", "2026-11-21", "2026-11-21 12:00:00Z", "20261121T120000Z", "2026-11-21T12:00Z"],
)
def test_times_are_xs_datetime_only(users: UserStore, text: str) -> None:
    element = _with_text(security(text_created=NOW), "wsse:UsernameToken/wsu:Created", text)
    with pytest.raises(InvalidSecurityFault, match="not an xs:dateTime"):
        check(users, element)


def test_fields_appear_once(users: UserStore) -> None:
    for tag in (f"{{{WSSE}}}Username", f"{{{WSSE}}}Password", f"{{{WSSE}}}Nonce"):
        element = security(kind=PASSWORD_DIGEST)
        token = element.find(f"{{{WSSE}}}UsernameToken")
        token.append(etree.fromstring(etree.tostring(token.find(tag))))
        with pytest.raises(InvalidSecurityFault, match="more than one"):
            check(users, element)


def test_the_nonce_store_refuses_unbounded_keys(users: UserStore) -> None:
    now = NOW.timestamp()
    with pytest.raises(ValueError, match="nonce key"):
        users.remember_nonce("ada:" + "A" * (1 << 20), now + 60, now)
