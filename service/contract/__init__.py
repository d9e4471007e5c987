"""The contract: what clients' generated code is made from.

- ``models``: the types, with their constraints on the types;
- ``operations``: the spyne service, whose docstrings document the operations;
- ``wsdl``: the WSDL 1.1 document rendered from them (the published contract);
- ``diff``: two WSDL documents compared, each change classified for clients;
- ``codec``: compiled request/response codecs from spyne's own classes;
- ``internals``: every use of spyne beyond its documented API, in one place.

Nothing here knows HTTP or the SOAP envelope.
"""
