"""``soap-client``: call soap-service from the command line.

    soap-client greet Ada
    soap-client time --timezone Europe/Paris
    soap-client echo-person --first-name Ada --last-name Lovelace --age 36
    soap-client --user ada --password-stdin upload photo.png

Options before the subcommand: ``--url`` (default $SOAP_CLIENT_URL or
http://127.0.0.1:8000), ``--soap12``, ``--trace`` (print the envelopes),
``--user NAME`` with ``--password-stdin`` (or $SOAP_CLIENT_PASSWORD),
``--auth wsse-text|wsse-digest|basic``, and ``--cafile`` for HTTPS.

Exit codes: 0 success, 1 SOAP fault, 2 bad usage, 3 transport error.
"""

from __future__ import annotations

import argparse
import dataclasses
import mimetypes
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from client.client import DEFAULT_URL, Person, SoapServiceClient
from client.exceptions import (
    AuthenticationError,
    ImageRejected,
    SoapFault,
    TransportError,
    ValidationError,
)

EXIT_OK, EXIT_FAULT, EXIT_USAGE, EXIT_TRANSPORT = 0, 1, 2, 3


def _print_fields(result: Any) -> None:
    if dataclasses.is_dataclass(result):
        for field in dataclasses.fields(result):
            print(f"{field.name}: {getattr(result, field.name)}")
    else:
        print(result)


def _run(args: argparse.Namespace) -> Any:
    api = SoapServiceClient(
        args.url,
        soap_version="1.2" if args.soap12 else "1.1",
        trace=args.trace,
        timeout=args.timeout,
        username=args.user,
        password=args.password,
        auth=args.auth,
        verify=args.cafile or True,
    )
    if args.command == "greet":
        return api.greet(args.name)
    if args.command == "time":
        return api.get_time(args.timezone)
    if args.command == "echo-person":
        return api.echo_person(Person(args.first_name, args.last_name, args.age))
    if args.command == "upload":
        path: Path = args.file
        content_type = args.content_type or mimetypes.guess_type(path.name)[0]
        return api.upload_image(path.name, path.read_bytes(), content_type)
    raise AssertionError(args.command)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="soap-client", description="Call soap-service.")
    top.add_argument(
        "--url",
        default=os.environ.get("SOAP_CLIENT_URL", DEFAULT_URL),
        help="the service's base URL (default %(default)s)",
    )
    top.add_argument("--soap12", action="store_true", help="use the SOAP 1.2 port")
    top.add_argument("--trace", action="store_true", help="print request and response envelopes")
    top.add_argument("--timeout", type=float, default=120, help="seconds (default 120)")
    top.add_argument("--user", help="sign calls as this user")
    top.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin's first line"
    )
    top.add_argument(
        "--auth",
        choices=["wsse-text", "wsse-digest", "basic"],
        default="wsse-text",
        help="how to send credentials (default %(default)s)",
    )
    top.add_argument("--cafile", help="CA certificate(s) to trust for HTTPS")
    commands = top.add_subparsers(dest="command", required=True)
    greet = commands.add_parser("greet", help="Greet: say hello to someone")
    greet.add_argument("name")
    time = commands.add_parser("time", help="GetTime: the server's clock")
    time.add_argument("--timezone", help="IANA zone, e.g. Europe/Paris (default UTC)")
    echo = commands.add_parser("echo-person", help="EchoPerson: send a person and get it back")
    echo.add_argument("--first-name", required=True)
    echo.add_argument("--last-name", required=True)
    echo.add_argument("--age", type=int, required=True)
    upload = commands.add_parser("upload", help="UploadImage: store a PNG, JPEG or GIF")
    upload.add_argument("file", type=Path)
    upload.add_argument("--content-type", help="label sent with the image (default: guessed)")
    return top


def _password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n") or None
    return os.environ.get("SOAP_CLIENT_PASSWORD") or None


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.password = _password(args) if args.user is not None else None
    if args.user is not None and args.password is None:
        print(
            "soap-client: --user needs --password-stdin or $SOAP_CLIENT_PASSWORD", file=sys.stderr
        )
        return EXIT_USAGE
    if args.command == "upload" and not args.file.is_file():
        print(f"soap-client: no such file: {args.file}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = _run(args)
    except ValidationError as fault:
        print(f"fault {fault.code}: field '{fault.field}' {fault.reason}", file=sys.stderr)
        return EXIT_FAULT
    except ImageRejected as fault:
        print(f"fault {fault.code} ({fault.reason}): {fault.reason_message}", file=sys.stderr)
        return EXIT_FAULT
    except (AuthenticationError, SoapFault) as fault:
        print(f"fault {fault.code}: {fault.message}", file=sys.stderr)
        return EXIT_FAULT
    except TransportError as error:
        print(f"soap-client: {error}", file=sys.stderr)
        return EXIT_TRANSPORT
    _print_fields(result)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
