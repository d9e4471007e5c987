"""Settings: defaults that run out of the box, overridden by the environment or flags.

Every setting has an environment variable ``SOAP_SERVICE_<NAME>``; the
``serve`` command's flags override them, and pass them on to the worker
processes through the same variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Final

ENV_PREFIX: Final = "SOAP_SERVICE_"
MIB: Final = 1024 * 1024
#: Room for the envelope around the largest base64 image, and for images a little
#: over the limit to get the typed ImageRejectedFault (too_large) instead of a 413.
ENVELOPE_ALLOWANCE: Final = MIB


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    #: The base URL clients reach us at, written into ``soap:address``.
    #: Default: ``http://{host}:{port}``. Never taken from a request.
    public_url: str = ""
    workers: int = max(1, os.cpu_count() or 1)
    threads: int = 1
    max_image_bytes: int = 10 * MIB
    #: Largest request body; 0 means "what the largest image needs".
    max_body_bytes: int = 0
    #: Limits on the shape of a request's XML (service.soap.hardening.Limits).
    max_depth: int = 32
    max_elements: int = 10_000
    max_attributes: int = 32
    max_attribute_length: int = 4096
    #: Longest text node; 0 means "what the body limit allows" (a base64 image).
    max_text_length: int = 0
    max_headers: int = 16
    #: /http/<Op>: most URL-encoded parameters (query or form), or names in a JSON body
    max_parameters: int = 1000
    #: Operations callable without a user (comma-separated); all others need one.
    anonymous_operations: str = "Greet,GetTime,EchoPerson,DescribeRequest"
    #: WS-Security: allowed clock difference, and how long a digest token is fresh (s).
    max_clock_skew: int = 300
    token_lifetime: int = 300
    #: WS-Security: largest nonce, in decoded bytes (the spec recommends 16)
    max_wsse_nonce_bytes: int = 64
    #: WS-Security: longest Username, Password, Nonce, Created or Expires (characters)
    max_wsse_field_length: int = 1024
    #: X.509 signatures (service.security.signature): 1 also takes RSA-SHA1 signatures and
    #: SHA-1 digests (broken for collisions; only for clients that cannot do SHA-256)
    signature_allow_sha1: int = 0
    #: Most ds:Reference elements in one signature's SignedInfo
    max_signature_references: int = 16
    #: Longest BinarySecurityToken, KeyIdentifier or SignatureValue text (characters)
    max_wsse_token_length: int = 16384
    #: The key and certificate responses to signed requests are signed with (PEM; one
    #: file may hold both). Empty: signing.pem in data_dir, made (RSA 3072, self-signed,
    #: mode 0600) when first needed; its certificate is served at /certificate.pem
    signing_key_file: str = ""
    signing_cert_file: str = ""
    #: Days the certificate made for signing.pem is valid
    signing_cert_days: int = 825
    #: Wrong credentials (service.security.throttle), counted in each worker process:
    #: failed checks for one user name, and from one client address, before checks wait
    auth_max_failures: int = 5
    auth_max_failures_per_address: int = 20
    #: Seconds the first wait lasts; it doubles with each further failure, up to the max
    auth_backoff: int = 2
    auth_backoff_max: int = 300
    #: Seconds without a failure after which a user name's or address's count is forgotten
    auth_forget_after: int = 900
    #: Seconds a password check's verdict is remembered (keyed by an HMAC, per process)
    auth_cache_seconds: int = 300
    #: Seconds the serving core holds back a throttled refusal (Client.TooManyAttempts;
    #: at most its Retry-After), so a brute force waits instead of spinning; 0: at once
    auth_tarpit: int = 1
    #: "rsgi": the serving core (service.rsgi) on granian; "wsgi": the engine behind
    #: granian's thread-per-request WSGI bridge (kept to be measured against)
    interface: str = "rsgi"
    #: The serving core (service.intake, service.rsgi). Seconds a client has to send a
    #: request's headers (after connecting, or between requests on a kept-alive connection)
    header_timeout: int = 10
    #: Largest request head (request line and headers); more is 431 from granian
    max_header_bytes: int = 64 * 1024
    #: Seconds a body may take to start; after that it must arrive at body_min_rate bytes/s
    body_timeout: int = 10
    body_min_rate: int = 16 * 1024
    #: Bodies over this many bytes are spooled to a temporary file, not held in memory
    spool_threshold: int = 1 * MIB
    #: SOAP bodies of at least this many bytes have their long base64 text (an upload's
    #: content), or their largest MTOM part, read from the spool a piece at a time, never
    #: parsed into a tree or held (service.soap.spooled); 0: every body is read whole
    stream_threshold: int = 1 * MIB
    #: Requests with bodies up to this many bytes run on the worker's event loop; larger
    #: ones (and downloads) on one of its ``threads``, so they never stall the small ones
    inline_limit: int = 256 * 1024
    #: On SIGTERM/SIGINT: seconds requests in flight get to finish before workers are killed
    shutdown_timeout: int = 30
    log_level: str = "INFO"
    #: "text" (one line per record) or "json" (one JSON object per line, with request_id)
    log_format: str = "text"
    #: Where the workers count requests for /metrics (``serve`` makes a fresh one);
    #: empty: each process counts in memory.
    metrics_dir: str = ""
    #: Proxies whose X-Forwarded-For / Forwarded headers are believed (comma-separated
    #: addresses or networks, e.g. "127.0.0.1,10.0.0.0/8"); empty: none.
    trusted_proxies: str = ""
    #: A postgresql:// DSN selects PostgreSQL; empty means SQLite in data_dir.
    #: With PostgreSQL, users, nonces and credential-failure counts live there too.
    database_url: str = ""
    #: The key that encrypts digest users' passwords (created, mode 0600, when missing);
    #: empty: secret.key in data_dir. Instances sharing a database must share this file.
    secret_key_file: str = ""

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def secret_key_path(self) -> Path:
        return Path(self.secret_key_file) if self.secret_key_file else self.data_dir / "secret.key"

    @property
    def signing_key_path(self) -> Path:
        return (
            Path(self.signing_key_file) if self.signing_key_file else self.data_dir / "signing.pem"
        )

    @property
    def signing_cert_path(self) -> Path:
        return Path(self.signing_cert_file) if self.signing_cert_file else self.signing_key_path

    @property
    def body_limit(self) -> int:
        if self.max_body_bytes:
            return self.max_body_bytes
        base64_len = (self.max_image_bytes + 2) // 3 * 4
        # line breaks a client may insert every 76 characters, plus the envelope
        return base64_len + base64_len // 76 * 2 + ENVELOPE_ALLOWANCE

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, raw, type(getattr(cls(), f.name)))
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_env(self) -> dict[str, str]:
        return {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name)) for f in fields(self)}


def _convert(name: str, raw: str, kind: type) -> Any:
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            message = f"{ENV_PREFIX}{name.upper()} must be a whole number, not {raw!r}"
            raise ValueError(message) from None
    if issubclass(kind, Path):
        return Path(raw)
    return raw
