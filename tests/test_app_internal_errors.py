"""A bug on any route still ends in a typed answer and one access line
(``SoapApplication.handle``; issue 16, finding 7), in process: a live server has no
bug to trigger on purpose."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.app import SoapApplication
from service.config import Settings
from service.observability import accesslog


@pytest.fixture
def app(tmp_path: Path) -> Iterator[SoapApplication]:
    with SoapApplication(Settings(data_dir=tmp_path)) as application:
        yield application


@pytest.mark.parametrize("path", ["/images/abc", "/http/Greet", "/soap", "/", "/nowhere"])
def test_an_exception_is_a_typed_500_with_its_access_line(
    app: SoapApplication,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    path: str,
) -> None:
    def broken(*args: object) -> object:
        raise RuntimeError("secret detail of the bug")

    monkeypatch.setattr(app, "_answer", broken)
    monkeypatch.setattr(accesslog.logger, "handlers", [])
    level = accesslog.logger.level
    accesslog.logger.setLevel(logging.INFO)
    try:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "HTTP_X_REQUEST_ID": "internal-error",
            "wsgi.input": io.BytesIO(),
        }
        answer, headers = app.handle(environ)
    finally:
        accesslog.logger.setLevel(level)
    body = b"".join(answer.body)
    assert answer.status == 500
    assert answer.fault is not None and answer.fault.code == "Server.Internal"
    assert b"secret detail" not in body and b"Traceback" not in body
    assert ("X-Request-ID", "internal-error") in headers
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if "soap_service.access" in line]
    assert len(lines) == 1
    assert "request_id=internal-error" in lines[0] and "fault=Server.Internal" in lines[0]
    assert "status=500" in lines[0]
