"""service.http.forwarding: client addresses behind trusted proxies, and redaction."""

from __future__ import annotations

import pytest

from service.http.forwarding import client_addresses, headers, redact

TRUSTED = "127.0.0.1, 10.0.0.0/8"


@pytest.mark.parametrize(
    ("environ", "trusted", "expected"),
    [
        ({"REMOTE_ADDR": "127.0.0.1"}, TRUSTED, ("127.0.0.1", None)),
        (
            {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
            TRUSTED,
            ("192.0.2.1", None),
        ),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, "", ("127.0.0.1", None)),
        (
            {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
            TRUSTED,
            ("127.0.0.1", "1.2.3.4"),
        ),
        (
            {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "9.9.9.9, 1.2.3.4, 10.0.0.5"},
            TRUSTED,
            ("127.0.0.1", "1.2.3.4"),
        ),
        (
            {
                "REMOTE_ADDR": "10.1.1.1",
                "HTTP_FORWARDED": 'for=192.0.2.60;proto=http, for="[2001:db8::7]:80"',
            },
            TRUSTED,
            ("10.1.1.1", "2001:db8::7"),
        ),
        (
            {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "5.6.7.8:1234"},
            TRUSTED,
            ("127.0.0.1", "5.6.7.8"),
        ),
        (
            {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.0.0.9"},
            TRUSTED,
            ("127.0.0.1", "10.0.0.9"),
        ),
    ],
)
def test_client_addresses(
    environ: dict[str, str], trusted: str, expected: tuple[str, str | None]
) -> None:
    assert client_addresses(environ, trusted) == expected


def test_a_wrong_trusted_entry_is_an_error() -> None:
    with pytest.raises(ValueError):
        client_addresses({"REMOTE_ADDR": "127.0.0.1"}, "not-an-address")


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("Authorization", "Basic dGVzdDpzZWNyZXQ=", "Basic [redacted]"),
        ("Proxy-Authorization", "Bearer abc.def", "Bearer [redacted]"),
        ("Cookie", "session=abc", "[redacted]"),
        ("X-Api-Key", "k", "[redacted]"),
        ("X-Auth-Token", "t", "[redacted]"),
        ("User-Agent", "zeep", "zeep"),
        # credentials under names no word list would catch: only an allow-list is shown
        ("X-Amzn-Oidc-Data", "eyJ.a.b", "[redacted]"),
        ("Cf-Access-Jwt-Assertion", "eyJ.a.b", "[redacted]"),
        ("X-Original-Authorization", "Bearer abc", "[redacted]"),
        ("X-Client-Cert", "MIIB", "[redacted]"),
        ("Referer", "https://a.example/?token=t", "[redacted]"),
        ("Authorization", "secret-without-a-scheme", "[redacted]"),
        ("Authorization", "user:secret rest", "[redacted]"),
        ("X-Forwarded-For", "10.0.0.1", "10.0.0.1"),
        ("Content-Type", "text/xml", "text/xml"),
    ],
)
def test_redaction(name: str, value: str, shown: str) -> None:
    assert redact(name, value) == shown


def test_headers_are_named_as_sent_and_made_xml_safe() -> None:
    environ = {
        "CONTENT_TYPE": "text/xml",
        "HTTP_USER_AGENT": "a\x01b",
        "HTTP_SOAPACTION": '"x"',
        "HTTP_X_ODD": "c",
    }
    assert headers(environ) == [
        ("Content-Type", "text/xml"),
        ("Soapaction", '"x"'),
        ("User-Agent", "a\\x01b"),
        ("X-Odd", "[redacted]"),
    ]
