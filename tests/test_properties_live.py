"""Property: any valid person, in any Unicode XML can carry, comes back unchanged."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from client import Person, SoapServiceClient, ValidationError
from tests.conftest import LiveServer


def _xml_char(c: str) -> bool:
    o = ord(c)
    return o in (0x9, 0xA) or 0x20 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or o >= 0x10000


# "\r" is left out: XML parsers turn a raw CR into LF, so it cannot round-trip as text
# unless escaped, and not every toolkit escapes it.
names = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)).filter(_xml_char), min_size=1, max_size=100
)

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=names, last=names, age=st.integers(min_value=0, max_value=150))
def test_echo_person_round_trips_unicode(
    live_server: LiveServer, first: str, last: str, age: int
) -> None:
    assume(first.strip() and last.strip())
    api = SoapServiceClient(live_server.url)
    person = Person(first, last, age)
    assert api.echo_person(person) == person


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(age=st.one_of(st.integers(max_value=-1), st.integers(min_value=151, max_value=2**31 - 1)))
def test_out_of_range_ages_are_validation_faults(live_server: LiveServer, age: int) -> None:
    api = SoapServiceClient(live_server.url, soap_version="1.2")
    with pytest.raises(ValidationError) as caught:
        api.echo_person(Person("Ada", "Lovelace", age))
    assert caught.value.field == "person/age"
