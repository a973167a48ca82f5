"""Speak prompt text with gTTS (Google Translate's speech), the preferred voice when the network answers.

gTTS posts each ≤100-character piece of the text to
`https://translate.google.<tld>/_/TranslateWebserverUi/data/batchexecute` and reads base64 MP3 out of
the answer's `jQ1olc` lines. We keep its tokenising, packaging and parsing, and change two things:
the endpoint's base URL is ours to set (tests point it at a local server that answers the same way),
and each MP3 piece is decoded on its own before the samples are joined.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from gtts import gTTS, gTTSError

from speech.telephone_audio import Pcm, UndecodableAudio, concatenate, decode
from speech.tts_errors import EmptyText, EndpointUnreachable, EngineFailed, NoVoiceForLanguage

GOOGLE_BASE_URL = "https://translate.google.{tld}"

# Our language code → (gTTS language, Google domain). The domain picks the accent gTTS documents:
# Australian English is the nearest it has to the Pacific; French from France; Hindi from India.
GTTS_VOICES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {"en": ("en", "com.au"), "fr": ("fr", "fr"), "hi": ("hi", "co.in")}
)


class _EndpointGTTS(gTTS):
    """Send gTTS's requests to a configurable base URL instead of Google's host.

    Only the scheme and host change; the path and body stay exactly what gTTS builds.
    """

    def __init__(self, text: str, *, base_url: str, **options: Any) -> None:
        super().__init__(text, **options)
        self.base_url = base_url

    def _prepare_requests(self) -> list[requests.PreparedRequest]:
        prepared: list[requests.PreparedRequest] = super()._prepare_requests()
        base = self.base_url.format(tld=self.tld).rstrip("/")
        for request in prepared:
            request.prepare_url(base + urlsplit(str(request.url)).path, None)
        return prepared


@dataclass(frozen=True)
class GttsVoice:
    """Render text through Google's TTS endpoint (or one that answers like it).

    Timeouts are short so that a machine without internet falls back to espeak-ng within seconds.
    Note: gTTS sends its requests with TLS verification off (its own choice, for proxies); every
    answer must still decode as speech, and native speakers review prompts before release.
    """

    engine: ClassVar[str] = "gtts"

    base_url: str = GOOGLE_BASE_URL
    voices: Mapping[str, tuple[str, str]] = field(default_factory=lambda: GTTS_VOICES)
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0

    def voice_for(self, language: str) -> str | None:
        """Return the voice label `<gTTS language>@<Google domain>`, or None when there is none."""
        voice = self.voices.get(language)
        return f"{voice[0]}@{voice[1]}" if voice else None

    def synthesize(self, text: str, language: str, *, prompt_id: str | None = None) -> Pcm:
        """Speak `text` in `language` and return the decoded speech.

        Raises EndpointUnreachable when the endpoint refuses or times out, EngineFailed when it
        answers with an error status or without audio.
        """
        voice = self.voices.get(language)
        if voice is None:
            raise NoVoiceForLanguage(language, prompt_id=prompt_id, engines=(self.engine,))
        spoken = text.strip()
        if not spoken:
            raise EmptyText("prompt text is empty", language=language, prompt_id=prompt_id)
        lang, tld = voice
        tts = _EndpointGTTS(
            spoken,
            base_url=self.base_url,
            lang=lang,
            tld=tld,
            timeout=(self.connect_timeout_s, self.read_timeout_s),
        )
        host = tts.base_url.format(tld=tld)
        try:
            pieces = list(tts.stream())
        except gTTSError as error:
            raise self._explain(error, host, language, prompt_id) from error
        except requests.RequestException as error:  # the body broke off after the status line
            raise EndpointUnreachable(
                f"gTTS endpoint {host} broke off its answer: {type(error).__name__}",
                language=language,
                prompt_id=prompt_id,
            ) from error
        except AssertionError as error:  # gTTS asserts when only punctuation is left to send
            raise EngineFailed(
                f"gTTS found nothing to speak: {error}", language=language, prompt_id=prompt_id
            ) from error
        if not pieces:
            raise EngineFailed(f"gTTS endpoint {host} answered without audio", language=language, prompt_id=prompt_id)
        try:
            return concatenate([decode(piece) for piece in pieces])
        except UndecodableAudio as error:
            raise EngineFailed(
                f"gTTS endpoint {host} sent audio that does not decode: {error}",
                language=language,
                prompt_id=prompt_id,
            ) from error

    def _explain(self, error: gTTSError, host: str, language: str, prompt_id: str | None) -> Exception:
        """Turn gTTS's error into ours: unreachable (try the next engine) or a bad answer."""
        response = error.rsp
        if response is not None and response.status_code == 200:
            return EngineFailed(f"gTTS endpoint {host} answered without audio", language=language, prompt_id=prompt_id)
        if response is not None:
            return EngineFailed(
                f"gTTS endpoint {host} answered HTTP {response.status_code} {response.reason}",
                language=language,
                prompt_id=prompt_id,
            )
        cause = error.__context__
        if isinstance(cause, requests.Timeout):
            what = f"did not answer within {self.connect_timeout_s} s / {self.read_timeout_s} s"
        elif isinstance(cause, requests.ConnectionError):
            what = "refused the connection or could not be reached"
        else:
            what = f"could not be reached ({type(cause).__name__})"
        return EndpointUnreachable(f"gTTS endpoint {host} {what}", language=language, prompt_id=prompt_id)
