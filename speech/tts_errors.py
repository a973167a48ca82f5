"""Raise one family of errors for everything that can go wrong turning prompt text into audio.

Callers catch `TTSError` and read its message; an operator sees which prompt, in which language,
and why. The tree, by what the caller should do about it:

    TTSError                    anything below; carries `language` and `prompt_id`
    ├── NoVoiceForLanguage      no configured engine speaks this language (Fijian today): record a human
    ├── BadPromptText           the text itself is wrong; no engine will do better, so no fallback
    │   ├── EmptyText           nothing to say after trimming whitespace
    │   ├── TextTooLong         longer than a phone prompt should be (and than espeak-ng takes safely)
    │   └── UnreadableScript    letters in a script the language's voices cannot read
    ├── EngineUnavailable       the engine cannot be reached or run; try the next engine
    │   ├── EspeakNotInstalled  the espeak-ng program is missing (Debian package `espeak-ng`)
    │   └── EndpointUnreachable Google's TTS endpoint refused the connection or timed out
    ├── EngineFailed            the engine ran but gave no usable speech (exit status, HTTP 500,
    │                           an answer without audio, a rendering of ~0 s); try the next engine
    ├── NotPlayable             the converted file failed `check_playable`; try the next engine
    └── AllVoicesFailed         every engine for the language failed; `reasons` holds each one's error
"""

from __future__ import annotations


class TTSError(Exception):
    """Report a text-to-speech failure for one prompt, naming its language and prompt id.

    The prompt id is whatever the caller passes (a menu node, a file line); it is optional because
    the engines are also used on their own.
    """

    def __init__(self, message: str, *, language: str, prompt_id: str | None = None) -> None:
        self.message = message
        self.language = language
        self.prompt_id = prompt_id
        where = f"prompt {prompt_id!r}, language {language!r}" if prompt_id else f"language {language!r}"
        super().__init__(f"{message} ({where})")


class NoVoiceForLanguage(TTSError):
    """Say that no configured engine has a voice for the language.

    Raised before any engine runs, so a language we cannot speak is never half offered.
    """

    def __init__(self, language: str, *, prompt_id: str | None = None, engines: tuple[str, ...] = ()) -> None:
        tried = ", ".join(engines) if engines else "no engines configured"
        super().__init__(
            f"no text-to-speech voice for language {language!r} (checked: {tried}); "
            "record this prompt with a human voice",
            language=language,
            prompt_id=prompt_id,
        )


class BadPromptText(TTSError):
    """Reject prompt text that no engine should be asked to speak."""


class EmptyText(BadPromptText):
    """Reject text that is empty or only whitespace."""


class TextTooLong(BadPromptText):
    """Reject text longer than the configured maximum, which a caller would not sit through."""


class UnreadableScript(BadPromptText):
    """Reject text written in a script the language's voices cannot read.

    espeak-ng does not fail on foreign letters: it spells them out or silently switches voice,
    so the check has to happen before rendering.
    """


class EngineUnavailable(TTSError):
    """Report an engine that cannot be used right now, so the next engine is tried."""


class EspeakNotInstalled(EngineUnavailable):
    """Report that the espeak-ng program is not on this machine."""


class EndpointUnreachable(EngineUnavailable):
    """Report that the TTS endpoint refused the connection or did not answer in time."""


class EngineFailed(TTSError):
    """Report an engine that ran but produced no usable speech."""


class NotPlayable(TTSError):
    """Report a rendered file that Twilio could not play (undecodable, wrong rate, ~0 s)."""


class AllVoicesFailed(TTSError):
    """Report that every engine for the language failed, with each engine's error."""

    def __init__(self, reasons: dict[str, TTSError], *, language: str, prompt_id: str | None = None) -> None:
        self.reasons = reasons
        detail = "; ".join(f"{engine}: {error.message}" for engine, error in reasons.items())
        super().__init__(f"every voice failed — {detail}", language=language, prompt_id=prompt_id)
