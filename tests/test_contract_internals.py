"""service.contract.internals: the spyne internals the service leans on still have their shape.

spyne is pinned to the release these were read from; an upgrade that changes
any of them fails here, by name, before it fails somewhere less clear.
"""

from __future__ import annotations

from importlib.metadata import version

from lxml import etree
from spyne import ByteArray, Integer32, Unicode

from service import ns
from service.contract import internals
from service.contract.models import Person
from service.contract.operations import build_application

APP = build_application()


def test_spyne_is_the_release_the_internals_were_read_from() -> None:
    assert version("spyne") == internals.SPYNE_VERSION


def test_fields_are_a_models_fields_in_order() -> None:
    assert list(internals.fields(Person)) == ["first_name", "last_name", "age"]
    assert not internals.has_alternate_fields(Person)


def test_the_handler_tables_name_spynes_plain_readers_and_writers() -> None:
    reader, writer = APP.in_protocol, APP.out_protocol
    assert internals.reader_kind(reader, Unicode) == "unicode"
    assert internals.reader_kind(reader, Integer32) == "base"
    assert internals.reader_kind(reader, ByteArray) == "byte_array"
    assert internals.reader_kind(reader, Person) == "complex"
    assert internals.writer_kind(writer, Unicode) == "leaf"
    assert internals.writer_kind(writer, Person) == "complex"
    assert not internals.soft_validation(reader)
    assert internals.protocol_attributes(reader, Person).prot is None


def test_an_operation_is_reached_through_its_descriptor() -> None:
    descriptor = internals.method_descriptor(APP, ns.TNS, "Greet")
    assert list(internals.fields(descriptor.in_message)) == ["name"]
    function = internals.implementation(descriptor)
    assert function.__name__ == "Greet" and function.__doc__


def test_the_engine_reads_calls_and_writes_as_spyne_does() -> None:
    engine = internals.Engine(APP)
    descriptor = internals.method_descriptor(APP, ns.TNS, "EchoPerson")
    request = etree.fromstring(
        f'<t:EchoPerson xmlns:t="{ns.TNS}"><t:person><t:first_name>Ada</t:first_name>'
        "<t:last_name>Lovelace</t:last_name><t:age>36</t:age></t:person></t:EchoPerson>"
    )
    ctx = engine.context("scope")
    assert ctx.udc == "scope"
    person = engine.read(ctx, descriptor.in_message, request).person
    assert (person.first_name, person.last_name, person.age) == ("Ada", "Lovelace", 36)
    parent = etree.Element("parent")
    engine.write(engine.context(), Person, person, parent, ns.TNS, "echo")
    assert parent[0].tag == f"{{{ns.TNS}}}echo"
    assert [child.text for child in parent[0]] == ["Ada", "Lovelace", "36"]
    assert engine.function(ns.TNS, "Greet").__name__ == "Greet"


def test_the_text_converters_are_named_for_the_plain_leaves() -> None:
    from spyne import Boolean, DateTime, Integer64

    reader, writer = APP.in_protocol, APP.out_protocol
    assert internals.value_reader(reader, Unicode) == internals.UNICODE
    assert internals.value_reader(reader, Integer32) == internals.INTEGER
    assert internals.value_reader(reader, Integer64) == internals.INTEGER
    assert internals.value_reader(reader, Boolean) == internals.BOOLEAN
    assert internals.value_reader(reader, ByteArray) == internals.OTHER
    assert internals.value_writer(writer, Unicode) == internals.UNICODE
    assert internals.value_writer(writer, Integer32) == internals.INTEGER
    assert internals.value_writer(writer, Boolean) == internals.BOOLEAN
    assert internals.value_writer(writer, DateTime) == internals.DATETIME
    assert internals.value_writer(writer, ByteArray) == internals.OTHER
    assert internals.datetime_format(writer, DateTime) is None
    assert internals.datetime_format(writer, DateTime(format=ns.UTC_FORMAT)) == ns.UTC_FORMAT
    assert internals.strftime_refuses(writer, "%s") and not internals.strftime_refuses(writer, "%Y")


def test_a_blank_instance_is_what_spynes_constructor_makes() -> None:
    from spyne import ComplexModelBase

    from service.contract import models

    classes = [
        value
        for value in vars(models).values()
        if isinstance(value, type) and issubclass(value, ComplexModelBase)
    ]
    made = 0
    for cls in classes + [cls.customize(min_occurs=1) for cls in classes]:
        make = internals.blank_factory(cls)
        if make is None:
            continue
        made += 1
        blank, spynes = make(), cls.get_deserialization_instance(None)
        assert type(blank) is type(spynes)
        assert vars(blank) == vars(spynes)
        assert vars(make()) is not vars(blank)  # a fresh one each time
    assert made >= len(classes)
