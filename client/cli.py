"""``soap-client``: call soap-service from the command line.

    soap-client greet Ada
    soap-client time --timezone Europe/Paris
    soap-client echo-person --first-name Ada --last-name Lovelace --age 36
    soap-client --user ada --password-stdin upload photo.png
    soap-client --user ada list
    soap-client --user ada download IMAGE_ID -o copy.png
    soap-client --json describe

Options, before or after the subcommand: ``--url`` (default $SOAP_CLIENT_URL or
http://127.0.0.1:8000), ``--soap12``, ``--trace`` (print the envelopes),
``--user NAME`` with ``--password-stdin`` (or $SOAP_CLIENT_PASSWORD; never a
password on the command line, where ``ps`` would show it),
``--auth wsse-text|wsse-digest|basic``, ``--cafile`` for HTTPS, ``--json``
(results as JSON instead of a table) and ``--progress``/``--no-progress``
(a progress bar on stderr for uploads and downloads; default: when stderr is
a terminal).

Exit codes: 0 success, 1 SOAP fault, 2 bad usage, 3 transport error.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import mimetypes
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from client.client import (
    DEFAULT_URL,
    ImageData,
    ImagePage,
    Person,
    RequestDescription,
    SoapServiceClient,
)
from client.exceptions import (
    AuthenticationError,
    ImageRejected,
    SoapFault,
    TransportError,
    ValidationError,
)

EXIT_OK, EXIT_FAULT, EXIT_USAGE, EXIT_TRANSPORT = 0, 1, 2, 3


#: The contract's times in UTC (its UtcDateTime type), which the wire writes with a ``Z``;
#: the others (TimeInfo.local) carry their zone's offset, ``+00:00`` included.
UTC_FIELDS: Final = frozenset({"utc", "received_at"})


def _plain(value: Any, utc: bool = False) -> Any:
    """A result as JSON values: dataclasses as objects, times in ISO 8601 as on the wire
    (``Z`` for the UTC fields), bytes in base64."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name), f.name in UTC_FIELDS)
            for f in dataclasses.fields(value)
        }
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        if utc:
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
            return value.removesuffix("+00:00") + "Z"
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _table(rows: list[dict[str, Any]]) -> str:
    columns = list(rows[0])
    cells = [[str(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _print_result(result: Any, as_json: bool) -> None:
    plain = _plain(result)
    if as_json:
        print(json.dumps(plain, indent=2, ensure_ascii=False))
    elif isinstance(result, ImagePage):
        print(_table(plain["images"]) if result.images else "(no images)")
        if result.next_page_token:
            print(f"next page: --page-token {result.next_page_token}")
    elif isinstance(plain, dict):
        if isinstance(result, ImageData):
            plain = {**plain.pop("receipt"), **plain, "content": f"{len(result.content)} bytes"}
        if isinstance(result, RequestDescription):
            headers = plain.pop("headers")
            plain["soap_headers"] = ", ".join(plain["soap_headers"]) or "-"
        width = max(len(name) for name in plain)
        for name, value in plain.items():
            print(f"{name.ljust(width)}  {'-' if value is None else value}")
        if isinstance(result, RequestDescription):
            print("headers:")
            for name, value in headers:
                print(f"  {name}: {value}")
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
        progress=args.progress,
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
    if args.command == "list":
        return api.list_images(args.page_size, args.page_token)
    if args.command == "get":
        return api.get_image(args.image_id)
    if args.command == "delete":
        return api.delete_image(args.image_id)
    if args.command == "describe":
        return api.describe_request()
    if args.command == "download":
        target: Path = args.output
        size = 0
        try:
            with target.open("wb") as out:
                for chunk in api.download(args.image_id):
                    out.write(chunk)
                    size += len(chunk)
        except BaseException:
            target.unlink(missing_ok=True)  # never leave half a file behind
            raise
        return f"wrote {size} bytes to {target}"
    raise AssertionError(args.command)


def _options(after: bool) -> argparse.ArgumentParser:
    """The options every command takes, as a parent parser.

    The top parser gets them with their defaults (``soap-client --url U greet Ada``); each
    command gets them without any default (``soap-client greet Ada --url U``), so that a
    command not given one keeps the value given before it, or the default.
    """
    url = os.environ.get("SOAP_CLIENT_URL", DEFAULT_URL)
    progress = sys.stderr.isatty()

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if after else value

    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--url", default=default(url), help=f"the service's base URL (default {url})"
    )
    options.add_argument(
        "--soap12", action="store_true", default=default(False), help="use the SOAP 1.2 port"
    )
    options.add_argument(
        "--trace",
        action="store_true",
        default=default(False),
        help="print request and response envelopes",
    )
    options.add_argument(
        "--timeout", type=float, default=default(120.0), help="seconds (default 120)"
    )
    options.add_argument("--user", default=default(None), help="sign calls as this user")
    options.add_argument(
        "--password-stdin",
        action="store_true",
        default=default(False),
        help="read the password from stdin's first line",
    )
    options.add_argument(
        "--auth",
        choices=["wsse-text", "wsse-digest", "basic"],
        default=default("wsse-text"),
        help="how to send credentials (default wsse-text)",
    )
    options.add_argument(
        "--cafile", default=default(None), help="CA certificate(s) to trust for HTTPS"
    )
    options.add_argument(
        "--json", action="store_true", default=default(False), help="print results as JSON"
    )
    options.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=default(progress),
        help="a progress bar for uploads and downloads (default: when stderr is a terminal)",
    )
    return options


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="soap-client",
        description="Call soap-service.",
        parents=[_options(after=False)],
        epilog="The options above may also follow the command ('soap-client greet Ada --json').",
    )
    shared = [_options(after=True)]
    commands = top.add_subparsers(dest="command", required=True)
    greet = commands.add_parser("greet", help="Greet: say hello to someone", parents=shared)
    greet.add_argument("name")
    time = commands.add_parser("time", help="GetTime: the server's clock", parents=shared)
    time.add_argument("--timezone", help="IANA zone, e.g. Europe/Paris (default UTC)")
    echo = commands.add_parser(
        "echo-person", help="EchoPerson: send a person and get it back", parents=shared
    )
    echo.add_argument("--first-name", required=True)
    echo.add_argument("--last-name", required=True)
    echo.add_argument("--age", type=int, required=True)
    upload = commands.add_parser(
        "upload", help="UploadImage: store a PNG, JPEG or GIF", parents=shared
    )
    upload.add_argument("file", type=Path)
    upload.add_argument("--content-type", help="label sent with the image (default: guessed)")
    listing = commands.add_parser(
        "list", help="ListImages: your images, newest first", parents=shared
    )
    listing.add_argument("--page-size", type=int)
    listing.add_argument("--page-token")
    get = commands.add_parser("get", help="GetImage: an image's receipt and size", parents=shared)
    get.add_argument("image_id")
    download = commands.add_parser("download", help="an image's bytes into a file", parents=shared)
    download.add_argument("image_id")
    download.add_argument("-o", "--output", type=Path, required=True, help="file to write")
    delete = commands.add_parser(
        "delete", help="DeleteImage: delete one of your images", parents=shared
    )
    delete.add_argument("image_id")
    commands.add_parser(
        "describe", help="DescribeRequest: what the server saw of this call", parents=shared
    )
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
    _print_result(result, args.json)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
