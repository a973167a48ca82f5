"""`hotline serve`, `hotline db upgrade`, `hotline menus check`, `hotline messages`."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import click
from sqlalchemy import select

from ivr.commands.cli import load_config
from ivr.core.config import ENV_FILE_NAME
from ivr.core.db import database_for
from ivr.core.errors import ConfigError
from ivr.core.models import Answer, Message, Transcript, utcnow
from ivr.core.prompt_audio import describe_coverage, library_for_check
from ivr.operator.reviews import review_of
from menus import MenuError, Menus, load_menus
from menus.agencies import load_routing


def register(group: click.Group) -> None:
    group.add_command(serve)
    group.add_command(init)
    group.add_command(db)
    group.add_command(menus_group)
    group.add_command(messages)


@click.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write hotline.env (default: HOTLINE_DATA_DIR or ./instance).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port the local hotline will listen on (sets PUBLIC_BASE_URL; default 5000). Given for an "
                   "existing file whose PUBLIC_BASE_URL is on this machine, it moves it to this port.")
def init(data_dir: Path | None, port: int | None) -> None:
    """Write a hotline.env with fresh random secrets for a local hotline, unless one exists."""
    import os

    folder = data_dir or Path(os.environ.get("HOTLINE_DATA_DIR") or "instance")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ENV_FILE_NAME
    if path.exists():
        click.echo(f"{path} exists; keeping its secrets")
        if port is not None and local_port_set(path, port):
            click.echo(f"  PUBLIC_BASE_URL now http://127.0.0.1:{port} (hotline call and the signatures use it)")
    else:
        lines = [
            "# Local settings written by `hotline init`; the environment overrides them. Keep this file private.",
            f"SECRET_KEY={secrets.token_urlsafe(32)}",
            f"HOTLINE_PEPPER={secrets.token_urlsafe(32)}",
            # 32 random bytes, URL-safe base64: the AES-256-GCM key of callback numbers (ivr/voice/callback_numbers.py).
            f"HOTLINE_NUMBER_KEY={secrets.token_urlsafe(32)}",
            f"TWILIO_AUTH_TOKEN={secrets.token_hex(16)}",
            f"PUBLIC_BASE_URL=http://127.0.0.1:{port or DEFAULT_PORT}",
            "TWILIO_MEDIA_HOSTS=127.0.0.1",  # `hotline call` serves its recordings there (ivr/voice/media_host.py)
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        path.chmod(0o600)
        click.echo(f"wrote {path}")
    click.echo("The first admin account (then log in at /login; it opens every page):\n"
               f"  {FIRST_ADMIN}")


DEFAULT_PORT = 5000
FIRST_ADMIN = ("printf '%s\\n' 'a-long-passphrase-of-yours' | .venv/bin/hotline users add you@example.org "
               "--role admin --password-stdin")
LOCAL_BASE = re.compile(r"^PUBLIC_BASE_URL=http://(127\.0\.0\.1|localhost):(\d+)[ \t]*$", re.M)


def local_port_set(path: Path, port: int) -> bool:
    """Point a local PUBLIC_BASE_URL in an env file at `port`; True if the file changed.

    Why: Twilio signatures, and `hotline call`, use PUBLIC_BASE_URL; a server moved to another port
    with the file left behind answers every call 403. A public URL (behind a proxy) is never touched.
    """
    text = path.read_text(encoding="utf-8")
    found = LOCAL_BASE.search(text)
    if found is None or int(found.group(2)) == port:
        return False
    path.write_text(LOCAL_BASE.sub(f"PUBLIC_BASE_URL=http://{found.group(1)}:{port}", text, count=1),
                    encoding="utf-8")
    return True


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="gunicorn worker processes.")
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True, help="Threads per worker.")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run the web app under gunicorn; migrate a SQLite database first."""
    config = load_config()
    if config.database_url.startswith("sqlite"):
        database_for(config.database_url).upgrade()
    try:
        load_menus(config.menus_dir)
    except MenuError as exc:
        raise click.ClickException(str(exc)) from exc
    queue = "RQ on " + config.redis_url.split("@")[-1] if config.redis_url else "inline (no REDIS_URL)"
    click.echo(f"Talanoa Hotline on http://{host}:{port}/  (database: {config.database_url.split('@')[-1]}, "
               f"queue: {queue})")
    click.echo(f"Twilio voice webhook: {config.public_base_url}/voice/incoming, "
               f"status callback: {config.public_base_url}/voice/status")
    found = re.match(r"^http://(127\.0\.0\.1|localhost):(\d+)$", config.public_base_url)
    if found and int(found.group(2)) != port:
        click.echo(f"warning: PUBLIC_BASE_URL is on port {found.group(2)}, not {port}: signed webhooks and "
                   f"`hotline call` will fail; run `.venv/bin/hotline init --port {port}`", err=True)
    if not _has_admin(config.database_url):
        click.echo(f"No admin account yet; make the first one:  {FIRST_ADMIN}")
    click.echo(f"Open http://{host}:{port}/ (log in, the public page, the phone in the browser); or ring it from "
               "another terminal:  .venv/bin/hotline call")
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
           "--threads", str(threads), "--worker-class", "gthread", "--access-logfile", "-",
           # Twilio keeps its connection between a call's webhooks, which come seconds apart: gunicorn's own 2 s
           # would close it just as a caller's next webhook arrives on it (a reset, and the call fails).
           "--keep-alive", "15",
           # The access log format leaves out the query string and form: they can carry a phone number.
           "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms', "ivr:create_app()"]
    raise SystemExit(run_group(cmd))


