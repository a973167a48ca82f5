"""Build the Flask app: the shared services, then every room's blueprints."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from sqlalchemy import text

from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.prompt_audio import PromptLibrary
from ivr.core.prompts import PromptSource
from ivr.core.queue import make_queue
from ivr.core.services import Services, services
from ivr.core.urls import Urls
from menus import load_menus


def create_app(config: Config | None = None) -> Flask:
    """Build the Flask app from a config (read from the environment when none is given)."""
    if config is None:
        from ivr.core.config import load_env_file

        load_env_file()
        config = Config.from_env()
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__, instance_path=str(config.data_dir.resolve()))
    app.config.update(SECRET_KEY=config.secret_key, MAX_CONTENT_LENGTH=config.max_body_bytes,
                      TESTING=config.testing, SESSION_COOKIE_SAMESITE="Lax")
    menus = load_menus(config.menus_dir)
    queue = make_queue(config)
    app.extensions["hotline"] = Services(
        config=config,
        db=database_for(config.database_url),
        menus=menus,
        queue=queue,
        prompts=PromptSource(menus, config.public_base_url, library=PromptLibrary.for_config(config, menus),
                             queue=queue if config.prompts_queue_missing else None),
        urls=Urls(config.public_base_url),
    )
    if not config.testing:
        import atexit

        atexit.register(flush_funnel, app.extensions["hotline"])  # counts of calls not yet ended reach the table
    # Read the prompt audio folders once now, so the first caller does not pay for it.
    app.extensions["hotline"].prompts.library.offered()
    if not config.redis_url and not config.testing and config.inline_sweep_seconds:
        from ivr.core.sweeper import start_sweeper

        start_sweeper(config, config.inline_sweep_seconds)  # no worker process runs it on this install
    from ivr.operator.views import bp as operator_bp
    from ivr.voice import answers, prompt_files
    from ivr.voice import webhooks as voice

    app.register_blueprint(voice.bp)
    app.register_blueprint(answers.bp)
    app.register_blueprint(prompt_files.bp)
    app.register_blueprint(operator_bp)
    from ivr.operator import calls_page

    app.register_blueprint(calls_page.bp)  # /operator/calls: the call funnel drawn
    from ivr.operator import phone_page

    app.register_blueprint(phone_page.bp)  # /operator/phone: a phone in the browser, through the signed webhooks
    app.register_blueprint(phone_page.media_bp)
    from ivr.operator import prompt_line

    app.register_blueprint(prompt_line.bp)  # /voice/prompt-line/*: native speakers record prompts by phone
    from ivr.voice.outbound import bp as outbound_bp

    app.register_blueprint(outbound_bp)  # the calls the hotline places: answers and callbacks
    from ivr.voice.sms_status import bp as sms_bp

    app.register_blueprint(sms_bp)  # status callbacks of the SMS sent to consenting callers
    from ivr.core import auth
    from ivr.dashboard import login as dashboard_login
    from ivr.dashboard import views as dashboard

    auth.init_app(app)
    app.register_blueprint(dashboard_login.bp)
    app.register_blueprint(dashboard.bp)
    from ivr.dashboard import casework_views

    app.register_blueprint(casework_views.bp)  # close unanswered, return ("not ours"), split a group
    from ivr.radio.views import bp as radio_bp

    app.register_blueprint(radio_bp)  # the radio hosts' pages, the bulletins' audio and the podcast feed
    from ivr.dashboard import accountability as accountability_page
    from ivr.public import home
    from ivr.public import views as public
    from ivr.radio import board as radio_board
    from ivr.radio import poll_pages

    app.register_blueprint(public.bp)
    app.register_blueprint(home.bp)  # `/`: what this is, and links to log in, the public page and the phone
    app.register_blueprint(accountability_page.bp)
    app.register_blueprint(radio_board.bp)
    app.register_blueprint(poll_pages.bp)
    app.register_blueprint(poll_pages.audio_bp)

    from ivr.core import backlog
    from ivr.core.problems import message_problems, refused_callbacks

    @app.get("/health")
    def health() -> Response:
        """Report whether the database answers; used by load balancers and `hotline` checks."""
        svc = services()
        problems: dict[str, int] = {}
        refused: dict[str, int] = {}
        waiting: dict[str, object] | None = None
        try:
            with svc.db.session() as session:
                session.execute(text("SELECT 1"))
                problems, refused = message_problems(session), refused_callbacks(session)
                waiting = backlog.measure(session).as_dict()
            db_ok = True
        except Exception:  # a health check reports failure, it does not raise it
            db_ok = False
        body = {"status": "ok" if db_ok else "degraded", "database": db_ok,
                "queue": "rq" if svc.config.redis_url else "inline",
                "languages": list(svc.offered_languages()),
                # Counts and reasons only ("failed: disk full"): an operator sees a failure without a shell.
                "message_problems": problems, "callbacks_refused_24h": refused,
                # Callers first: transcription may fall behind on a busy line; how far, and for how long.
                "transcription_backlog": waiting}
        return jsonify(body), (200 if db_ok else 503)  # type: ignore[return-value]

    return app


def flush_funnel(svc: Services) -> None:
    """Write this process's buffered call counts (ivr/core/funnel.py) as it exits; a failure is logged."""
    try:
        with svc.db.session() as session:
            svc.funnel.flush(session)
    except Exception:  # at exit nobody is left to raise to
        logging.getLogger(__name__).exception("could not write the call funnel's counts at exit")
