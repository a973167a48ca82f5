"""Prompt audio served under stable URLs with Cache-Control and ETag, as valid 8 kHz WAV."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from ivr.core.prompts import Play
from ivr.core.services import services
from tests.prompts.conftest import telephone_wav_problems


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_versioned_url_is_cached_for_a_year_with_an_etag_and_answers_304(
        prompt_app: Callable[..., Flask], rendered_cache: Path) -> None:
    app = prompt_app(prompts_cache_dir=rendered_cache)
    played = services(app).prompts.resolve("fr", "main_menu")
    assert isinstance(played, Play)
    client = app.test_client()

    first = client.get(local(played.url))
    assert first.status_code == 200 and first.mimetype == "audio/wav"
    assert telephone_wav_problems(first.data) == []
    cache = first.headers["Cache-Control"]
    assert "public" in cache and "max-age=31536000" in cache and "immutable" in cache
    assert first.headers["ETag"] == f'"{hashlib.sha256(first.data).hexdigest()}"'

    again = client.get(local(played.url), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""

    for stale in ("/prompts/fr/main_menu.wav", "/prompts/fr/main_menu.wav?v=0000000000000000"):
        resp = client.get(stale)
        assert resp.status_code == 200 and resp.data == first.data
        assert "no-cache" in resp.headers["Cache-Control"] and "immutable" not in resp.headers["Cache-Control"]
    assert client.head(local(played.url)).status_code == 200


@pytest.mark.parametrize("path", [
    "/prompts/xx/main_menu.wav",          # no such language
    "/prompts/fr/no_such_prompt.wav",     # no such prompt
    "/prompts/fr/main_menu.mp3",          # audio exists, but not under that name
    "/prompts/en/main_menu.wav",          # the prompt has no audio (English main menu is not rendered)
    "/prompts/fr/..%2F..%2Fflow.toml",    # never a path onto the disk
    "/prompts/fr/MAIN_MENU.wav",
])
def test_anything_but_a_current_prompt_file_is_404(prompt_app: Callable[..., Flask], rendered_cache: Path,
                                                   path: str) -> None:
    app = prompt_app(prompts_cache_dir=rendered_cache)
    assert app.test_client().get(path).status_code == 404