def _has_admin(database_url: str) -> bool:
    """Tell whether an admin account exists (a database not yet migrated has none)."""
    from sqlalchemy.exc import SQLAlchemyError

    from ivr.core.models.accounts import User

    try:
        with database_for(database_url).session() as session:
            return session.scalar(select(User.id).where(User.role == "admin").limit(1)) is not None
    except SQLAlchemyError:
        return False


def run_group(cmd: list[str], grace: float = 10.0) -> int:
    """Run `cmd` in a process group of its own and stop the whole group when it ends or we are stopped.

    Why: Ctrl-C (SIGINT) or SIGTERM reach this process; they are passed to gunicorn's master, which
    stops its workers. Whatever is left afterwards in the group (a worker the master lost, a speech
    child) is sent SIGTERM, then SIGKILL, so no process keeps the port after `hotline serve` returns.
    """
    proc = subprocess.Popen(cmd, start_new_session=True)  # noqa: S603 - fixed argv, no shell

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM if signum == signal.SIGHUP else signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        code = proc.wait()
    finally:
        _stop_group(proc, grace)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


def _stop_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    """Stop the master if it still runs, then anything left in its process group."""
    import time

    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.05)
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
def db_upgrade(revision: str) -> None:
    """Create or migrate the database schema (Alembic)."""
    config = load_config()
    database_for(config.database_url).upgrade(revision)
    click.echo(f"database at {revision}: {config.database_url.split('@')[-1]}")


@click.group("menus")
def menus_group() -> None:
    """Check the call flow and prompt files."""


@menus_group.command("check")
@click.option("--menus", "menus_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Menu folder to check (default: HOTLINE_MENUS, else the shipped menus).")
def menus_check(menus_dir: Path | None) -> None:
    """Validate flow.toml and every prompts/<lang>.toml; list every problem with its file and node."""
    import os

    folder = menus_dir or (Path(os.environ["HOTLINE_MENUS"]) if os.environ.get("HOTLINE_MENUS") else None)
    try:
        menus = load_menus(folder)
    except MenuError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"menus OK: {len(menus.flow.nodes)} nodes, {len(menus.required_prompts())} prompts per language")
    _check_routing(menus)
    _check_radio(menus)
    try:
        library, data_dir = library_for_check(menus)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    for lang in sorted(menus.languages.values(), key=lambda lang: lang.key):
        review = "reviewed" if review_of(lang, data_dir).reviewed else "NOT reviewed by a native speaker"
        click.echo(f"  {lang.key} {lang.code:3} {lang.name}: {len(lang.prompts)} prompts, {review}")
        click.echo(f"        {describe_coverage(library.coverage(lang.code))}")


