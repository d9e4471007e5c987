"""Authentication and authorisation through the real server, on both ports."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree

from client import AuthenticationError, SoapServiceClient
from service import ns
from service.ns import WSSE, WSU
from service.security.usernametoken import PASSWORD_DIGEST
from tests.conftest import TESTER, USERS, LiveServer, start_server, stop_server
from tests.images import make_image

ENVELOPE = (
    '<s:Envelope xmlns:s="{env}" xmlns:t="urn:soap-service:v1"><s:Header>{header}</s:Header>'
    "<s:Body>{body}</s:Body></s:Envelope>"
)
UPLOAD = (
    "<t:UploadImage><t:filename>a.gif</t:filename>"
    f"<t:content>{base64.b64encode(make_image('GIF', (2, 2))).decode()}</t:content>"
    "</t:UploadImage>"
)


def digest_header(
    user: str,
    password: str,
    nonce: bytes,
    must_understand: bool = False,
    nonce_text: str | None = None,
    created: str | None = None,
) -> str:
    """A digest token; ``nonce_text``: the nonce spelled otherwise than canonical base64."""
    created = created or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest())
    flag = ' s:mustUnderstand="1"' if must_understand else ""
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"{flag}><wsse:UsernameToken>'
        f"<wsse:Username>{user}</wsse:Username>"
        f'<wsse:Password Type="{PASSWORD_DIGEST}">{digest.decode()}</wsse:Password>'
        f"<wsse:Nonce>{nonce_text or base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
    )


def respellings(nonce: bytes) -> list[str]:
    """Every other base64 spelling of ``nonce`` that a lenient decoder reads as its bytes:
    the last character before the padding carries bits the padding leaves unused."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    text = base64.b64encode(nonce).decode()
    body = text.rstrip("=")
    unused = {1: 4, 2: 2}[len(nonce) % 3]  # 1 byte left: 4 spare bits; 2 bytes: 2
    last = alphabet.index(body[-1])
    spellings = [
        body[:-1] + alphabet[last ^ flip] + text[len(body) :] for flip in range(1, 2**unused)
    ]
    assert all(base64.b64decode(s, validate=True) == nonce for s in spellings)
    return spellings


def wsse_code(response: requests.Response) -> str:
    """The SOAP 1.1 faultcode as sent: a QName, here in the wsse namespace."""
    root = etree.fromstring(response.content)
    code = root.findtext(f"{{{ns.SOAP11_ENV}}}Body/{{{ns.SOAP11_ENV}}}Fault/faultcode")
    fault = root.find(f"{{{ns.SOAP11_ENV}}}Body/{{{ns.SOAP11_ENV}}}Fault")
    assert fault is not None and fault.nsmap.get("wsse") == WSSE
    return str(code)


