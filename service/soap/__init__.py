"""SOAP on the wire: from the request's bytes to the response envelope.

- ``hardening``: the one XML parser every request goes through, and its limits;
- ``mtom``: MTOM/XOP packages, unpacked and packed;
- ``envelope``: SOAP 1.1 and 1.2 envelopes opened, and faults written;
- ``dispatch``: the operation a Body names, its caller, its schema check, its call;
- ``validation``: the contract's schema, and libxml2's complaints turned into faults.

Nothing here knows the HTTP server: the serving core hands in bytes and headers.
"""
