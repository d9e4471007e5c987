"""soap-service: the spyne service, its contract and its operations."""

from service import compat

compat.install()  # before anything imports spyne (Python 3.12+)
