"""`hotline call`: a phone in the terminal, on the phone emulator."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import click

from ivr.commands.cli import load_config
from ivr.core.config import Config
from ivr.voice.emulator import (
    HANG_UP,
    CallError,
    FlaskTransport,
    Heard,
    HttpTransport,
    Phone,
    Transport,
    describe_audio,
)
from ivr.voice.media_host import MediaHost
from menus import MenuError, load_menus

HANG_UP_KEYS = ("h", "hangup")
FETCH_WAIT_SECONDS = 30.0


def register(group: click.Group) -> None:
    group.add_command(call)


class TerminalCaller:
    """Show what the hotline says, play its audio when a player is at hand, and ask for keys and recordings."""

    def __init__(self, text_of: Callable[[str, str], str | None],
                 play: Callable[[str], None] | None = None) -> None:
        self.shown = 0
        self.text_of = text_of
        self.play = play

    def show(self, heard: list[Heard]) -> None:
        for item in heard[self.shown:]:
            if item.kind == "say":
                click.echo(f"  🔊 {item.text}")
            elif item.kind == "play":
                # Always the words, even when the prompt has audio: the person at the keyboard must follow.
                click.echo(f"  🔊 {describe_audio(item.text, self.text_of)}")
                if self.play is not None:
                    self.play(item.text)
            elif item.kind == "beep":
                click.echo("  🔔 beep")
            elif item.kind == "dial":
                click.echo(f"  ☎  transferring to {item.text}")
        self.shown = len(heard)

    def keys(self, heard: list[Heard], gather: ET.Element) -> str | None:
        self.show(heard)
        keys = click.prompt("keys (Enter = stay silent, h = hang up)", default="", show_default=False).strip()
        if keys.lower() in HANG_UP_KEYS:
            return HANG_UP
        return keys or None

    def record(self, heard: list[Heard]) -> bytes | str | None:
        self.show(heard)
        while True:
            raw = click.prompt("WAV file to speak (Enter = stay silent, h = hang up)", default="",
                               show_default=False).strip()
            if not raw:
                return None
            if raw.lower() in HANG_UP_KEYS:
                return HANG_UP
            path = Path(raw).expanduser()
            if path.is_file():
                return path.read_bytes()
            click.echo(f"  no such file: {path}")


@click.command()
@click.option("--server", default=None,
              help="URL of a running hotline (default: PUBLIC_BASE_URL). Use --in-process to skip the server.")
@click.option("--in-process", is_flag=True, help="Run the app inside this command instead of calling a server.")
@click.option("--from", "from_number", default="+6799990000", show_default=True, help="Caller's number.")
@click.option("--audio/--no-audio", "audio", default=None,
              help="Play prompts through aplay/ffplay (default: when one is installed and this is a terminal).")
def call(server: str | None, in_process: bool, from_number: str, audio: bool | None) -> None:
    """Ring the hotline from the terminal: read the prompts, type keys, speak a WAV file, h hangs up."""
    config = load_config()
    transport: Transport
    fetch: Callable[[str], bytes | None]
    if in_process:
        from ivr import create_app

        client = create_app(config).test_client()
        transport = FlaskTransport(client)
        fetch = lambda url: _get_in_process(client, url)  # noqa: E731
    else:
        base = (server or config.public_base_url).rstrip("/")
        transport = HttpTransport(base)
        fetch = lambda url: _get_http(base, url)  # noqa: E731
    caller = TerminalCaller(_texts(config), _player(fetch) if audio or (audio is None and _tty()) else None)
    with MediaHost(account_sid=config.twilio_account_sid or "AC" + "0" * 32,
                   auth_token=config.twilio_auth_token if config.twilio_account_sid else "") as media:
        phone = Phone(transport, config.twilio_auth_token, config.public_base_url, media, from_number=from_number)
        try:
            log = phone.call(caller)
        except CallError as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:
            raise click.ClickException(f"cannot reach the hotline ({exc}); is `hotline serve` running?") from exc
        caller.show(log.heard)
        how = "you hung up; the status callback Twilio sends was sent" if log.caller_hung_up else "call ended"
        click.echo(f"  📴 {how} ({len(log.exchanges)} webhooks)")
        if log.recordings:
            _report_fetches(media, log.recordings, _fates(config, log.recordings))


def _tty() -> bool:
    import sys

    return sys.stdout.isatty()


def _texts(config: Config) -> Callable[[str, str], str | None]:
    """Return a look-up of a prompt's text in the menus this machine has (those the hotline serves)."""
    try:
        menus = load_menus(config.menus_dir)
    except MenuError:
        return lambda lang, pid: None

    def text_of(lang: str, pid: str) -> str | None:
        language = menus.languages.get(lang)
        return language.prompts.get(pid) if language is not None else None

    return text_of


