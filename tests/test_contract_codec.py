"""The compiled codecs (``service.contract.codec``) against spyne's own path.

Three properties, over generated values and requests:

- encoding a result gives the bytes spyne's ``to_parent`` + ``tostring`` give;
- decoding a request wrapper gives the values spyne's ``from_element`` gives
  (or raises the same error);
- a whole application with codecs answers every request, valid or damaged,
  exactly as one without: same status, same media type, same body (times and
  new image ids masked), the faults included.

And the codecs are really used for the operations the benchmark measures.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from spyne import Boolean, ComplexModel, DateTime, Integer, Integer32, Integer64, Unicode

from service import ns
from service.contract.codec import UNSUPPORTED, MessageCodec
from service.contract.internals import Engine
from service.contract.models import (
    REQUIRED,
    Age,
    ImageReceipt,
    Person,
    PersonName,
    TimeInfo,
    UtcDateTime,
)
from service.contract.operations import build_application
from service.contract.wsdl import operations
from service.soap.envelope import SoapVersion, new_envelope, serialize
from tests.fuzz.harness import Harness
from tests.fuzz.strategies import fuzzed_requests

APP = build_application()
OPS = {op.name: op for op in operations(APP)}
CODECS = {
    name: MessageCodec(APP.in_protocol, APP.out_protocol, op.in_message, op.out_message)
    for name, op in OPS.items()
}
VERSIONS = st.sampled_from(list(SoapVersion))

TEXT = st.text(max_size=60)  # any code point, lone surrogates and control characters too
INTS = st.integers(-(2**40), 2**40)
MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    ),
)


def spyne_bytes(name: str, version: SoapVersion, values: tuple[Any, ...]) -> bytes | type:
    """The response spyne writes, or the type of the error it raises."""
    op = OPS[name]
    out = op.out_message()
    for field, value in zip(op.out_message._type_info, values, strict=True):
        setattr(out, field, value)
    envelope, body = new_envelope(version)
    try:
        ctx = Engine(APP).context()
        APP.out_protocol.to_parent(ctx, op.out_message, out, body, ns.TNS)
        return serialize(envelope)
    except Exception as error:  # noqa: BLE001 - the codec must leave these to spyne
        return type(error)


def check_encoding(name: str, version: SoapVersion, result: Any) -> bool:
    """The codec's bytes equal spyne's; True when the codec did the work."""
    encoded = CODECS[name].encode(version.envelope_ns, (result,))
    expected = spyne_bytes(name, version, (result,))
    if encoded is UNSUPPORTED:
        return False
    assert encoded == expected
    return True


@settings(max_examples=400, deadline=None)
@given(version=VERSIONS, text=TEXT)
def test_greet_results_encode_as_spyne_does(version: SoapVersion, text: str) -> None:
    check_encoding("Greet", version, text)


@settings(max_examples=400, deadline=None)
@given(
    version=VERSIONS,
    first=st.one_of(TEXT, st.none()),
    last=TEXT,
    age=st.one_of(INTS, st.none()),
)
def test_people_encode_as_spyne_does(
    version: SoapVersion, first: str | None, last: str, age: int | None
) -> None:
    check_encoding("EchoPerson", version, Person(first_name=first, last_name=last, age=age))


@settings(max_examples=300, deadline=None)
@given(version=VERSIONS, utc=MOMENTS, local=MOMENTS, zone=TEXT)
def test_times_encode_as_spyne_does(
    version: SoapVersion, utc: datetime, local: datetime, zone: str
) -> None:
    check_encoding("GetTime", version, TimeInfo(utc=utc, local=local, timezone=zone))


@settings(max_examples=300, deadline=None)
@given(version=VERSIONS, text=TEXT, number=INTS, when=MOMENTS)
def test_receipts_encode_as_spyne_does(
    version: SoapVersion, text: str, number: int, when: datetime
) -> None:
    receipt = ImageReceipt(
        image_id=text,
        sha256="ab" * 32,
        size_bytes=number,
        format="png",
        width=number,
        height=1,
        received_at=when,
    )
    check_encoding("UploadImage", version, receipt)


def test_the_codecs_write_the_benchmarked_responses() -> None:
    now = datetime.now(UTC)
    for version in SoapVersion:
        assert check_encoding("Greet", version, "Hello, <Zoë> & \r\n 李!")
        assert check_encoding("EchoPerson", version, Person(first_name="A", last_name="B", age=3))
        assert check_encoding("GetTime", version, TimeInfo(utc=now, local=now, timezone="UTC"))
    assert CODECS["GetImage"].encode(SoapVersion.SOAP11, (None,)) is UNSUPPORTED  # binary
    assert CODECS["ListImages"].encode(SoapVersion.SOAP11, (None,)) is UNSUPPORTED  # array


# --- decoding ---

LEAF = st.one_of(
    TEXT.filter(
        lambda t: not re.search("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", t)
    ),
    st.sampled_from(["", " 7 ", "151", "-1", "x", "2147483648", "1e3"]),
    st.none(),
)


@st.composite
def wrappers(draw: Any) -> tuple[str, bytes]:
    """An operation's request wrapper: its fields in any order, some missing,
    some repeated, some unknown, any text."""
    name = draw(st.sampled_from(["Greet", "GetTime", "EchoPerson", "UploadImage", "ListImages"]))
    fields = list(OPS[name].in_message._type_info)
    wrapper = etree.Element(f"{{{ns.TNS}}}{name}", nsmap={"t": ns.TNS})
    for field in draw(st.lists(st.sampled_from([*fields, "unknown"]), max_size=6)):
        child = etree.SubElement(wrapper, f"{{{ns.TNS}}}{field}")
        if field == "person":
            for member in draw(
                st.lists(st.sampled_from(["first_name", "last_name", "age", "x"]), max_size=5)
            ):
                etree.SubElement(child, f"{{{ns.TNS}}}{member}").text = draw(LEAF)
        elif field == "content":
            child.text = draw(st.sampled_from([None, "", "Zm9v", "!!"]))
        else:
            child.text = draw(LEAF)
    return name, etree.tostring(wrapper)


def outcome(decode: Any) -> Any:
    try:
        value = decode()
    except Exception as error:  # noqa: BLE001 - both must fail alike
        return ("error", type(error))
    return value


def comparable(value: Any) -> Any:
    if hasattr(value, "_type_info"):  # a spyne object: its class, its fields, all it holds
        fields = {k: comparable(getattr(value, k, None)) for k in value._type_info}
        held = {k: comparable(v) for k, v in vars(value).items()}
        return (type(value), fields, held)
    return (type(value), value)


@settings(max_examples=500, deadline=None)
@given(request=wrappers())
def test_requests_decode_as_spyne_does(request: tuple[str, bytes]) -> None:
    name, xml = request
    op = OPS[name]
    fields = list(op.in_message._type_info)

    def spyne_way() -> list[Any]:
        ctx = Engine(APP).context()
        got = APP.in_protocol.from_element(ctx, op.in_message, etree.fromstring(xml))
        return [comparable(getattr(got, field)) for field in fields]

    def codec_way() -> list[Any]:
        got = CODECS[name].decode(etree.fromstring(xml))
        assert got is not UNSUPPORTED
        assert len(got) == len(fields)
        return [comparable(value) for value in got]

    assert outcome(codec_way) == outcome(spyne_way)


def test_attributes_leave_the_request_to_spyne() -> None:
    xml = (
        f'<t:EchoPerson xmlns:t="{ns.TNS}" xmlns:xsi="{ns.XSI}">'
        '<t:person xsi:type="t:Person"><t:age>3</t:age></t:person></t:EchoPerson>'
    )
    assert CODECS["EchoPerson"].decode(etree.fromstring(xml)) is UNSUPPORTED


# --- the compiled leaf converters, each against spyne's own, on every kind of value ---


class Leaves(ComplexModel):
    """One field of each leaf type the codecs compile, constrained and not."""

    __namespace__ = ns.TNS
    _type_info = [
        ("text", Unicode),
        ("name", PersonName(**REQUIRED)),
        ("blank", Unicode(empty_is_none=True)),
        ("i32", Integer32),
        ("age", Age(**REQUIRED)),
        ("i64", Integer64),
        ("integer", Integer),
        ("flag", Boolean),
        ("when", DateTime),
        ("utc", UtcDateTime(**REQUIRED)),
        ("naive", DateTime(timezone=False)),
        ("dated", DateTime(format="%d/%m/%Y %H:%M")),
    ]


LEAF_CODEC = MessageCodec(APP.in_protocol, APP.out_protocol, Leaves, Leaves)
LEAF_FIELDS = list(Leaves._type_info)
ZONES = st.sampled_from(
    [
        None,
        UTC,
        timezone(timedelta(hours=5, minutes=30)),
        timezone(timedelta(hours=-8)),
        ZoneInfo("Europe/Paris"),
        ZoneInfo("America/St_Johns"),
    ]
)
ANY_MOMENT = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES
)
NUMBER_TEXT = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(
        ["", " 7 ", "+5", "-0", "1_000", "\u0663", "0x10", "1e3", "12345678901", "٣٤", "\t9\n"]
    ),
)
LEAF_TEXT = st.one_of(
    LEAF,
    NUMBER_TEXT,
    st.sampled_from(["true", "TRUE", "1", "0", "false", "yes", " true"]),
    ANY_MOMENT.map(lambda moment: moment.isoformat()),
)
LEAF_VALUE = st.one_of(
    TEXT,
    st.integers(-(2**70), 2**70),
    st.booleans(),
    ANY_MOMENT,
    st.floats(allow_nan=False),
    st.none(),
    st.sampled_from([b"bytes", "x" * 3, 7, 7.5, object, ["l"]]),
)


@settings(max_examples=1500, deadline=None)
@given(texts=st.fixed_dictionaries({name: LEAF_TEXT for name in LEAF_FIELDS}))
def test_leaves_decode_as_spyne_does(texts: dict[str, str | None]) -> None:
    wrapper = etree.Element(f"{{{ns.TNS}}}Leaves")
    for name, text in texts.items():
        etree.SubElement(wrapper, f"{{{ns.TNS}}}{name}").text = text
    xml = etree.tostring(wrapper)

    def spyne_way() -> list[Any]:
        got = APP.in_protocol.from_element(Engine(APP).context(), Leaves, etree.fromstring(xml))
        return [comparable(getattr(got, name)) for name in LEAF_FIELDS]

    def codec_way() -> list[Any]:
        got = LEAF_CODEC.decode(etree.fromstring(xml))
        assert got is not UNSUPPORTED
        return [comparable(value) for value in got]

    assert outcome(codec_way) == outcome(spyne_way)


@settings(max_examples=1500, deadline=None)
@given(version=VERSIONS, values=st.lists(LEAF_VALUE, min_size=12, max_size=12))
def test_leaves_encode_as_spyne_does(version: SoapVersion, values: list[Any]) -> None:
    inst = Leaves()
    for name, value in zip(LEAF_FIELDS, values, strict=True):
        setattr(inst, name, value)
    envelope, body = new_envelope(version)
    try:
        APP.out_protocol.to_parent(Engine(APP).context(), Leaves, inst, body, ns.TNS)
        expected: bytes | type = serialize(envelope)
    except Exception as error:  # noqa: BLE001 - the codec must leave these to spyne
        expected = type(error)
    encoded = LEAF_CODEC.encode(version.envelope_ns, tuple(values))
    if encoded is not UNSUPPORTED:
        assert encoded == expected


@settings(max_examples=500, deadline=None)
@given(
    version=VERSIONS,
    text=TEXT,
    number=st.integers(-(2**40), 2**40),
    flag=st.booleans(),
    moment=st.datetimes(
        min_value=datetime(1901, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES
    ),
)
def test_the_compiled_leaves_write_what_they_handle(
    version: SoapVersion, text: str, number: int, flag: bool, moment: datetime
) -> None:
    """Values of the leaves' own types are written by the codec itself, as spyne writes them."""
    text = re.sub("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "", text)
    values = (*[text] * 3, *[number] * 4, flag, *[moment] * 4)
    inst = Leaves()
    for name, value in zip(LEAF_FIELDS, values, strict=True):
        setattr(inst, name, value)
    envelope, body = new_envelope(version)
    APP.out_protocol.to_parent(Engine(APP).context(), Leaves, inst, body, ns.TNS)
    assert LEAF_CODEC.encode(version.envelope_ns, values) == serialize(envelope)


@settings(max_examples=400, deadline=None)
@given(
    version=VERSIONS,
    moment=ANY_MOMENT,
    micros=st.lists(st.integers(0, 999_999), min_size=1, max_size=4),
    zones=st.lists(ZONES, min_size=1, max_size=3),
    fold=st.sampled_from([0, 1]),
)
def test_moments_of_one_second_encode_as_spyne_does(
    version: SoapVersion,
    moment: datetime,
    micros: list[int],
    zones: list[Any],
    fold: int,
) -> None:
    """The codec remembers each second's text: moments sharing a second (in one zone or
    several, either side of a fold) each get spyne's own text."""
    for zone in zones:
        for microsecond in [*micros, 0]:
            value = moment.replace(microsecond=microsecond, tzinfo=zone, fold=fold)
            values = ("x", "x", "x", 1, 1, 1, 1, True, value, value, value, value)
            inst = Leaves()
            for name, field in zip(LEAF_FIELDS, values, strict=True):
                setattr(inst, name, field)
            envelope, body = new_envelope(version)
            try:
                APP.out_protocol.to_parent(Engine(APP).context(), Leaves, inst, body, ns.TNS)
                expected: bytes | type = serialize(envelope)
            except Exception as error:  # noqa: BLE001 - the codec must leave these to spyne
                expected = type(error)
            encoded = LEAF_CODEC.encode(version.envelope_ns, values)
            if value.year > 1900:
                assert encoded == expected
            elif encoded is not UNSUPPORTED:
                assert encoded == expected


# --- whole applications, one with codecs and one without ---

_MOMENT = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
_NEW_ID = re.compile(rb"[0-9a-f]{32}")
_BOUNDARY = re.compile(rb"uuid:[0-9a-f-]{36}|=+[0-9a-f]{20,}=*")


def masked(body: bytes) -> bytes:
    return _BOUNDARY.sub(b"B", _NEW_ID.sub(b"ID", _MOMENT.sub(b"T", body)))


@pytest.fixture(scope="module")
def two_apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Harness, Harness]]:
    fast = Harness.create(tmp_path_factory.mktemp("fast"))
    slow = Harness.create(tmp_path_factory.mktemp("slow"))
    slow.app.close()
    slow.app = type(slow.app)(slow.app.settings, codecs=False)
    assert fast.app.dispatcher.compiled and not slow.app.dispatcher.compiled
    yield fast, slow
    fast.close()
    slow.close()


