"""service.security.signing: the service's key and certificate, and its signed responses."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from lxml import etree
from zeep.exceptions import SignatureVerificationFailed
from zeep.wsse.signature import verify_envelope

from service.config import Settings
from service.security.signing import ResponseSigner
from tests.wssec import body_of, greet_envelope, make_identity


def test_the_default_key_is_made_once_private_and_published_without_the_key(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    signer = ResponseSigner.from_settings(settings)
    assert not settings.signing_key_path.exists()  # made when first needed, not at start
    pem = signer.certificate_pem
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----") and b"PRIVATE" not in pem
    mode = stat.S_IMODE(settings.signing_key_path.stat().st_mode)
    assert mode == 0o600
    again = ResponseSigner.from_settings(settings)  # another worker: the same key
    assert again.certificate_pem == pem


def test_a_signed_response_verifies_with_the_published_certificate(tmp_path: Path) -> None:
    signer = ResponseSigner.from_settings(Settings(data_dir=tmp_path))
    cert = tmp_path / "service.pem"
    cert.write_bytes(signer.certificate_pem)
    envelope = signer.sign(greet_envelope())
    verify_envelope(envelope, str(cert))
    body_of(envelope)[0][0].text = "changed"
    with pytest.raises(SignatureVerificationFailed):
        verify_envelope(envelope, str(cert))


def test_configured_files_are_used_and_must_exist(tmp_path: Path) -> None:
    mine = make_identity(tmp_path, "service")
    settings = Settings(
        data_dir=tmp_path / "data",
        signing_key_file=str(mine.key_path),
        signing_cert_file=str(mine.cert_path),
    )
    signer = ResponseSigner.from_settings(settings)
    assert signer.certificate_pem == mine.cert_pem
    envelope = signer.sign(greet_envelope("Ada", soap12=True))
    verify_envelope(envelope, str(mine.cert_path))
    assert etree.QName(envelope).namespace == "http://www.w3.org/2003/05/soap-envelope"
    missing = Settings(data_dir=tmp_path, signing_key_file=str(tmp_path / "none.pem"))
    with pytest.raises(OSError):
        ResponseSigner.from_settings(missing)
