"""`hotline users add/list/disable`, run as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from ivr.commands.cli import main
from ivr.core.db import database_for
from ivr.core.models.accounts import User
from tests.accounts_helpers import PASSWORD
from tests.ivr.test_cli import env_for


def run(env: dict[str, str], *args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, input=stdin)
    return result.exit_code, result.output


def test_add_list_disable(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    assert run(env, "db", "upgrade")[0] == 0
    code, out = run(env, "users", "add", "Ana@Water.example", "--role", "official", "--agency", "water",
                    "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0, out
    assert "added official ana@water.example (water)" in out
    code, out = run(env, "users", "add", "boss@example.org", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    assert code == 0, out
    code, out = run(env, "users", "list")
    assert code == 0 and "ana@water.example" in out and "official" in out and "never" in out
    assert PASSWORD not in out and "argon2" not in out
    code, out = run(env, "users", "disable", "ana@water.example")
    assert code == 0 and "disabled" in out
    url = f"sqlite:///{(tmp_path / 'data' / 'hotline.sqlite3').resolve()}"
    with database_for(url).session() as db:
        ana = db.scalar(select(User).where(User.email == "ana@water.example"))
        assert ana is not None and ana.disabled and ana.password_hash.startswith("$argon2id$")


def test_add_refuses_bad_input_and_names_it(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    run(env, "db", "upgrade")
    code, out = run(env, "users", "add", "x@example.org", "--role", "official", "--password-stdin", stdin=PASSWORD)
    assert code != 0 and "an official needs --agency" in out
    code, out = run(env, "users", "add", "x@example.org", "--role", "official", "--agency", "sewers",
                    "--password-stdin", stdin=PASSWORD)
    assert code != 0 and "agency 'sewers' is not in the agencies file" in out and "water" in out
    code, out = run(env, "users", "add", "x@example.org", "--role", "radio", "--password-stdin", stdin="short pw")
    assert code != 0 and "at least 12 characters" in out
    code, out = run(env, "users", "add", "not-an-email", "--role", "radio", "--password-stdin", stdin=PASSWORD)
    assert code != 0 and "is not an email address" in out
    code, out = run(env, "users", "add", "x@example.org", "--role", "king", "--password-stdin", stdin=PASSWORD)
    assert code != 0 and "king" in out
    assert run(env, "users", "add", "x@example.org", "--role", "radio", "--password-stdin", stdin=PASSWORD)[0] == 0
    code, out = run(env, "users", "add", "X@example.org", "--role", "radio", "--password-stdin", stdin=PASSWORD)
    assert code != 0 and "exists already" in out
    code, out = run(env, "users", "disable", "nobody@example.org")
    assert code != 0 and "no account" in out
