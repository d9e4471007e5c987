"""``soap-service``: serve the contract, and keep the committed WSDL honest.

soap-service serve [--host H] [--port P] [--data-dir D] [--public-url U] [--workers N]
soap-service wsdl export [--output FILE|-] [--soap11]
soap-service wsdl check [--wsdl FILE] [--url http://host:port/soap?wsdl] [--soap11]
soap-service wsdl diff OLD NEW   (exit 1 on a breaking change; files, URLs or - for stdin)
soap-service users add NAME [--role admin] [--digest] [--data-dir D] [--database-url DSN]
                                          (the password from stdin)
soap-service users remove NAME [--data-dir D] [--database-url DSN]
soap-service users list [--data-dir D] [--database-url DSN]
soap-service certs add FILE --user NAME [--data-dir D] [--database-url DSN]
                                          (a PEM or DER certificate whose signatures name NAME)
soap-service certs list [--data-dir D] [--database-url DSN]
soap-service certs remove FINGERPRINT [--data-dir D] [--database-url DSN]
soap-service db upgrade|version [--data-dir D] [--database-url DSN]

Options go after the command that takes them (``users add NAME --data-dir D``); the
group's options may also come before its subcommand (``users --data-dir D add NAME``).

In a source checkout, ``wsdl export`` writes ``wsdl/service.wsdl`` (the reviewed contract),
its packaged copies (``service/contract/service.wsdl``, ``client/service.wsdl``) and its
SOAP 1.1 view ``wsdl/service-soap11.wsdl`` (served at ``?wsdl=soap11``), and ``wsdl check``
also fails when a copy differs from it or the view from the models' SOAP 1.1 view.
``--soap11`` makes ``--output``, ``--wsdl`` and ``--url`` be about the SOAP 1.1 view. Installed from a wheel, ``wsdl check``
compares the packaged contract with the models.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import urllib.request
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

from service.config import ENV_PREFIX, MIB, Settings
from service.contract import packaged
from service.security.users import ROLES, UserError, UserStore, open_users

#: The defaults the help text shows: Settings' own, so the two cannot drift.
DEFAULTS = Settings()


def _rendered(soap12: bool = True) -> bytes:
    """The contract the models give; ``soap12=False``: its SOAP 1.1 view."""
    from service.contract.operations import build_application
    from service.contract.wsdl import render_wsdl

    return render_wsdl(build_application(), soap12=soap12)


#: The OpenAPI description of /http, written and checked beside the WSDL
OPENAPI_NAME = "openapi.json"


def _rendered_openapi() -> bytes:
    """The OpenAPI description of /http the models give (the default anonymous operations)."""
    from service.contract.openapi import render_openapi
    from service.contract.operations import build_application

    return render_openapi(build_application())


def _checkout_openapi() -> tuple[Path, Path]:
    """wsdl/openapi.json beside the reviewed WSDL, and its packaged copy beside the
    service's packaged copy of the WSDL (service/contract/openapi.json)."""
    return (
        packaged.CHECKOUT_WSDL.parent / OPENAPI_NAME,
        packaged.checkout_copies()[0].parent / OPENAPI_NAME,
    )


def _installed_openapi() -> bytes:
    return resources.files("service.contract").joinpath(OPENAPI_NAME).read_bytes()


