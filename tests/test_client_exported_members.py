"""The client's public names are exactly ``client.__all__`` (as httpx's test_exported_members)."""

from __future__ import annotations

import client
from client import client as client_module
from client import exceptions
from service import ns


def test_all_exports_exist_and_are_the_clients_own() -> None:
    assert sorted(client.__all__) == sorted(set(client.__all__))
    for name in client.__all__:
        member = getattr(client, name)
        assert member.__module__.startswith("client."), name


def test_every_public_class_of_the_client_is_exported() -> None:
    public = {
        name
        for module in (client_module, exceptions)
        for name, value in vars(module).items()
        if isinstance(value, type)
        and value.__module__ == module.__name__
        and not name.startswith("_")
    }
    assert public == set(client.__all__)


def test_the_client_speaks_the_contracts_namespace() -> None:
    assert client_module.TNS == ns.TNS
