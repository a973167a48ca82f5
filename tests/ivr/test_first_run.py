"""A first run as a new user does it: `/` answers, the port is carried everywhere, Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests
from click.testing import CliRunner
from flask import Flask

from ivr.commands.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_home_page_links_login_public_page_and_phone(app: Flask) -> None:
    resp = app.test_client().get("/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for link in ('href="/login"', 'href="/public/"', 'href="/operator/phone"'):
        assert link in html
    assert "/voice/incoming" in html and "script" not in resp.headers["Content-Security-Policy"]


def test_init_moves_a_local_port_keeps_secrets_and_says_how_to_make_the_first_admin(tmp_path: Path) -> None:
    env = {"HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_ENV_FILE": ""}
    first = CliRunner().invoke(main, ["init", "--port", "5057"], env=env)
    assert first.exit_code == 0, first.output
    assert "hotline users add" in first.output and "--role admin --password-stdin" in first.output
    path = tmp_path / "hotline.env"
    text = path.read_text()
    assert "PUBLIC_BASE_URL=http://127.0.0.1:5057\n" in text
    moved = CliRunner().invoke(main, ["init", "--port", "5058"], env=env)
    assert "now http://127.0.0.1:5058" in moved.output
    assert path.read_text() == text.replace(":5057", ":5058")  # same secrets
    kept = CliRunner().invoke(main, ["init"], env=env)  # no --port: the file is left alone
    assert "now" not in kept.output and ":5058" in path.read_text()
    path.write_text(path.read_text().replace("http://127.0.0.1:5058", "https://hotline.example.org"))
    CliRunner().invoke(main, ["init", "--port", "5000"], env=env)
    assert "PUBLIC_BASE_URL=https://hotline.example.org\n" in path.read_text()  # a public URL is never moved


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _descendants(pid: int) -> set[int]:
    """Every process below `pid`, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_run_sh_carries_the_port_to_hotline_call_and_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HOTLINE_", "TWILIO_", "TEST_")) and k not in
           ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL")}
    env.update(HOTLINE_DATA_DIR=str(tmp_path / "instance"), HOTLINE_GTTS="0", HOTLINE_INLINE_SWEEP_SECONDS="0")
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(["bash", "scripts/run.sh", "--port", str(port), "--workers", "2", "--threads", "2"],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "hotline serve did not answer within 120 s"
            time.sleep(0.3)
        assert f"PUBLIC_BASE_URL=http://127.0.0.1:{port}" in (tmp_path / "instance" / "hotline.env").read_text()
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
        # `hotline call` reads the same file: a signed call gets through (no 403), silent until goodbye.
        call = subprocess.run([str(ROOT / ".venv/bin/hotline"), "call"], cwd=ROOT, env=env, input="\n" * 6,
                              capture_output=True, text=True, timeout=120)
        assert call.returncode == 0, call.stdout + call.stderr
        assert "call ended" in call.stdout
        children = _descendants(server.pid)
        assert len(children) >= 3  # gunicorn's master and its two workers
        server.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process
        server.wait(timeout=60)
        out = log.read_text()
        assert "No admin account yet" in out and f"http://127.0.0.1:{port}/" in out
        # When `hotline serve` has returned, nothing it started is left (an orphaned worker would hold the port).
        deadline = time.monotonic() + 0.5  # init reaps an exited orphan at once
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [pid for pid in children if _alive(pid)] == []
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # the port is free again
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