def _get_in_process(client: object, url: str) -> bytes | None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    resp = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))  # type: ignore[attr-defined]
    return bytes(resp.data) if resp.status_code == 200 else None


def _get_http(base: str, url: str) -> bytes | None:
    """Fetch a played URL from the hotline we call (the TwiML names PUBLIC_BASE_URL, which may be a proxy)."""
    from urllib.parse import urlsplit

    import requests

    parts = urlsplit(url)
    try:
        resp = requests.get(base + parts.path + (f"?{parts.query}" if parts.query else ""), timeout=10)
    except requests.RequestException:
        return None
    return resp.content if resp.status_code == 200 else None


def _player(fetch: Callable[[str], bytes | None]) -> Callable[[str], None] | None:
    """Return a function that plays a URL's audio with aplay (WAV) or ffplay, or None without either."""
    ffplay, aplay = shutil.which("ffplay"), shutil.which("aplay")
    if not (ffplay or aplay):
        return None

    def play(url: str) -> None:
        data = fetch(url)
        if not data:
            return
        wav = data[:4] == b"RIFF"
        if not wav and not ffplay:
            return
        with tempfile.NamedTemporaryFile(suffix=".wav" if wav else ".mp3") as tmp:
            tmp.write(data)
            tmp.flush()
            argv = [aplay, "-q", tmp.name] if wav and aplay else [str(ffplay), "-nodisp", "-autoexit",
                                                                    "-loglevel", "quiet", tmp.name]
            subprocess.run(argv, check=False, timeout=600)  # noqa: S603 - a player found on PATH, our temp file

    return play


def _fates(config: Config, sids: list[str]) -> dict[str, str]:
    """Ask the hotline's database what became of each take: 'kept', 'discarded' or 'unknown'.

    Why: only a kept take is fetched; a take replaced by "record again" never is, and waiting for it
    would end in a false "not fetched".
    """
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from ivr.core.db import database_for
    from ivr.core.models import Recording

    fates = dict.fromkeys(sids, "unknown")
    try:
        with database_for(config.database_url).session() as session:
            for rec in session.scalars(select(Recording).where(Recording.recording_sid.in_(sids))):
                fates[rec.recording_sid] = ("discarded" if rec.discarded else
                                            "kept" if rec.message_id is not None else "unknown")
    except SQLAlchemyError:
        pass  # another machine's hotline: fall back on "the last take is the one that counts"
    if all(fate == "unknown" for fate in fates.values()):
        fates = {sid: ("discarded" if sid != sids[-1] else "unknown") for sid in sids}
    return fates


def _report_fetches(media: MediaHost, sids: list[str], fates: dict[str, str],
                    timeout: float = FETCH_WAIT_SECONDS) -> None:
    """Keep the emulated media URLs up until the hotline fetched every kept take; say what became of each."""
    for sid in sids:
        if fates[sid] == "discarded":
            click.echo(f"  take {sid[:10]}…: discarded (you recorded again or chose not to keep it); "
                       "the hotline never fetches it")
    waiting = [sid for sid in sids if fates[sid] != "discarded"]
    if not waiting:
        return
    click.echo("  waiting for the hotline to fetch the recording ...")
    deadline = time.monotonic() + timeout
    while True:
        fetched = {path.rsplit("/", 1)[-1].split(".")[0] for method, path in media.requests if method == "GET"}
        if all(sid in fetched for sid in waiting):
            click.echo("  recording fetched by the hotline; see it with: .venv/bin/hotline messages")
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    for sid in waiting:
        if sid not in fetched:
            kept = "kept as a message" if fates[sid] == "kept" else "not known to this machine's database"
            click.echo(f"  take {sid[:10]}… ({kept}) was not fetched within {timeout:.0f} s; "
                       "`.venv/bin/hotline jobs` shows whether its ingestion is pending or failed")