def post(server: LiveServer, header: str, body: str, **kwargs: object) -> requests.Response:
    data = ENVELOPE.format(env=ns.SOAP11_ENV, header=header, body=body).encode()
    return requests.post(
        server.url + "/soap",
        data=data,
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=30,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("auth", ["wsse-text", "wsse-digest", "basic"])
def test_each_way_of_signing_on_each_port(
    live_server: LiveServer, soap_version: str, auth: str
) -> None:
    api = SoapServiceClient(
        live_server.url,
        soap_version=soap_version,
        username=TESTER[0],
        password=TESTER[1],
        auth=auth,  # type: ignore[arg-type]
    )
    assert api.upload_image("a.png", make_image("PNG")).format == "png"
    assert api.greet("Ada") == "Hello, Ada!"


@pytest.mark.parametrize("auth", ["wsse-text", "wsse-digest", "basic"])
def test_wrong_credentials_fail_everywhere(
    live_server: LiveServer, soap_version: str, auth: str
) -> None:
    api = SoapServiceClient(
        live_server.url,
        soap_version=soap_version,
        username=TESTER[0],
        password="nope-nope",
        auth=auth,  # type: ignore[arg-type]
    )
    for call in (lambda: api.upload_image("a.png", make_image("PNG")), lambda: api.greet("Ada")):
        with pytest.raises(AuthenticationError) as caught:
            call()
        assert caught.value.code == "wsse:FailedAuthentication"


def test_no_credentials_is_a_401_challenge(live_server: LiveServer) -> None:
    response = post(live_server, "", UPLOAD)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="soap-service"')
    assert wsse_code(response) == "wsse:FailedAuthentication"
    soap12 = requests.post(
        live_server.url + "/soap12",
        data=ENVELOPE.format(env=ns.SOAP12_ENV, header="", body=UPLOAD).encode(),
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
        timeout=30,
    )
    assert soap12.status_code == 401
    values = etree.fromstring(soap12.content).xpath("//*[local-name()='Value']/text()")
    assert values == ["soap:Sender", "wsse:FailedAuthentication"]


def test_wrong_basic_is_a_401_and_wrong_wsse_a_500(live_server: LiveServer) -> None:
    assert post(live_server, "", UPLOAD, auth=("tester", "bad-password")).status_code == 401
    wrong = digest_header(TESTER[0], "bad-password", os.urandom(16))
    response = post(live_server, wrong, UPLOAD)
    assert response.status_code == 500
    assert wsse_code(response) == "wsse:FailedAuthentication"


def test_anonymous_operations_stay_open_but_check_sent_credentials(
    live_server: LiveServer,
) -> None:
    greet = "<t:Greet><t:name>Ada</t:name></t:Greet>"
    assert post(live_server, "", greet).status_code == 200
    assert post(live_server, "", greet, auth=TESTER).status_code == 200
    assert post(live_server, "", greet, auth=("tester", "bad-password")).status_code == 401


def test_security_header_marked_must_understand_is_understood(live_server: LiveServer) -> None:
    header = digest_header(*TESTER, os.urandom(16), must_understand=True)
    response = post(live_server, header, UPLOAD)
    assert response.status_code == 200, response.text


def test_a_replayed_token_is_refused_by_every_worker(live_server: LiveServer) -> None:
    header = digest_header(*TESTER, os.urandom(16))
    responses = [post(live_server, header, UPLOAD) for _ in range(6)]
    assert responses[0].status_code == 200
    for replay in responses[1:]:
        assert replay.status_code == 500
        assert wsse_code(replay) == "wsse:FailedAuthentication"


def test_a_respelled_nonce_is_no_new_nonce(live_server: LiveServer) -> None:
    """Issue 16, finding 2: the replay cache keyed on the nonce's text, so a captured
    digest token whose nonce was re-spelled (other padding bits) was accepted again."""
    nonce = os.urandom(16)  # 16 bytes: base64 ends "x==", with 4 spare bits in "x"
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = post(live_server, digest_header(*TESTER, nonce, created=created), UPLOAD)
    assert first.status_code == 200, first.text
    for spelling in respellings(nonce):
        header = digest_header(*TESTER, nonce, nonce_text=spelling, created=created)
        replay = post(live_server, header, UPLOAD)
        assert replay.status_code == 500, (spelling, replay.text)
        assert wsse_code(replay) == "wsse:InvalidSecurity"
        assert b"not canonical base64" in replay.content


def test_a_non_canonical_nonce_is_refused_before_its_first_use(live_server: LiveServer) -> None:
    nonce = os.urandom(17)  # base64 ends "x=", with 2 spare bits
    for spelling in respellings(nonce):
        response = post(live_server, digest_header(*TESTER, nonce, nonce_text=spelling), UPLOAD)
        assert wsse_code(response) == "wsse:InvalidSecurity", response.text
    assert post(live_server, digest_header(*TESTER, nonce), UPLOAD).status_code == 200


def test_nonce_size_is_bounded(live_server: LiveServer) -> None:
    """64 decoded bytes (SOAP_SERVICE_MAX_WSSE_NONCE_BYTES) and no more, valid digest or not."""
    assert post(live_server, digest_header(*TESTER, os.urandom(64)), UPLOAD).status_code == 200
    response = post(live_server, digest_header(*TESTER, os.urandom(65)), UPLOAD)
    assert response.status_code == 500
    assert wsse_code(response) == "wsse:InvalidSecurity"
    assert b"longer than 64 bytes" in response.content


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def text_header(
    user: str,
    password: str,
    timestamp: tuple[dt.datetime, dt.datetime | None] | None = None,
    created: dt.datetime | None = None,
) -> str:
    """A PasswordText token, with a ``wsu:Timestamp`` (Created, Expires) and its own Created."""
    stamp = ""
    if timestamp is not None:
        expires = f"<wsu:Expires>{iso(timestamp[1])}</wsu:Expires>" if timestamp[1] else ""
        stamp = f"<wsu:Timestamp><wsu:Created>{iso(timestamp[0])}</wsu:Created>{expires}</wsu:Timestamp>"
    own = f"<wsu:Created>{iso(created)}</wsu:Created>" if created else ""
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}">{stamp}<wsse:UsernameToken>'
        f"<wsse:Username>{user}</wsse:Username><wsse:Password>{password}</wsse:Password>"
        f"{own}</wsse:UsernameToken></wsse:Security>"
    )


