"""`hotline prompts build`: render the audio of every prompt ahead of calls, with a progress bar."""

from __future__ import annotations

import sys

import click
from tqdm import tqdm

from ivr.commands.cli import load_config
from ivr.operator.build import build_prompts, describe
from menus import MenuError, load_menus
from speech.tts import RenderOutcome


def register(group: click.Group) -> None:
    group.add_command(prompts_group)


@click.group("prompts")
def prompts_group() -> None:
    """Build the audio callers hear."""


class _Progress:
    """Show a tqdm bar once the number of prompts to render is known."""

    def __init__(self) -> None:
        self.bar: tqdm[None] | None = None

    def start(self, total: int) -> None:
        self.bar = tqdm(total=total, unit="prompt", desc="rendering prompts", file=sys.stderr, dynamic_ncols=True)

    def step(self, outcome: RenderOutcome) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{outcome.item.language}/{outcome.item.prompt_id}", refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@prompts_group.command("build")
@click.option("--lang", "languages", multiple=True, metavar="CODE",
              help="Only this language (repeatable). Default: every language in the menus.")
@click.option("--force", is_flag=True,
              help="Render again prompts that already have audio, e.g. to replace espeak-ng renderings with "
                   "gTTS once the network is back.")
def build(languages: tuple[str, ...], force: bool) -> None:
    """Render every prompt with gTTS where it answers, else espeak-ng; report what still has no audio.

    Renderings are cached by (text, language, engine, voice): an edited prompt renders again and
    nothing else does. Nothing is deleted: a prompt that fails keeps whatever audio it had.
    """
    config = load_config()
    try:
        menus = load_menus(config.menus_dir)
    except MenuError as exc:
        raise click.ClickException(str(exc)) from exc
    unknown = [code for code in languages if code not in menus.languages]
    if unknown:
        raise click.ClickException(f"unknown language(s): {', '.join(unknown)} "
                                   f"(the menus have {', '.join(sorted(menus.languages))})")
    progress = _Progress()
    try:
        keypad_order = [lang.code for lang in sorted(menus.languages.values(), key=lambda lang: lang.key)]
        report = build_prompts(config, menus, languages or keypad_order, force=force,
                               on_start=progress.start, on_progress=progress.step)
    finally:
        progress.close()
    for line in describe(report):
        click.echo(line)
    if not report.ok:
        raise click.ClickException("some prompts could not be rendered (listed above as FAILED); "
                                   "any audio they had before stays in service")
