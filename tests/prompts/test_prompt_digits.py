"""Numbers are spoken by joining the language's own digit prompts, each a <Play> of that language's audio."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from ivr.core.services import services
from ivr.voice.flow import Hangup, Number, Step
from ivr.voice.twiml import render
from tests.prompts.conftest import record_humans, telephone_wav_problems

REFERENCE = "40719"


@pytest.mark.parametrize("language", ["en", "fr", "hi", "fj"])
def test_reference_number_plays_each_digit_prompt_of_the_language(
        prompt_app: Callable[..., Flask], menus_copy: Path, rendered_cache: Path, language: str) -> None:
    # English, French and Hindi digits are synthesised; Fijian has no synthesiser, so a native speaker
    # recorded them.
    record_humans(menus_copy, "fj", [f"digit_{d}" for d in range(10)])
    app = prompt_app(menus_dir=menus_copy, prompts_cache_dir=rendered_cache)
    svc = services(app)
    twiml = render(Step((Number("reference"),), Hangup()), language, {"reference": REFERENCE}, svc.prompts,
                   svc.urls, max_length=60)
    verbs = list(ET.fromstring(twiml))  # our own TwiML
    plays = [v for v in verbs if v.tag == "Play"]
    assert [v.tag for v in verbs] == ["Play"] * len(REFERENCE) + ["Hangup"]
    client = app.test_client()
    for digit, play in zip(REFERENCE, plays, strict=True):
        url = urlsplit(play.text or "")
        assert url.path == f"/prompts/{language}/digit_{digit}.wav"
        expected = svc.prompts.library.find(language, f"digit_{digit}")
        assert expected is not None and url.query == f"v={expected.version}"
        served = client.get(f"{url.path}?{url.query}")
        assert served.status_code == 200 and served.data == expected.path.read_bytes()
        assert telephone_wav_problems(served.data) == []