def test_timestamps_follow_the_ws_security_rules(live_server: LiveServer) -> None:
    """Issue 16, finding 5: a Timestamp whose Expires is before its Created was accepted,
    and so was a Created a year old with no Expires (PasswordText)."""
    now = dt.datetime.now(dt.UTC)
    minute, year = dt.timedelta(minutes=1), dt.timedelta(days=365)
    fine = text_header(*TESTER, (now, now + 5 * minute), created=now)
    assert post(live_server, fine, UPLOAD).status_code == 200
    refused = {
        "expires-before-created": ((now, now - minute), None, "wsse:InvalidSecurity"),
        "year-old-no-expires": ((now - year, None), None, "wsse:MessageExpired"),
        "year-old-far-expires": ((now - year, now + year), None, "wsse:MessageExpired"),
        "created-in-future": ((now + 60 * minute, None), None, "wsse:InvalidSecurity"),
        "year-old-token-created": (None, now - year, "wsse:MessageExpired"),
        "token-created-in-future": (None, now + 60 * minute, "wsse:InvalidSecurity"),
    }
    for case, (stamp, created, code) in refused.items():
        response = post(live_server, text_header(*TESTER, stamp, created), UPLOAD)
        assert response.status_code == 500, (case, response.text)
        assert wsse_code(response) == code, (case, response.text)


def test_a_stale_digest_token_is_refused(live_server: LiveServer) -> None:
    old = iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=365))
    response = post(live_server, digest_header(*TESTER, os.urandom(16), created=old), UPLOAD)
    assert wsse_code(response) == "wsse:MessageExpired", response.text


