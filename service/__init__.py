"""soap-service: a contract-first SOAP/WSDL service on spyne, lxml and granian.

The path of one request (the README's "Layout" draws it in full):

    server.py (granian) -> app.py (routes; one Answer; the access line)
      -> soap/    mtom, hardening (the one XML parser), envelope, dispatch
         -> security/  identity: who is calling
         -> soap/      validation: the contract's schema; binary: base64Binary fields
         -> contract/  codec or spyne (internals), operations -> storage/, imaging
      -> http/    the plain HTTP binding, downloads, the help page (beside soap/)
      -> observability/  metrics, the access log

Subpackages are named for the specs' words; imports point down only.
"""

from service import compat

compat.install()  # before anything imports spyne (Python 3.12+)
