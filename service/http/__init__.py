"""The faces of the service that are plain HTTP, not SOAP.

- ``binding``: ``/http/<Operation>``, the operations with parameters in and JSON out;
- ``xmlrpc``: ``POST /xmlrpc``, the operations as XML-RPC methods;
- ``downloads``: ``GET /images/{id}``, an image's bytes streamed;
- ``helppage``: the page a browser gets, with a form for each operation;
- ``forwarding``: which client a request came from, behind trusted proxies, and
  its headers with secrets redacted (what ``DescribeRequest`` shows).
"""