def _check_routing(menus: Menus) -> None:
    """Validate agencies.toml and routing.toml (or HOTLINE_AGENCIES / HOTLINE_ROUTING_RULES) with the menus."""
    import os

    root = Path(menus.root)
    agencies_path = Path(os.environ.get("HOTLINE_AGENCIES") or root / "agencies.toml")
    rules_path = Path(os.environ.get("HOTLINE_ROUTING_RULES") or root / "routing.toml")
    try:
        routing = load_routing(menus, agencies_path, rules_path)
    except MenuError as exc:
        raise click.ClickException(str(exc)) from exc
    agencies = routing.agencies.by_code.values()
    click.echo(f"agencies OK: {len(agencies)} ({', '.join(a.code for a in agencies)}; triage: "
               f"{routing.agencies.triage.code}), keyword rules for "
               f"{', '.join(sorted(routing.rules.by_language)) or 'no language'}")
    for agency in agencies:
        for target in agency.targets:
            env = target.secret_env or target.api_key_env
            if env and not os.environ.get(env):
                click.echo(f"  warning: agency {agency.code}: {target.channel} needs {env}, which is not set here",
                           err=True)


def _check_radio(menus: Menus) -> None:
    """Validate the radio script phrases and stopwords (menus/radio/<lang>.toml) with the menus."""
    from ivr.radio.phrases import load_radio_languages

    folder = Path(menus.root) / "radio"
    if not folder.is_dir():
        click.echo("radio phrases: none (no radio/ folder beside the menus: no scripts or bulletins)")
        return
    try:
        languages = load_radio_languages(folder)
    except MenuError as exc:
        raise click.ClickException(str(exc)) from exc
    drafts = [code for code, lang in sorted(languages.items()) if not lang.reviewed]
    click.echo(f"radio phrases OK: {', '.join(sorted(languages))}"
               + (f" (not reviewed by a native speaker: {', '.join(drafts)})" if drafts else ""))


@click.command()
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def messages(limit: int, as_json: bool) -> None:
    """List recent messages (never the caller's number: it is not stored)."""
    config = load_config()
    with database_for(config.database_url).session() as session:
        rows = list(session.scalars(select(Message).order_by(Message.created_at.desc(), Message.id.desc())
                                    .limit(limit)))
        ids = [m.id for m in rows]
        answered = set(session.scalars(select(Answer.message_id).where(Answer.message_id.in_(ids)))) if ids else set()
        doubtful = {mid: ear for mid, ear in session.execute(select(Transcript.message_id, Transcript.check_by_ear)
                                                             .where(Transcript.message_id.in_(ids)))} if ids else {}
        due = utcnow() - timedelta(days=config.answer_due_days)
        for m in rows:
            item = {"id": m.id, "reference": m.reference, "status": m.status, "language": m.language,
                    "topic": m.topic, "place": m.place, "created_at": m.created_at.isoformat() + "Z",
                    # The group's id (its first report's), overdue as the inbox shows it, and whether a person
                    # must listen: no transcript, or one the engine was unsure of.
                    "cluster": m.cluster_id,
                    "overdue": m.status != "closed" and m.created_at < due and m.id not in answered,
                    "needs_listening": bool(doubtful.get(m.id, True))}
            if as_json:
                click.echo(json.dumps(item, ensure_ascii=False))
            else:
                click.echo(f"{m.id:6} {m.reference} {m.created_at:%Y-%m-%d %H:%M} {m.status:16} {m.language:3} "
                           f"{m.topic or '-':12} {m.place or '-'}")
