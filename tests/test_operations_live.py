"""Every operation and every declared fault, through the client, over HTTP, on both ports."""

from __future__ import annotations

import hashlib
from datetime import timedelta, timezone

import pytest

from client import ImageRejected, Person, SoapServiceClient, ValidationError
from tests.conftest import TESTER
from tests.images import make_image, make_noise_png

MIB = 1024 * 1024


def test_greet(api: SoapServiceClient) -> None:
    assert api.greet("Ada") == "Hello, Ada!"


def test_greet_trims_the_name(api: SoapServiceClient) -> None:
    assert api.greet("  Grace Hopper \t") == "Hello, Grace Hopper!"


@pytest.mark.parametrize("name", [" ", "\t\n "])
def test_greet_blank_name_is_a_validation_fault(api: SoapServiceClient, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        api.greet(name)
    assert caught.value.code == "Client.Validation"
    assert caught.value.field == "name"


def test_greet_empty_and_too_long_names_are_validation_faults(api: SoapServiceClient) -> None:
    for name in ("", "x" * 101):
        with pytest.raises(ValidationError) as caught:
            api.greet(name)
        assert caught.value.field == "name"
    assert api.greet("x" * 100) == f"Hello, {'x' * 100}!"


def test_get_time_defaults_to_utc(api: SoapServiceClient) -> None:
    result = api.get_time()
    assert result.timezone == "UTC"
    assert result.utc.utcoffset() == timedelta(0)
    assert result.local == result.utc


def test_get_time_in_a_zone(api: SoapServiceClient) -> None:
    result = api.get_time("Asia/Kolkata")
    assert result.timezone == "Asia/Kolkata"
    assert result.local.utcoffset() == timedelta(hours=5, minutes=30)
    assert result.local == result.utc
    assert result.utc.tzinfo is not None and result.utc.astimezone(timezone.utc) == result.utc


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "utc "])
def test_get_time_unknown_zone_is_a_validation_fault(api: SoapServiceClient, zone: str) -> None:
    if zone.strip() == "utc":
        zone = "Not/AZone"
    with pytest.raises(ValidationError) as caught:
        api.get_time(zone)
    assert caught.value.field == "timezone"


def test_echo_person_round_trip(api: SoapServiceClient) -> None:
    for person in (
        Person("Ada", "Lovelace", 36),
        Person("Zoë", "Ñúñez-李", 0),
        Person("</first_name><injected/>", "&amp; <![CDATA[x]]>", 150),
    ):
        assert api.echo_person(person) == person


@pytest.mark.parametrize(
    ("person", "field"),
    [
        (Person("Ada", "Lovelace", 200), "person/age"),
        (Person("Ada", "Lovelace", -1), "person/age"),
        (Person("", "Lovelace", 3), "person/first_name"),
        (Person("Ada", "x" * 101, 3), "person/last_name"),
        (Person("   ", "Lovelace", 3), "person/first_name"),
    ],
)
def test_echo_person_invalid_fields(api: SoapServiceClient, person: Person, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        api.echo_person(person)
    assert caught.value.code == "Client.Validation"
    assert caught.value.field == field


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF"])
def test_upload_real_images(api: SoapServiceClient, fmt: str) -> None:
    data = make_image(fmt, (64, 48))
    receipt = api.upload_image(f"picture.{fmt.lower()}", data, f"image/{fmt.lower()}")
    assert receipt.format == fmt.lower()
    assert (receipt.width, receipt.height) == (64, 48)
    assert receipt.size_bytes == len(data)
    assert receipt.sha256 == hashlib.sha256(data).hexdigest()
    assert len(receipt.image_id) == 32
    assert receipt.received_at.utcoffset() == timedelta(0)


def test_upload_trusts_bytes_not_the_name(api: SoapServiceClient) -> None:
    receipt = api.upload_image("../../etc/passwd.jpg", make_image("GIF"), "image/jpeg")
    assert receipt.format == "gif"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"just some text, not an image\n", "not_an_image"),
        (make_image("PNG")[:-20], "corrupt"),
        (make_image("JPEG")[:-40], "corrupt"),
        (make_image("GIF")[:-1], "corrupt"),
        (make_image("BMP"), "unsupported_format"),
        (b"", "not_an_image"),
    ],
    ids=["text", "truncated-png", "truncated-jpeg", "truncated-gif", "bmp", "empty"],
)
def test_upload_rejections(api: SoapServiceClient, data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected) as caught:
        api.upload_image("file.png", data)
    assert caught.value.code == "Client.ImageRejected"
    assert caught.value.reason == reason


def test_upload_blank_filename(api: SoapServiceClient) -> None:
    with pytest.raises(ValidationError) as caught:
        api.upload_image("  ", make_image("PNG"))
    assert caught.value.field == "filename"


def test_upload_ten_mib_image(live_server, soap_version: str) -> None:  # type: ignore[no-untyped-def]
    api = SoapServiceClient(
        live_server.url, soap_version=soap_version, username=TESTER[0], password=TESTER[1]
    )
    data = make_noise_png(10 * MIB)
    assert 10 * MIB - 64 * 1024 < len(data) <= 10 * MIB
    receipt = api.upload_image("big.png", data)
    assert receipt.size_bytes == len(data)
    assert receipt.sha256 == hashlib.sha256(data).hexdigest()


def test_upload_over_the_limit_is_too_large(api: SoapServiceClient) -> None:
    data = make_noise_png(10 * MIB + 300 * 1024)
    assert len(data) > 10 * MIB
    with pytest.raises(ImageRejected) as caught:
        api.upload_image("huge.png", data)
    assert caught.value.reason == "too_large"
