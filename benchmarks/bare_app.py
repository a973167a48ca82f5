"""The least a Twilio voice webhook can do under Flask: check the signature, answer constant TwiML.

benchmarks/webhooks.py runs it under the same gunicorn settings as the hotline, so the hotline's
throughput can be read as a fraction of what Flask, gunicorn and the signature check allow here.
Start it with: gunicorn --pythonpath benchmarks "bare_app:create_app()" (TWILIO_AUTH_TOKEN set).
"""

from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse


def constant_twiml(action: str) -> str:
    """Return a Gather with a Say, the shape of most of the hotline's answers."""
    resp = VoiceResponse()
    gather = resp.gather(action=action, method="POST", timeout=6, input="dtmf", num_digits=1)
    gather.say("Press 1 to report a problem, 2 to hear an answer, 3 for announcements.", language="en-GB")
    resp.redirect(f"{action}&silence=1", method="POST")
    return str(resp)


def create_app(auth_token: str | None = None) -> Flask:
    """Build the bare app; the auth token comes from TWILIO_AUTH_TOKEN when none is given."""
    app = Flask(__name__)
    validator = RequestValidator(auth_token or os.environ["TWILIO_AUTH_TOKEN"])
    body = constant_twiml("/voice/step?node=main")

    @app.get("/health")
    def health() -> str:
        """Answer once the worker is up, so the benchmark knows when to start."""
        return "ok"

    @app.post("/voice/step")
    def step() -> Response:
        """Refuse what Twilio did not sign for this URL; answer the same TwiML to everything else."""
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(request.url, request.form.to_dict(flat=True), signature):
            abort(403)
        return Response(body, mimetype="application/xml")

    return app