def test_every_ws_security_field_is_bounded(live_server: LiveServer) -> None:
    """Issue 16, finding 6: nonces of 1 and 4 MiB with valid digests were accepted and
    remembered. Every field is bounded before it is decoded, hashed or stored, and the
    fault names the field and the limit."""
    mib = 1 << 20
    now = dt.datetime.now(dt.UTC)
    long_created = iso(now)[:-1] + "." + "0" * mib + "Z"  # a valid digest over it
    stamp = f"<wsu:Created>{iso(now)}</wsu:Created>"
    cases = {
        "UsernameToken/Nonce": [
            digest_header(*TESTER, os.urandom(mib)),
            digest_header(*TESTER, os.urandom(4 * mib)),
        ],
        "UsernameToken/Created": [digest_header(*TESTER, os.urandom(16), created=long_created)],
        "UsernameToken/Username": [text_header("a" * mib, TESTER[1])],
        "UsernameToken/Password": [text_header(TESTER[0], TESTER[1] + "x" * mib)],
        "Timestamp/Expires": [
            text_header(*TESTER).replace(
                "<wsse:UsernameToken>",
                f"<wsu:Timestamp>{stamp}<wsu:Expires>{'9' * mib}</wsu:Expires></wsu:Timestamp>"
                "<wsse:UsernameToken>",
            )
        ],
    }
    before = remembered_bytes(live_server)
    for field, headers in cases.items():
        for header in headers:
            response = post(live_server, header, UPLOAD)
            assert response.status_code == 500, (field, response.text[:300])
            assert wsse_code(response) == "wsse:InvalidSecurity"
            message = f"{field} is longer than 1024 characters".encode()
            assert message in response.content, (field, response.text[:300])
            assert b"SOAP_SERVICE_MAX_WSSE_FIELD_LENGTH" in response.content
    assert remembered_bytes(live_server) - before < mib, "nothing of those fields was remembered"
    assert longest_nonce(live_server) <= len("tester:") + 88


def remembered_bytes(server: LiveServer) -> int:
    """The size of where the server remembers nonces: users.sqlite3, or PostgreSQL's table."""
    if server.database_url:
        import psycopg

        with psycopg.connect(server.database_url) as conn:
            row = conn.execute("SELECT pg_total_relation_size('nonces')").fetchone()
        return int(row[0]) if row else 0
    users_db = server.data_dir / "users.sqlite3"
    return sum(p.stat().st_size for p in users_db.parent.glob("users.sqlite3*"))


def longest_nonce(server: LiveServer) -> int:
    query = "SELECT max(length(nonce)) FROM nonces"
    if server.database_url:
        import psycopg

        with psycopg.connect(server.database_url) as conn:
            row = conn.execute(query).fetchone()
    else:
        users_db = server.data_dir / "users.sqlite3"
        # sqlite3's own context manager ends the transaction but leaves the connection open
        with contextlib.closing(sqlite3.connect(f"file:{users_db}?mode=ro", uri=True)) as conn:
            row = conn.execute(query).fetchone()
    return int(row[0] or 0) if row else 0


def test_basic_and_wsse_must_name_the_same_user(live_server: LiveServer) -> None:
    header = digest_header(*TESTER, os.urandom(16))
    admin = ("admin", USERS["admin"][0])
    assert post(live_server, header, UPLOAD, auth=admin).status_code == 500


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path_factory.mktemp("strict"), env={"SOAP_SERVICE_ANONYMOUS_OPERATIONS": "Greet"}
    )
    yield server
    stop_server(server)


def test_the_policy_is_configurable(strict_server: LiveServer) -> None:
    assert post(strict_server, "", "<t:Greet><t:name>Ada</t:name></t:Greet>").status_code == 200
    echo = (
        "<t:EchoPerson><t:person><t:first_name>A</t:first_name><t:last_name>B</t:last_name>"
        "<t:age>1</t:age></t:person></t:EchoPerson>"
    )
    assert post(strict_server, "", echo).status_code == 401
    assert post(strict_server, "", echo, auth=TESTER).status_code == 200


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = start_server(folder, "--certfile", str(certfile), "--keyfile", str(keyfile))
    yield server, certfile
    stop_server(server)


def test_tls(tls_server: tuple[LiveServer, Path]) -> None:
    server, certfile = tls_server
    assert server.url.startswith("https://127.0.0.1:")
    api = SoapServiceClient(
        server.url, username=TESTER[0], password=TESTER[1], verify=str(certfile)
    )
    assert api.greet("Ada") == "Hello, Ada!"
    assert api.upload_image("a.png", make_image("PNG")).format == "png"
    wsdl = requests.get(server.url + "/soap?wsdl", verify=str(certfile), timeout=30)
    assert b'location="https://127.0.0.1:' in wsdl.content
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url + "/healthz", timeout=30)  # not trusted without the CA
