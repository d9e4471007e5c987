"""``soap-service``: serve the contract, and keep the committed WSDL honest.

soap-service serve [--host H] [--port P] [--data-dir D] [--public-url U] [--workers N]
soap-service wsdl export [--output wsdl/service.wsdl]
soap-service wsdl check [--wsdl wsdl/service.wsdl] [--url http://host:port/soap?wsdl]
soap-service wsdl diff OLD NEW   (exit 1 on a breaking change; files, URLs or - for stdin)
soap-service users add NAME [--role admin] [--digest]   (password from stdin)
soap-service users remove NAME
soap-service users list
soap-service db upgrade|version [--database-url DSN]
"""

from __future__ import annotations

import argparse
import getpass
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from service.config import Settings
from service.security.users import ROLES, UserError, UserStore

COMMITTED_WSDL = Path(__file__).resolve().parent.parent / "wsdl" / "service.wsdl"


def _rendered() -> bytes:
    from service.contract.operations import build_application
    from service.contract.wsdl import render_wsdl

    return render_wsdl(build_application())


def cmd_serve(args: argparse.Namespace) -> int:
    from service.server import serve

    settings = Settings.from_env().with_overrides(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        public_url=args.public_url,
        workers=args.workers,
        threads=args.threads,
        max_image_bytes=args.max_image_bytes,
        log_level=args.log_level,
        database_url=args.database_url,
    )
    serve(settings, certfile=args.certfile, keyfile=args.keyfile)
    return 0


def cmd_wsdl_export(args: argparse.Namespace) -> int:
    document = _rendered()
    if str(args.output) == "-":
        sys.stdout.buffer.write(document)
    else:
        args.output.write_bytes(document)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def cmd_wsdl_check(args: argparse.Namespace) -> int:
    from service.contract.wsdl import contract_diff

    committed = args.wsdl.read_bytes()
    if args.url:
        with urllib.request.urlopen(args.url, timeout=30) as response:  # noqa: S310
            published = response.read()
        source = args.url
    else:
        published, source = _rendered(), "the models"
    diff = contract_diff(committed, published)
    if not diff:
        print(f"{args.wsdl} matches {source}", file=sys.stderr)
        return 0
    print("\n".join(diff))
    print(
        f"{args.wsdl} differs from {source}. If the contract change is deliberate, run"
        " 'soap-service wsdl export' and commit the result for review.",
        file=sys.stderr,
    )
    return 1


def _read_contract(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310
            return response.read()  # type: ignore[no-any-return]
    return Path(source).read_bytes()


def cmd_wsdl_diff(args: argparse.Namespace) -> int:
    from service.contract.diff import diff, report

    try:
        changes = diff(_read_contract(args.old), _read_contract(args.new))
    except (OSError, ValueError, SyntaxError) as error:  # lxml's XMLSyntaxError is a SyntaxError
        print(f"soap-service: cannot compare the contracts: {error}", file=sys.stderr)
        return 2
    print(report(changes))
    return 1 if any(change.kind == "breaking" for change in changes) else 0


def _users(args: argparse.Namespace) -> UserStore:
    settings = Settings.from_env().with_overrides(data_dir=args.data_dir)
    return UserStore(settings.data_dir)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise UserError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_users(args: argparse.Namespace) -> int:
    store = _users(args)
    try:
        if args.users_command == "add":
            user = store.add(args.name, _read_password(), role=args.role, digest=args.digest)
            print(f"added {user.name} ({user.role}{', digest' if args.digest else ''})")
        elif args.users_command == "remove":
            store.remove(args.name)
            print(f"removed {args.name}")
        else:
            for user, digest in store.list():
                print(f"{user.name}\t{user.role}\t{'digest' if digest else 'text'}")
    except UserError as error:
        print(f"soap-service: {error}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from service.storage import StorageError, open_store

    settings = Settings.from_env().with_overrides(
        data_dir=args.data_dir, database_url=args.database_url
    )
    where = "PostgreSQL" if settings.database_url else f"SQLite in {settings.data_dir}"
    try:
        store = open_store(settings.database_url, str(settings.data_dir), upgrade=False)
        before = store.schema_version()
        if args.db_command == "upgrade":
            after = store.upgrade()
            print(f"{where}: schema version {before} -> {after}")
        else:
            print(f"{where}: schema version {before}")
        store.close()
    except StorageError as error:
        print(f"soap-service: {error}", file=sys.stderr)
        return 1
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="soap-service", description=__doc__.split("\n")[0])
    commands = top.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the service")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--data-dir", type=Path, help="where the image store lives (default ./data)")
    serve.add_argument("--public-url", help="base URL written into the WSDL's soap:address")
    serve.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    serve.add_argument("--threads", type=int, help="threads per worker (default 4)")
    serve.add_argument("--max-image-bytes", type=int, help="largest image accepted (10 MiB)")
    serve.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (default INFO)")
    serve.add_argument("--database-url", help="a PostgreSQL DSN (default: SQLite in the data dir)")
    serve.add_argument("--certfile", type=Path, help="TLS certificate (PEM)")
    serve.add_argument("--keyfile", type=Path, help="TLS private key (PEM)")
    serve.set_defaults(func=cmd_serve)

    wsdl = commands.add_parser("wsdl", help="the committed contract")
    wsdl_commands = wsdl.add_subparsers(dest="wsdl_command", required=True)
    export = wsdl_commands.add_parser("export", help="regenerate the WSDL from the models")
    export.add_argument("--output", type=Path, default=COMMITTED_WSDL, help="file, or - for stdout")
    export.set_defaults(func=cmd_wsdl_export)
    check = wsdl_commands.add_parser("check", help="fail if the committed WSDL has drifted")
    check.add_argument("--wsdl", type=Path, default=COMMITTED_WSDL)
    check.add_argument("--url", help="compare with a running service's ?wsdl instead")
    check.set_defaults(func=cmd_wsdl_check)
    compare = wsdl_commands.add_parser(
        "diff", help="classify the changes from OLD to NEW as breaking or additive"
    )
    compare.add_argument("old", help="the earlier contract (a file, a URL, or -)")
    compare.add_argument("new", help="the later contract (a file, a URL, or -)")
    compare.set_defaults(func=cmd_wsdl_diff)

    users = commands.add_parser("users", help="who may call authenticated operations")
    users.add_argument("--data-dir", type=Path, help="the service's data directory (./data)")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    add = users_commands.add_parser("add", help="add a user; the password is read from stdin")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="user")
    add.add_argument(
        "--digest",
        action="store_true",
        help="also keep the password encrypted, so WS-Security PasswordDigest works",
    )
    remove = users_commands.add_parser("remove", help="remove a user")
    remove.add_argument("name")
    users_commands.add_parser("list", help="list users, roles and password kinds")
    users.set_defaults(func=cmd_users)

    db = commands.add_parser("db", help="the image store's schema")
    db.add_argument("--data-dir", type=Path, help="the SQLite store's directory (./data)")
    db.add_argument("--database-url", help="a PostgreSQL DSN instead of SQLite")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="create or migrate the schema to the newest version")
    db_commands.add_parser("version", help="print the schema version")
    db.set_defaults(func=cmd_db)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
