"""`hotline call`: a phone in the terminal, on the phone emulator."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import click

from ivr.commands.cli import load_config
from ivr.voice.emulator import CallError, FlaskTransport, Heard, HttpTransport, Phone, Transport
from ivr.voice.media_host import MediaHost


def register(group: click.Group) -> None:
    group.add_command(call)


class TerminalCaller:
    """Show what the hotline says and ask the person at the keyboard for keys and recordings."""

    def __init__(self) -> None:
        self.shown = 0

    def _show(self, heard: list[Heard]) -> None:
        for item in heard[self.shown:]:
            if item.kind == "say":
                click.echo(f"  🔊 {item.text}")
            elif item.kind == "play":
                click.echo(f"  🔊 [audio] {item.text}")
            elif item.kind == "beep":
                click.echo("  🔔 beep")
            elif item.kind == "dial":
                click.echo(f"  ☎  transferring to {item.text}")
        self.shown = len(heard)

    def keys(self, heard: list[Heard], gather: ET.Element) -> str | None:
        self._show(heard)
        keys = click.prompt("keys (Enter = stay silent)", default="", show_default=False).strip()
        return keys or None

    def record(self, heard: list[Heard]) -> bytes | None:
        self._show(heard)
        while True:
            raw = click.prompt("WAV file to speak (Enter = stay silent)", default="", show_default=False).strip()
            if not raw:
                return None
            path = Path(raw).expanduser()
            if path.is_file():
                return path.read_bytes()
            click.echo(f"  no such file: {path}")


@click.command()
@click.option("--server", default=None,
              help="URL of a running hotline (default: PUBLIC_BASE_URL). Use --in-process to skip the server.")
@click.option("--in-process", is_flag=True, help="Run the app inside this command instead of calling a server.")
@click.option("--from", "from_number", default="+6799990000", show_default=True, help="Caller's number.")
def call(server: str | None, in_process: bool, from_number: str) -> None:
    """Ring the hotline from the terminal: read the prompts, type keys, speak a WAV file."""
    config = load_config()
    transport: Transport
    if in_process:
        from ivr import create_app

        transport = FlaskTransport(create_app(config).test_client())
    else:
        transport = HttpTransport(server or config.public_base_url)
    caller = TerminalCaller()
    with MediaHost(account_sid=config.twilio_account_sid or "AC" + "0" * 32,
                   auth_token=config.twilio_auth_token if config.twilio_account_sid else "") as media:
        phone = Phone(transport, config.twilio_auth_token, config.public_base_url, media, from_number=from_number)
        try:
            log = phone.call(caller)
        except CallError as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:
            raise click.ClickException(f"cannot reach the hotline ({exc}); is `hotline serve` running?") from exc
        caller._show(log.heard)
        click.echo(f"  📴 call ended ({len(log.exchanges)} webhooks)")
        if log.recordings:
            _wait_for_fetch(media, log.recordings)


def _wait_for_fetch(media: MediaHost, sids: list[str], timeout: float = 60.0) -> None:
    """Keep the emulated Twilio media URLs up until the hotline has downloaded what was recorded."""
    import time

    deadline = time.monotonic() + timeout
    click.echo("  waiting for the hotline to fetch the recording ...")
    while time.monotonic() < deadline:
        fetched = {path.rsplit("/", 1)[-1].split(".")[0] for method, path in media.requests if method == "GET"}
        if all(sid in fetched for sid in sids):
            click.echo("  recording fetched by the hotline; see it with: .venv/bin/hotline messages")
            return
        time.sleep(0.2)
    click.echo("  the hotline has not fetched the recording yet; `hotline jobs` shows pending work")