def cmd_serve(args: argparse.Namespace) -> int:
    from service.server import ListenError, serve
    from service.storage import StorageError

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
    try:
        serve(settings, certfile=args.certfile, keyfile=args.keyfile)
    except StorageError as error:  # the store is checked before any worker starts
        print(f"soap-service: cannot open the image store: {error}", file=sys.stderr)
        return 1
    except ListenError as error:  # before any worker starts too
        print(f"soap-service: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_wsdl_export(args: argparse.Namespace) -> int:
    document = _rendered_openapi() if args.openapi else _rendered(soap12=not args.soap11)
    if str(args.output) == "-":
        sys.stdout.buffer.write(document)
        return 0
    if args.output is not None:
        targets = [(args.output, document)]
    elif not packaged.in_checkout():
        print(
            "soap-service: no source checkout (wsdl/service.wsdl) to export into:"
            " give --output FILE, or --output - for stdout",
            file=sys.stderr,
        )
        return 2
    elif args.openapi:
        targets = [(path, document) for path in _checkout_openapi()]
    elif args.soap11:
        targets = [(packaged.checkout_soap11_view(), document)]
    else:
        targets = [
            (path, document) for path in (packaged.CHECKOUT_WSDL, *packaged.checkout_copies())
        ]
        targets.append((packaged.checkout_soap11_view(), _rendered(soap12=False)))
        openapi = _rendered_openapi()
        targets += [(path, openapi) for path in _checkout_openapi()]
    for target, content in targets:
        target.write_bytes(content)
        print(f"wrote {target}", file=sys.stderr)
    return 0


def _drift_report(committed: bytes, name: str, published: bytes, source: str) -> bool:
    """Prints the drift between the two (WSDLs, or OpenAPI descriptions); True when
    there is none."""
    from service.contract import diff as wsdl_diff
    from service.contract import openapi

    drift = openapi.drift if openapi.is_openapi(committed or published) else wsdl_diff.drift
    diff = drift(committed, published)
    if not diff:
        print(f"{name} matches {source}", file=sys.stderr)
        return True
    print("\n".join(diff))
    print(
        f"{name} differs from {source}. If the contract change is deliberate, run"
        " 'soap-service wsdl export' and commit the result for review.",
        file=sys.stderr,
    )
    return False


def _read_or_empty(path: Path) -> bytes:
    return path.read_bytes() if path.is_file() else b""


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
        return response.read()  # type: ignore[no-any-return]


def _check_openapi(named: bytes | None, name: str, published: bytes | None, url: str) -> int:
    """``wsdl check`` of an OpenAPI description: the one named (else the checkout's, else
    the installed one) against the models' (or the one ``url`` serves)."""
    stale: list[Path] = []
    if named is None and packaged.in_checkout():
        reviewed, copy = _checkout_openapi()
        named, name = _read_or_empty(reviewed), str(reviewed)
        stale = [copy] if _read_or_empty(copy) != named else []
    elif named is None:
        named, name = _installed_openapi(), "the installed OpenAPI description"
    if published is None:
        published, url = _rendered_openapi(), "the models' OpenAPI description"
    ok = _drift_report(named, name, published, url)
    for path in stale:
        print(
            f"{path} is not a copy of {name}: run 'soap-service wsdl export' (make wsdl)",
            file=sys.stderr,
        )
    return 0 if ok and not stale else 1


def cmd_wsdl_check(args: argparse.Namespace) -> int:
    from service.contract.openapi import is_openapi

    named = args.wsdl.read_bytes() if args.wsdl is not None else None
    served = _fetch(args.url) if args.url else None
    if any(d is not None and is_openapi(d) for d in (named, served)) and not args.soap11:
        return _check_openapi(named, str(args.wsdl), served, args.url)
    soap12 = not args.soap11
    stale: list[Path] = []
    # the SOAP 1.1 view checked beside the full contract (a checkout, nothing named)
    view: tuple[bytes, str] | None = None
    if named is not None:
        committed, name = named, str(args.wsdl)
    elif packaged.in_checkout() and args.soap11:
        path = packaged.checkout_soap11_view()
        committed, name = _read_or_empty(path), str(path)
    elif packaged.in_checkout():
        committed, name = packaged.CHECKOUT_WSDL.read_bytes(), str(packaged.CHECKOUT_WSDL)
        stale = [
            copy
            for copy in packaged.checkout_copies()
            if not copy.is_file() or copy.read_bytes() != committed
        ]
        if not args.url:
            path = packaged.checkout_soap11_view()
            view = _read_or_empty(path), str(path)
    elif args.soap11:
        print(
            "soap-service: the SOAP 1.1 view is not installed: give --wsdl FILE",
            file=sys.stderr,
        )
        return 2
    else:
        committed, name = packaged.wsdl_bytes(), "the installed contract"
    if served is not None:
        published, source = served, args.url
    else:
        published, source = _rendered(soap12=soap12), "the models"
    ok = _drift_report(committed, name, published, source)
    if view is not None:
        ok = _drift_report(*view, _rendered(soap12=False), "the models' SOAP 1.1 view") and ok
    for copy in stale:
        print(
            f"{copy} is not a copy of {name}: run 'soap-service wsdl export' (make wsdl)",
            file=sys.stderr,
        )
    if named is None and served is None and not args.soap11:  # and the OpenAPI description
        ok = _check_openapi(None, "", None, "") == 0 and ok
    return 0 if ok and not stale else 1


def _read_contract(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310
            return response.read()  # type: ignore[no-any-return]
    return Path(source).read_bytes()


def cmd_wsdl_diff(args: argparse.Namespace) -> int:
    from service.contract import openapi
    from service.contract.diff import diff, report

    try:
        old, new = _read_contract(args.old), _read_contract(args.new)
        if openapi.is_openapi(old) != openapi.is_openapi(new):
            raise ValueError("one is an OpenAPI description (JSON) and the other a WSDL")
        changes = (openapi.diff if openapi.is_openapi(old) else diff)(old, new)
    except (OSError, ValueError, SyntaxError) as error:  # lxml's XMLSyntaxError is a SyntaxError
        print(f"soap-service: cannot compare the contracts: {error}", file=sys.stderr)
        return 2
    print(report(changes))
    return 1 if any(change.kind == "breaking" for change in changes) else 0


def _users(args: argparse.Namespace) -> tuple[UserStore, Callable[[], None]]:
    """The users the settings name (PostgreSQL's when a database URL is set), and how
    to close them."""
    settings = Settings.from_env().with_overrides(
        data_dir=args.data_dir, database_url=args.database_url
    )
    if not settings.database_url:
        store = open_users(settings)
        return store, store.close
    from service.storage.postgres import PostgresImageStore

    database = PostgresImageStore(settings.database_url)
    store = open_users(settings, database)

    def close() -> None:
        store.close()
        database.close()

    return store, close


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise UserError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _on_users(
    args: argparse.Namespace,
    act: Callable[[UserStore], None],
    refused: tuple[type[Exception], ...] = (UserError,),
) -> int:
    """Runs ``act`` on the user store ``args`` names; exits 1 when the store cannot be
    opened, 2 when ``act`` is refused with one of ``refused``."""
    from service.storage import StorageError

    try:
        store, close = _users(args)
    except StorageError as error:
        print(f"soap-service: {error}", file=sys.stderr)
        return 1
    try:
        act(store)
    except refused as error:
        print(f"soap-service: {error}", file=sys.stderr)
        return 2
    finally:
        close()
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    def act(store: UserStore) -> None:
        if args.users_command == "add":
            user = store.add(args.name, _read_password(), role=args.role, digest=args.digest)
            print(f"added {user.name} ({user.role}{', digest' if args.digest else ''})")
        elif args.users_command == "remove":
            store.remove(args.name)
            print(f"removed {args.name}")
        else:
            for user, digest in store.list():
                print(f"{user.name}\t{user.role}\t{'digest' if digest else 'text'}")

    return _on_users(args, act)


def cmd_certs(args: argparse.Namespace) -> int:
    """The trust store of X.509 certificates (service.security.certificates)."""
    import time

    from service.security.certificates import CertificateError, read_certificate

    def act(store: UserStore) -> None:
        trust = store.trust
        if args.certs_command == "add":
            if store.role(args.user) is None:
                raise UserError(f"no user {args.user!r} (add it first: soap-service users add)")
            try:
                data = Path(args.file).read_bytes()
            except OSError as error:
                raise CertificateError(f"cannot read {args.file}: {error.strerror}") from None
            row = trust.add(read_certificate(data), args.user)
            print(f"added {row.fingerprint} ({row.subject}) for {row.user}")
            if row.not_after < time.time():
                print("soap-service: warning: this certificate has expired", file=sys.stderr)
        elif args.certs_command == "remove":
            trust.remove(args.fingerprint)
            print(f"removed {args.fingerprint}")
        else:
            for row in trust.list():
                until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row.not_after))
                print(f"{row.fingerprint}\t{row.user}\t{row.subject}\tuntil {until}")

    return _on_users(args, act, (UserError, CertificateError))


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


