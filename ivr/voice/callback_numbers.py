"""Keep a caller's phone number, encrypted, only while a callback they asked for may need it.

Everywhere else the hotline knows a caller by a keyed hash of the number (ivr/core/privacy.py), which
cannot be dialled. Ringing someone back needs the number itself, so it is stored sealed with
AES-256-GCM, under a key from HOTLINE_NUMBER_KEY (or derived from HOTLINE_PEPPER with HKDF), with
the caller's id as associated data, and deleted when its keep_until passes. Numbers never reach a
log: functions here log caller ids only.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Table, bindparam, case, delete, select
from sqlalchemy.orm import Session

from ivr.core.config import Config
from ivr.core.db import upsert_insert
from ivr.core.models import Caller
from ivr.core.models.delivery import CallbackNumber
from ivr.core.privacy import decode_number_key, hash_number, normalise_number

log = logging.getLogger(__name__)

VERSION = "v1"  # prefix of every ciphertext: a future key or cipher change can tell old rows apart
NONCE_BYTES = 12
CALLBACK_KEEP = timedelta(days=1)  # a number kept only for a missed-call or key-8 callback


class NumberUnreadable(Exception):
    """A stored number does not decrypt: another key, another caller's row, or a damaged value."""


def number_key(config: Config) -> bytes:
    """Return the key that seals callback numbers.

    Derived from the pepper when no key is set, so an existing hotline gains callbacks without a new
    secret; HKDF with its own label keeps the two uses of the pepper independent of each other.
    """
    if config.number_key:
        return decode_number_key(config.number_key)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"talanoa-hotline callback-number v1").derive(config.pepper.encode("utf-8"))


def seal_number(number: str, key: bytes, caller_id: int) -> str:
    """Encrypt a normalised number for one caller's row."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, normalise_number(number).encode("ascii"), _associated(caller_id))
    return f"{VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_number(token: str, key: bytes, caller_id: int) -> str:
    """Decrypt a number sealed for this caller, or raise NumberUnreadable."""
    version, _, body = token.partition(":")
    if version != VERSION:
        raise NumberUnreadable(f"unknown ciphertext version {version!r}")
    try:
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated(caller_id))
    except (binascii.Error, ValueError, InvalidTag) as exc:
        raise NumberUnreadable("the stored number does not decrypt with this key for this caller") from exc
    return plain.decode("ascii")


def _associated(caller_id: int) -> bytes:
    # Binds the ciphertext to its row: swapped between callers, it fails to decrypt instead of misdialling.
    return f"talanoa callback-number caller={caller_id}".encode("ascii")


def remember_number(session: Session, config: Config, caller: Caller, number: str, *, keep: timedelta,
                    now: datetime) -> datetime | None:
    """Store (or refresh) a caller's encrypted number for at least `keep` from now; return until when it is kept.

    Returns None, storing nothing, when the number is withheld or does not belong to this caller
    (a hash mismatch would mean the webhook's number is not the caller's: never store a stranger's).
    A later, shorter reason never shortens what a longer one kept. One statement, an upsert: a
    caller keeping a message is mid-call, and on SQLite every other writer waits for this one.
    """
    if hash_number(number, config.pepper) != caller.number_hash:
        return None
    sealed = seal_number(number, number_key(config), caller.id)
    kept: datetime = session.execute(_upsert(session.get_bind().dialect.name), {
        "caller_id": caller.id, "ciphertext": sealed, "keep_until": now + keep, "now": now}).scalar_one()
    log.info("callback number kept for caller %s until %s", caller.id, kept.isoformat(timespec="minutes"))
    return kept


@cache
def _upsert(dialect: str) -> Any:
    table = cast(Table, CallbackNumber.__table__)
    stmt = upsert_insert(dialect)(table).values(caller_id=bindparam("caller_id"), ciphertext=bindparam("ciphertext"),
                                keep_until=bindparam("keep_until"), created_at=bindparam("now"),
                                updated_at=bindparam("now"))
    later = case((stmt.excluded.keep_until > table.c.keep_until, stmt.excluded.keep_until), else_=table.c.keep_until)
    return stmt.on_conflict_do_update(index_elements=[table.c.caller_id], set_={
        "ciphertext": stmt.excluded.ciphertext, "keep_until": later, "updated_at": stmt.excluded.updated_at,
    }).returning(table.c.keep_until)


def recall_number(session: Session, config: Config, caller_id: int, *, now: datetime) -> str | None:
    """Return a caller's number for a callback, or None when none is kept (or it has expired)."""
    row = session.scalar(select(CallbackNumber).where(CallbackNumber.caller_id == caller_id))
    if row is None or row.keep_until <= now:
        return None
    try:
        return open_number(row.ciphertext, number_key(config), caller_id)
    except NumberUnreadable:
        log.warning("callback number of caller %s does not decrypt (key changed?)", caller_id)
        return None


def forget_expired_numbers(session: Session, *, now: datetime) -> int:
    """Delete every number whose retention has passed; return how many."""
    result = session.execute(delete(CallbackNumber).where(CallbackNumber.keep_until <= now))
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        log.info("deleted %d expired callback number(s)", count)
    return count


def consent_keep(config: Config) -> timedelta:
    """How long a number given with a report's callback consent is kept."""
    return timedelta(days=config.number_retention_days)
