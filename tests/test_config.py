"""service.config alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings


def test_defaults_run_out_of_the_box() -> None:
    settings = Settings()
    assert (settings.host, settings.port, settings.data_dir) == ("127.0.0.1", 8000, Path("data"))
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.max_image_bytes == 10 * 1024 * 1024
    assert settings.body_limit > settings.max_image_bytes * 4 // 3


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        {
            "SOAP_SERVICE_PORT": "9000",
            "SOAP_SERVICE_PUBLIC_URL": "https://x.example/",
            "SOAP_SERVICE_DATA_DIR": "/srv/soap",
            "SOAP_SERVICE_OTHER": "ignored",
        }
    )
    assert settings.port == 9000
    assert settings.base_url == "https://x.example"
    assert settings.data_dir == Path("/srv/soap")


def test_round_trip_through_the_environment() -> None:
    settings = Settings(port=1234, workers=3, public_url="http://a:1")
    assert Settings.from_env(settings.to_env()) == settings


def test_bad_numbers_say_which_variable() -> None:
    with pytest.raises(ValueError, match="SOAP_SERVICE_PORT"):
        Settings.from_env({"SOAP_SERVICE_PORT": "eighty"})
