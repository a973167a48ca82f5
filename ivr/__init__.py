"""Talanoa Hotline's web application: Twilio webhooks, pages and the phone emulator's target."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, send_from_directory
from sqlalchemy import text

from menus import load_menus

from .config import Config
from .db import database_for
from .prompts import PromptSource
from .queue import make_queue
from .services import Services, services
from .twiml import Urls

__all__ = ["Config", "create_app"]


def create_app(config: Config | None = None) -> Flask:
    """Build the Flask app from a config (read from the environment when none is given)."""
    if config is None:
        from .cli import load_env_file

        load_env_file()
        config = Config.from_env()
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__, instance_path=str(config.data_dir.resolve()))
    app.config.update(SECRET_KEY=config.secret_key, MAX_CONTENT_LENGTH=config.max_body_bytes,
                      TESTING=config.testing)
    menus = load_menus(config.menus_dir)
    app.extensions["hotline"] = Services(
        config=config,
        db=database_for(config.database_url),
        menus=menus,
        queue=make_queue(config),
        prompts=PromptSource(menus, config.public_base_url),
        urls=Urls(config.public_base_url),
    )
    from . import voice

    app.register_blueprint(voice.bp)

    @app.get("/health")
    def health() -> Response:
        """Report whether the database answers; used by load balancers and `hotline` checks."""
        svc = services()
        try:
            with svc.db.session() as session:
                session.execute(text("SELECT 1"))
            db_ok = True
        except Exception:  # a health check reports failure, it does not raise it
            db_ok = False
        body = {"status": "ok" if db_ok else "degraded", "database": db_ok,
                "queue": "rq" if svc.config.redis_url else "inline",
                "languages": list(svc.offered_languages())}
        return jsonify(body), (200 if db_ok else 503)  # type: ignore[return-value]

    @app.get("/prompts/<lang>/<path:filename>")
    def prompt_audio(lang: str, filename: str) -> Response:
        """Serve a human-recorded prompt with cache headers, so Twilio caches it too."""
        svc = services()
        if lang not in svc.menus.languages:
            return Response("unknown language", status=404)
        resp = send_from_directory(PromptSource(svc.menus, "").root / "audio" / lang, filename, max_age=86400)
        return resp

    return app
