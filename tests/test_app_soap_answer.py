"""The SOAP ports' answers are made without Answer's frozen-dataclass constructor
(``service.app._soap_answer``): the very object the constructor makes."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.answer import Answer
from service.app import _soap_answer
from service.faults import ValidationFault


@given(
    status=st.sampled_from([200, 401, 500]),
    headers=st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=3),
    body=st.binary(max_size=20),
    operation=st.one_of(st.none(), st.text(max_size=8)),
    fault=st.sampled_from([None, ValidationFault("name", "must not be blank")]),
    encoding=st.sampled_from(["xml", "mtom", "mime"]),
    reply=st.sampled_from(["xml", "mtom"]),
)
def test_the_answer_is_the_one_the_constructor_makes(
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    operation: str | None,
    fault: ValidationFault | None,
    encoding: str,
    reply: str,
) -> None:
    args = (status, headers, (body,), len(body), operation, fault, encoding, reply)
    made, constructed = _soap_answer(*args), Answer(*args)
    assert type(made) is Answer
    assert made == constructed
    assert list(vars(made).items()) == list(vars(constructed).items())
    assert repr(made) == repr(constructed)
    assert made.read() == body
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.status = 0  # type: ignore[misc]
