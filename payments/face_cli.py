"""``omnifit face …``: enroll, verify two photos, delete, audit, rotate the key, sweep by retention.

Only the standard library is imported at module level (``omnifit --help`` stays
fast); each handler loads the face package when it runs. Bad input (no face, several
faces, a corrupt or unsupported file, no consent, a card number as token) raises an
``OmnifitError``: ``omnifit`` prints the message and exits 2, and nothing is written.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

DEFAULT_DB_URL = "sqlite:///./var/omnifit.sqlite"
DB_HELP = "database URL (default: $OMNIFIT_DB_URL or sqlite:///./var/omnifit.sqlite)"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    face = subparsers.add_parser("face", help="face pay: consented enrollment, matching, deletion, audit")
    commands = face.add_subparsers(dest="face_command", metavar="ACTION")
    commands.required = True

    enroll = _add(commands, "enroll", "enroll a shopper's face (needs --consent)", _enroll)
    enroll.add_argument("--image", required=True, type=Path, help="JPEG or PNG with exactly one face")
    enroll.add_argument(
        "--phone", required=True, help="the shopper's phone number (only a salted hash of the last 4 digits is kept)"
    )
    enroll.add_argument("--consent", action="store_true", help="the shopper has explicitly consented to face pay")
    enroll.add_argument("--shopper", help="shopper account id (default: a new id)")
    enroll.add_argument("--payment-token", help="the gateway's opaque payment-method token (never a card number)")
    enroll.add_argument("--channel", choices=("kiosk", "app"), default="kiosk", help="where consent was given")
    enroll.add_argument("--retention-days", type=int, default=365, help="delete the template after this many days")
    enroll.add_argument("--purpose", default="face pay at Omnifit checkouts", help="the purpose the shopper consented to")

    verify = _add(commands, "verify", "compare the faces in two images", _verify, needs_db=False)
    verify.add_argument("image_a", type=Path)
    verify.add_argument("image_b", type=Path)

    delete = _add(commands, "delete", "delete a shopper's face template now", _delete)
    delete.add_argument("--shopper", required=True, help="shopper account id")

    audit = _add(commands, "audit", "check the hash-chained audit log", _audit)
    audit.add_argument("--verify", action="store_true", required=True, help="walk the chain and report tampering")

    _add(commands, "rotate-key", "re-wrap every data key under a new key-encryption key", _rotate_key)
    _add(commands, "sweep", "delete templates whose retention period has ended", _sweep)


def _add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str, handler: Any, *, needs_db: bool = True
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=help_text)
    if needs_db:
        parser.add_argument("--db", default=None, help=DB_HELP)
        parser.add_argument(
            "--key-file", type=Path, default=None,
            help="KEK file (default: $OMNIFIT_FACE_KEK, else face-kek.json next to a SQLite db)",
        )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(handler=handler)
    return parser


def _db_url(args: argparse.Namespace) -> str:
    url = args.db or os.environ.get("OMNIFIT_DB_URL") or DEFAULT_DB_URL
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url[len("sqlite:///"):].split("?", 1)[0]).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return url


def _open_store(args: argparse.Namespace) -> Any:
    from payments.face.keys import resolve_keyring
    from payments.face.store import FaceTemplateStore

    url = _db_url(args)
    ring, _ = resolve_keyring(url, args.key_file)
    return FaceTemplateStore(url, ring)


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    print(json.dumps(payload, sort_keys=True) if args.json else text)


def _enroll(args: argparse.Namespace) -> int:
    import datetime as dt
    import uuid

    from payments.errors import ConsentError
    from payments.face.capture import capture_face, compute_embedding, load_image
    from payments.face.identifiers import check_shopper_id, phone_last4
    from payments.face.store import Channel, Consent
    from payments.tokens import check_payment_token

    if not args.consent:
        raise ConsentError(
            "enrollment needs the shopper's explicit consent: pass --consent once they have agreed", field="consent"
        )
    consent = Consent(args.purpose, Channel(args.channel), args.retention_days, dt.datetime.now(dt.UTC))
    shopper_id = check_shopper_id(args.shopper or f"shp_{uuid.uuid4().hex[:16]}")
    last4 = phone_last4(args.phone)
    if args.payment_token is not None:
        check_payment_token(args.payment_token)
    capture = capture_face(load_image(args.image))
    embedding = compute_embedding(capture)
    del capture  # the image is not kept past this point
    with contextlib.closing(_open_store(args)) as store:
        template_id = store.enroll(shopper_id, embedding, consent=consent, phone_last4=last4, payment_token=args.payment_token)
    payload = {"shopper_id": shopper_id, "template_id": template_id, "expires_at": consent.expires_at.isoformat()}
    _emit(args, payload, f"enrolled shopper {shopper_id} (template {template_id}, kept until {consent.expires_at:%Y-%m-%d})")
    return 0


def _verify(args: argparse.Namespace) -> int:
    import numpy as np

    from payments.face.capture import capture_face, compute_embedding, load_image
    from payments.face.matching import MatchPolicy

    embeddings = [compute_embedding(capture_face(load_image(path))) for path in (args.image_a, args.image_b)]
    policy = MatchPolicy()
    distance = float(np.linalg.norm(embeddings[0] - embeddings[1]))
    payload = {"distance": round(distance, 6), "threshold": policy.threshold, "match": distance <= policy.threshold}
    verdict = "same person" if payload["match"] else "different people"
    _emit(args, payload, f"{verdict}: distance {distance:.3f} (threshold {policy.threshold})")
    return 0


def _delete(args: argparse.Namespace) -> int:
    with contextlib.closing(_open_store(args)) as store:
        template_id = store.delete(args.shopper)
    _emit(args, {"shopper_id": args.shopper, "deleted_template_id": template_id}, f"deleted the face template of {args.shopper}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from payments.audit import AuditLog

    with contextlib.closing(AuditLog(_db_url(args))) as log:
        result = log.verify()
    text = (f"audit log intact: {result.entries} entries, head {result.head_hash[:16]}…" if result.ok
            else f"audit log BROKEN at entry {result.first_bad_seq}: {result.problem}")
    _emit(args, result.as_dict(), text)
    return 0 if result.ok else 1


def _rotate_key(args: argparse.Namespace) -> int:
    from payments.errors import KeyManagementError
    from payments.face.keys import KEK_ENV, KeyEncryptionKey, KeyRing, resolve_keyring
    from payments.face.store import FaceTemplateStore

    url = _db_url(args)
    ring, key_file = resolve_keyring(url, args.key_file, create=False)
    if key_file is None:
        new_value = os.environ.get("OMNIFIT_FACE_NEW_KEK")
        if not new_value:
            raise KeyManagementError(
                f"{KEK_ENV} comes from the environment: put the new key in OMNIFIT_FACE_NEW_KEK",
                field="OMNIFIT_FACE_NEW_KEK",
            )
        new_kek = KeyRing.from_env_value(new_value).active
    else:
        new_kek = KeyEncryptionKey.generate()
        KeyRing({**ring.keys, new_kek.key_id: new_kek}, ring.active_id).save_file(key_file)  # survive a crash mid-way
    with contextlib.closing(FaceTemplateStore(url, ring)) as store:
        count = store.rotate_kek(new_kek)
    if key_file is not None:
        KeyRing.single(new_kek).save_file(key_file)  # the retired key is destroyed
    payload = {"active_kek": new_kek.key_id, "retired_kek": ring.active_id, "rewrapped_data_keys": count}
    _emit(args, payload, f"re-wrapped {count} data keys under {new_kek.key_id}; {ring.active_id} retired")
    if key_file is None:
        print(f"now set {KEK_ENV} to the new key and discard the old one", file=sys.stderr)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    with contextlib.closing(_open_store(args)) as store:
        removed = store.sweep_expired()
    _emit(args, {"deleted": len(removed), "shopper_ids": removed}, f"deleted {len(removed)} expired face templates")
    return 0
