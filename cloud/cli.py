"""``omnifit serve`` and ``omnifit admin ...``: the cloud service's commands.

Only the standard library is imported at module level; handlers load the server.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DB_HELP = "database URL (default: $OMNIFIT_DB_URL or sqlite:///./var/omnifit.sqlite)"


def _db_url(args: argparse.Namespace) -> str:
    from cloud.server import default_db_url

    return args.db or default_db_url()


def _serve(args: argparse.Namespace) -> int:
    import asyncio

    from cloud.errors import InvalidArgument
    from cloud.server import ServerConfig

    try:
        config = ServerConfig(listen=args.listen, db_url=_db_url(args), tls_cert=args.tls_cert, tls_key=args.tls_key,
                              face_key_file=args.face_key_file, trusted_proxies=tuple(args.trusted_proxy),
                              token_key_file=args.token_key_file, reflection=args.reflection or args.dev,
                              change_window_hours=args.change_window_hours, fanout=args.fanout or "")
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from exc
    asyncio.run(_run_until_signal(config))
    return 0


async def _run_until_signal(config: object) -> None:
    import asyncio
    import signal

    from cloud.server import start_server

    running = await start_server(config)  # type: ignore[arg-type]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"listening on {running.address}", flush=True)
    await stop.wait()
    await running.stop(grace=2.0)


def _issue_device_token(args: argparse.Namespace) -> int:
    from cloud.admin import issue_device_session

    session = issue_device_session(_db_url(args), args.store)
    if args.json:
        print(json.dumps({"token": session.token, "device_id": session.subject_id, "store_id": args.store,
                          "expires_at_ms": session.expires_at_ms}))
    else:
        print(session.token)
    return 0


def _revoke_device(args: argparse.Namespace) -> int:
    from cloud.admin import revoke_device

    revoke_device(_db_url(args), args.device_id)
    print(f"revoked {args.device_id}", file=sys.stderr)
    return 0


def _create_staff(args: argparse.Namespace) -> int:
    from cloud.admin import create_staff
    from cloud.errors import InvalidArgument

    if not args.password_stdin:
        raise InvalidArgument("--password-stdin is required (passwords never go on the command line)")
    password = sys.stdin.readline().rstrip("\r\n")
    create_staff(_db_url(args), args.staff_id, password, stores=tuple(args.store or ()))
    print(f"staff {args.staff_id} saved", file=sys.stderr)
    return 0


def _set_staff_disabled(args: argparse.Namespace) -> int:
    from cloud.admin import set_staff_disabled

    set_staff_disabled(_db_url(args), args.staff_id, args.disable)
    print(f"staff {args.staff_id} {'disabled' if args.disable else 'enabled'}", file=sys.stderr)
    return 0


def _token_key(args: argparse.Namespace) -> int:
    from cloud.admin import token_keys
    from cloud.errors import InvalidArgument

    try:
        ring = token_keys(_db_url(args), args.key_action, args.key_file)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from exc
    if args.json:
        print(json.dumps(ring))
    else:
        print(f"token keys: {ring['active']} signs; {len(ring['keys']) - 1} retired key(s) still verify", file=sys.stderr)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from cloud.admin import migrate

    revision = migrate(_db_url(args))
    if args.json:
        print(json.dumps({"revision": revision}))
    else:
        print(f"database at revision {revision}")
    return 0


def _prune(args: argparse.Namespace) -> int:
    from cloud.admin import prune

    removed = prune(_db_url(args), args.keep_days, args.change_window_hours)
    if args.json:
        print(json.dumps(removed))
    else:
        print(", ".join(f"{count} {table.replace('_', ' ')}" for table, count in removed.items()) + " removed")
    return 0


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None, metavar="URL", help=DB_HELP)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser("serve", help="run the cloud gRPC service (catalog, carts, pairing, accounts, payments, face pay)")
    serve.add_argument("--listen", default="127.0.0.1:50051", metavar="HOST:PORT", help="address to bind; port 0 picks a free one")
    _add_db(serve)
    serve.add_argument("--tls-cert", type=Path, default=None, metavar="FILE", help="PEM certificate chain (with --tls-key)")
    serve.add_argument("--tls-key", type=Path, default=None, metavar="FILE", help="PEM private key (with --tls-cert)")
    serve.add_argument(
        "--face-key-file", type=Path, default=None, metavar="FILE",
        help="key ring that seals face templates (default: $OMNIFIT_FACE_KEK, $OMNIFIT_FACE_KEY_FILE, "
             "else face-kek.json beside a SQLite db; without one on PostgreSQL face pay is off)",
    )
    serve.add_argument(
        "--trusted-proxy", action="append", default=[], metavar="CIDR",
        help="network of a load balancer in front (repeatable): its x-forwarded-for names the client the "
             "wrong-password limit counts; without it behind a proxy all clients share the proxy's count",
    )
    serve.add_argument(
        "--fanout", default=None, metavar="nats://HOST:PORT",
        help="announce cart changes to the other replicas on a NATS bus (subject per cart shard) instead of "
             "PostgreSQL NOTIFY; the database stays the truth, a lost message only delays a watcher",
    )
    serve.add_argument(
        "--change-window-hours", type=float, default=24.0, metavar="H",
        help="compact cart versions older than this every hour, each cart keeping its newest (default 24)",
    )
    serve.add_argument("--token-key-file", type=Path, default=None, metavar="FILE",
                       help="key ring that signs tokens (default: $OMNIFIT_TOKEN_KEY, $OMNIFIT_TOKEN_KEY_FILE, else "
                            "<db>.token-keys.json beside a SQLite db; PostgreSQL without one keeps it in the database)")
    serve.add_argument("--reflection", action="store_true",
                       help="serve gRPC reflection (generic clients list every method); off unless asked for")
    serve.add_argument("--dev", action="store_true", help="development conveniences: reflection on")
    serve.set_defaults(handler=_serve)

    admin = subparsers.add_parser("admin", help="operator actions on the cloud database")
    actions = admin.add_subparsers(dest="admin_command", metavar="ACTION")
    actions.required = True
    token = actions.add_parser("issue-device-token", help="register a kiosk device for a store and print its token")
    token.add_argument("--store", required=True, metavar="STORE_ID")
    token.add_argument("--json", action="store_true", help="print one JSON object with token, device_id, expiry")
    _add_db(token)
    token.set_defaults(handler=_issue_device_token)
    revoke = actions.add_parser("revoke-device", help="revoke a kiosk device's token")
    revoke.add_argument("device_id")
    _add_db(revoke)
    revoke.set_defaults(handler=_revoke_device)
    staff = actions.add_parser("create-staff", help="create a staff credential (password read from stdin)")
    staff.add_argument("--staff-id", required=True)
    staff.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    staff.add_argument("--store", action="append", metavar="STORE_ID",
                       help="a store this staff member works in (repeat); its stock and replenishment are theirs to see")
    _add_db(staff)
    staff.set_defaults(handler=_create_staff)
    for name, disable, text in (("disable-staff", True, "disable a staff member: their sessions end, sign-in is refused"),
                                ("enable-staff", False, "enable a disabled staff member again")):
        toggle = actions.add_parser(name, help=text)
        toggle.add_argument("staff_id")
        _add_db(toggle)
        toggle.set_defaults(handler=_set_staff_disabled, disable=disable)
    token_key = actions.add_parser("token-key", help="rotate the token-signing keys, or move an old database's secret out")
    token_key.add_argument("key_action", choices=("rotate", "move"),
                           help="rotate: a new key signs, the old one verifies 7 more days; move: the database's "
                                "old secret into --key-file (it keeps verifying its tokens 7 days) and out of the database")
    token_key.add_argument("--key-file", type=Path, default=None, metavar="FILE",
                           help="the key ring file (default: $OMNIFIT_TOKEN_KEY_FILE, or beside a SQLite database)")
    token_key.add_argument("--json", action="store_true", help="print the ring's key ids and retirement times")
    _add_db(token_key)
    token_key.set_defaults(handler=_token_key)
    migrate = actions.add_parser("migrate", help="upgrade the schema to the newest revision and seed an empty catalog")
    migrate.add_argument("--json", action="store_true")
    _add_db(migrate)
    migrate.set_defaults(handler=_migrate)
    prune = actions.add_parser("prune", help="drop old idempotency keys, expired pairing codes and stale failed claims; "
                                             "compact the cart change log")
    prune.add_argument("--keep-days", type=int, default=7, help="keep idempotency keys this many days (default 7)")
    prune.add_argument("--change-window-hours", type=float, default=24.0,
                       help="keep every cart version this many hours, then only each cart's newest (default 24); "
                            "a watch resuming from older gets a fresh snapshot")
    prune.add_argument("--json", action="store_true")
    _add_db(prune)
    prune.set_defaults(handler=_prune)