def _default(name: str) -> str:
    """``default X; $SOAP_SERVICE_NAME`` for a setting, X taken from Settings."""
    value = getattr(DEFAULTS, name)
    if name == "workers":
        shown = f"{value}, one per core"
    elif name == "max_image_bytes" and value % MIB == 0:
        shown = f"{value // MIB} MiB"
    elif isinstance(value, Path):
        shown = str(value) if value.is_absolute() else f"./{value}"
    else:
        shown = str(value)
    return f"default {shown}; ${ENV_PREFIX}{name.upper()}"


def _options(*names: str, after: bool) -> argparse.ArgumentParser:
    """A parent parser with a command group's shared options.

    The group's own parser gets them with a default of None (``users --data-dir D add``);
    each of its subcommands gets them with no default at all (``users add NAME
    --data-dir D``), so that a subcommand that was not given one does not overwrite the
    group's value with its own None.
    """
    options = argparse.ArgumentParser(add_help=False)
    default = argparse.SUPPRESS if after else None
    if "data_dir" in names:
        options.add_argument(
            "--data-dir",
            type=Path,
            default=default,
            help=f"the service's data directory ({_default('data_dir')})",
        )
    if "database_url" in names:
        options.add_argument(
            "--database-url",
            default=default,
            help="a PostgreSQL DSN (default: SQLite in the data directory;"
            f" ${ENV_PREFIX}DATABASE_URL)",
        )
    return options


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="soap-service",
        description=__doc__.split("\n")[0],
        epilog="'soap-service COMMAND --help' shows a command's options.",
    )
    commands = top.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="run the service", parents=[_options("data_dir", "database_url", after=False)]
    )
    serve.add_argument("--host", help=f"address to listen on ({_default('host')})")
    serve.add_argument("--port", type=int, help=f"port (0 picks a free one; {_default('port')})")
    serve.add_argument(
        "--public-url",
        help="base URL written into the WSDL's soap:address"
        f" (default http://HOST:PORT; ${ENV_PREFIX}PUBLIC_URL)",
    )
    serve.add_argument("--workers", type=int, help=f"worker processes ({_default('workers')})")
    serve.add_argument("--threads", type=int, help=f"threads per worker ({_default('threads')})")
    serve.add_argument(
        "--max-image-bytes",
        type=int,
        help=f"largest image accepted ({_default('max_image_bytes')})",
    )
    serve.add_argument(
        "--log-level", help=f"DEBUG, INFO, WARNING or ERROR ({_default('log_level')})"
    )
    serve.add_argument("--certfile", type=Path, help="TLS certificate (PEM)")
    serve.add_argument("--keyfile", type=Path, help="TLS private key (PEM)")
    serve.set_defaults(func=cmd_serve)

    wsdl = commands.add_parser("wsdl", help="the committed contract")
    wsdl_commands = wsdl.add_subparsers(dest="wsdl_command", required=True)
    export = wsdl_commands.add_parser(
        "export", help="regenerate the WSDL (and the OpenAPI description of /http) from the models"
    )
    export.add_argument(
        "--output",
        type=Path,
        help="a file, or - for stdout (default: wsdl/service.wsdl and its packaged copies,"
        " in a source checkout, the SOAP 1.1 view wsdl/service-soap11.wsdl, and"
        " wsdl/openapi.json and its packaged copy)",
    )
    export.add_argument(
        "--openapi",
        action="store_true",
        help="the OpenAPI description of /http only (GET /openapi.json)",
    )
    export.add_argument(
        "--soap11",
        action="store_true",
        help="the SOAP 1.1 view only (the contract without its SOAP 1.2 binding and port)",
    )
    export.set_defaults(func=cmd_wsdl_export)
    check = wsdl_commands.add_parser(
        "check", help="fail if the committed WSDL (or OpenAPI description) has drifted"
    )
    check.add_argument(
        "--wsdl",
        type=Path,
        help="the contract to check, a WSDL or an OpenAPI description (default:"
        " wsdl/service.wsdl in a source checkout, its packaged copies, its SOAP 1.1 view and"
        " wsdl/openapi.json and its copy; else the installed ones)",
    )
    check.add_argument(
        "--url", help="compare with a running service's ?wsdl (or /openapi.json) instead"
    )
    check.add_argument(
        "--soap11",
        action="store_true",
        help="check the SOAP 1.1 view (wsdl/service-soap11.wsdl, or --wsdl, or --url"
        " http://host:port/soap?wsdl=soap11) instead",
    )
    check.set_defaults(func=cmd_wsdl_check)
    compare = wsdl_commands.add_parser(
        "diff",
        help="classify the changes from OLD to NEW as breaking or additive (two WSDLs, or two"
        " OpenAPI descriptions)",
    )
    compare.add_argument("old", help="the earlier contract (a file, a URL, or -)")
    compare.add_argument("new", help="the later contract (a file, a URL, or -)")
    compare.set_defaults(func=cmd_wsdl_diff)

    users = commands.add_parser(
        "users",
        help="who may call authenticated operations",
        parents=[_options("data_dir", "database_url", after=False)],
    )
    users_commands = users.add_subparsers(dest="users_command", required=True)
    after = [_options("data_dir", "database_url", after=True)]
    add = users_commands.add_parser(
        "add", help="add a user; the password is read from stdin", parents=after
    )
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="user")
    add.add_argument(
        "--digest",
        action="store_true",
        help="also keep the password encrypted, so WS-Security PasswordDigest works",
    )
    remove = users_commands.add_parser("remove", help="remove a user", parents=after)
    remove.add_argument("name")
    users_commands.add_parser("list", help="list users, roles and password kinds", parents=after)
    users.set_defaults(func=cmd_users)

    certs = commands.add_parser(
        "certs",
        help="the X.509 certificates whose signed requests are taken, each for a user",
        parents=[_options("data_dir", "database_url", after=False)],
    )
    certs_commands = certs.add_subparsers(dest="certs_command", required=True)
    after = [_options("data_dir", "database_url", after=True)]
    cert_add = certs_commands.add_parser(
        "add", help="trust a certificate (PEM or DER) for a user's signed requests", parents=after
    )
    cert_add.add_argument("file", type=Path)
    cert_add.add_argument("--user", required=True, help="the user its signatures name")
    cert_remove = certs_commands.add_parser(
        "remove", help="stop trusting a certificate", parents=after
    )
    cert_remove.add_argument("fingerprint", help="its SHA-256 fingerprint, as certs list shows")
    certs_commands.add_parser(
        "list", help="fingerprint, user, subject and expiry of each", parents=after
    )
    certs.set_defaults(func=cmd_certs)

    db = commands.add_parser(
        "db",
        help="the image store's schema",
        parents=[_options("data_dir", "database_url", after=False)],
    )
    db_commands = db.add_subparsers(dest="db_command", required=True)
    after = [_options("data_dir", "database_url", after=True)]
    db_commands.add_parser(
        "upgrade", help="create or migrate the schema to the newest version", parents=after
    )
    db_commands.add_parser("version", help="print the schema version", parents=after)
    db.set_defaults(func=cmd_db)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