@settings(
    max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=fuzzed_requests())
def test_applications_answer_alike(
    two_apps: tuple[Harness, Harness], request: tuple[str, bytes, str, dict[str, str]]
) -> None:
    fast, slow = two_apps
    path, body, content_type, headers = request
    status, got_headers, got = fast.call(path, body, content_type, headers)
    want_status, want_headers, want = slow.call(path, body, content_type, headers)
    assert status == want_status
    assert _BOUNDARY.sub(b"B", got_headers["Content-Type"].encode()) == _BOUNDARY.sub(
        b"B", want_headers["Content-Type"].encode()
    )
    assert masked(got) == masked(want)
    fast.check(path, status, got_headers, got)


# --- large base64Binary content: decoded before the schema sees it ---


def _png(size: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", bytes(size))
        + chunk(b"IEND", b"")
    )


@st.composite
def big_uploads(draw: Any) -> str:
    """Base64 of a PNG over the pre-decoding threshold, canonical or damaged."""
    data = _png(draw(st.integers(3100, 3400))) + draw(st.binary(max_size=3))
    text = base64.b64encode(data).decode()
    damage = draw(
        st.sampled_from(["none", "fold", "char", "pad", "bits", "space", "unicode", "cut"])
    )
    at = draw(st.integers(0, len(text) - 1))
    if damage == "fold":
        text = "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    elif damage == "char":
        text = text[:at] + draw(st.sampled_from(["!", "-", "_", "=", "*"])) + text[at + 1 :]
    elif damage == "pad":
        text = text.rstrip("=") + draw(st.sampled_from(["", "=", "==", "==="]))
    elif damage == "bits" and text.endswith("="):
        last = text.rstrip("=")
        text = last[:-1] + draw(st.sampled_from("AQgwBCDE")) + text[len(last) :]
    elif damage == "space":
        text = text[:at] + " " + text[at:]
    elif damage == "unicode":
        text = text[:at] + "é" + text[at:]
    elif damage == "cut":
        text = text[:at]
    return text


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=big_uploads(), version=st.sampled_from(["/soap", "/soap12"]))
def test_large_base64_is_judged_alike(
    two_apps: tuple[Harness, Harness], content: str, version: str
) -> None:
    env = ns.SOAP11_ENV if version == "/soap" else ns.SOAP12_ENV
    media = "text/xml" if version == "/soap" else "application/soap+xml"
    body = (
        f'<s:Envelope xmlns:s="{env}" xmlns:t="{ns.TNS}"><s:Body><t:UploadImage>'
        f"<t:filename>big.png</t:filename><t:content>{content}</t:content>"
        "</t:UploadImage></s:Body></s:Envelope>"
    ).encode()
    fast, slow = two_apps
    from tests.fuzz.harness import BASIC

    headers = {"Authorization": BASIC}
    status, _, got = fast.call(version, body, media, headers)
    want_status, _, want = slow.call(version, body, media, headers)
    assert (status, masked(got)) == (want_status, masked(want))
