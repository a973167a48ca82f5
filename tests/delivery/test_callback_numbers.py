"""Callback numbers are sealed with AES-GCM, bound to their caller, readable only with the key, and expire."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.errors import ConfigError
from ivr.core.models import Caller
from ivr.core.models.delivery import CallbackNumber
from ivr.core.privacy import decode_number_key, hash_number, new_number_key
from ivr.voice.callback_numbers import (
    NumberUnreadable,
    forget_expired_numbers,
    number_key,
    open_number,
    recall_number,
    remember_number,
    seal_number,
)
from tests.conftest import make_config
from tests.delivery.conftest import CALLER_NUMBER

NOW = datetime(2030, 1, 1, 0, 0)


def add_caller(config: Config, number: str = CALLER_NUMBER) -> int:
    digest = hash_number(number, config.pepper)
    assert digest is not None
    with database_for(config.database_url).session() as s:
        caller = Caller(number_hash=digest)
        s.add(caller)
        s.flush()
        return caller.id


def test_sealed_number_opens_only_for_its_caller_and_key() -> None:
    key, other = decode_number_key(new_number_key()), decode_number_key(new_number_key())
    sealed = seal_number("+679 999-0000", key, caller_id=7)
    assert CALLER_NUMBER not in sealed and "9990000" not in sealed
    assert open_number(sealed, key, 7) == CALLER_NUMBER
    assert seal_number(CALLER_NUMBER, key, 7) != sealed  # a fresh nonce every time
    for wrong_key, caller in ((other, 7), (key, 8)):
        with pytest.raises(NumberUnreadable):
            open_number(sealed, wrong_key, caller)
    with pytest.raises(NumberUnreadable):
        open_number("v1:" + sealed[3:-4] + "AAAA", key, 7)


def test_key_is_derived_from_the_pepper_unless_set(tmp_path: Path) -> None:
    derived = make_config(tmp_path, "sqlite://")
    assert len(number_key(derived)) == 32
    assert number_key(derived) == number_key(make_config(tmp_path, "sqlite://"))
    assert number_key(derived) != number_key(make_config(tmp_path, "sqlite://", pepper="another-pepper"))
    explicit = new_number_key()
    assert number_key(make_config(tmp_path, "sqlite://", number_key=explicit)) == decode_number_key(explicit)
    with pytest.raises(ConfigError, match="HOTLINE_NUMBER_KEY must decode to 32 bytes"):
        make_config(tmp_path, "sqlite://", number_key="c2hvcnQ")


def test_stored_ciphertext_is_not_the_number_and_is_gone_after_retention(tmp_path: Path, database_url: str) -> None:
    config = make_config(tmp_path, database_url)
    caller_id = add_caller(config)
    db = database_for(database_url)
    with db.session() as s:
        caller = s.get(Caller, caller_id)
        assert caller is not None
        assert remember_number(s, config, caller, CALLER_NUMBER, keep=timedelta(days=30), now=NOW) is not None
        # A number that is not this caller's (hash mismatch) is never stored.
        assert remember_number(s, config, caller, "+6791234567", keep=timedelta(days=30), now=NOW) is None
    with db.engine.connect() as conn:
        [(stored,)] = conn.execute(text("SELECT ciphertext FROM callback_numbers")).all()
    assert stored.startswith("v1:") and "9990000" not in stored and "6799990000" not in stored
    with db.session() as s:
        assert recall_number(s, config, caller_id, now=NOW + timedelta(days=29)) == CALLER_NUMBER
        # A shorter later reason (a one-day callback) does not shorten the 30 days.
        caller = s.get(Caller, caller_id)
        assert caller is not None
        remember_number(s, config, caller, CALLER_NUMBER, keep=timedelta(days=1), now=NOW + timedelta(days=1))
        assert forget_expired_numbers(s, now=NOW + timedelta(days=29)) == 0
    with db.session() as s:
        assert recall_number(s, config, caller_id, now=NOW + timedelta(days=31)) is None
        assert forget_expired_numbers(s, now=NOW + timedelta(days=31)) == 1
    with db.session() as s:
        assert s.scalars(select(CallbackNumber)).all() == []


def test_withheld_numbers_are_never_kept(tmp_path: Path, sqlite_url: str) -> None:
    config = make_config(tmp_path, sqlite_url)
    caller_id = add_caller(config)
    with database_for(sqlite_url).session() as s:
        caller = s.get(Caller, caller_id)
        assert caller is not None
        for withheld in ("anonymous", "", "+266696687"):
            assert remember_number(s, config, caller, withheld, keep=timedelta(days=1), now=NOW) is None
        assert s.scalars(select(CallbackNumber)).all() == []


def test_hotline_init_writes_a_number_key_the_config_accepts(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ivr.commands.cli import main

    folder = tmp_path / "inst"
    env = {"HOTLINE_DATA_DIR": str(folder), "SECRET_KEY": "", "HOTLINE_PEPPER": "", "TWILIO_AUTH_TOKEN": "",
           "PUBLIC_BASE_URL": "", "HOTLINE_ENV_FILE": "", "DATABASE_URL": "", "HOTLINE_NUMBER_KEY": ""}
    assert CliRunner().invoke(main, ["init"], env=env).exit_code == 0
    lines = dict(line.split("=", 1) for line in (folder / "hotline.env").read_text().splitlines() if "=" in line)
    assert len(decode_number_key(lines["HOTLINE_NUMBER_KEY"])) == 32
    assert lines["HOTLINE_NUMBER_KEY"] != lines["HOTLINE_PEPPER"]
    config = Config.from_env(lines)
    assert number_key(config) == decode_number_key(lines["HOTLINE_NUMBER_KEY"])
