"""The message page's casework forms: close without an answer, return a reassigned message, split a group.

Thin: the decisions are in ivr/dashboard/casework.py. A refused move answers 409 with what happened
(e.g. the message was closed in another tab meanwhile), never a silent second close.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, flash, redirect, request, url_for

from ivr.core.auth import login_required
from ivr.core.pages import secure_page
from ivr.core.services import services
from ivr.core.sms import enqueue_sms
from ivr.dashboard.casework import CLOSE_REASONS, close_unanswered, return_message, split_out
from ivr.dashboard.messages import ActionRefused
from ivr.dashboard.views import _message_or_404, _refused, _user, agency_names

log = logging.getLogger(__name__)
bp = Blueprint("casework", __name__, url_prefix="/dashboard")
bp.after_request(secure_page)


def _back(message_id: int) -> Response:
    return redirect(url_for("dashboard.message", message_id=message_id))  # type: ignore[return-value]


@bp.post("/messages/<int:message_id>/close")
@login_required("official")
def close(message_id: int) -> Response | tuple[str, int]:
    """Close an open message without an answer, with a reason from the short list (other: with words)."""
    svc, user = services(), _user()
    reason = request.form.get("reason", "")
    try:
        with svc.db.session() as db:
            m = _message_or_404(db, user, message_id)
            closed = close_unanswered(db, user, m, reason, request.form.get("note"))
    except ActionRefused as exc:
        return _refused(f"The message was not closed: {exc}.", 409)
    for ident in closed:
        enqueue_sms(svc.queue, svc.config, ident, "closed")
    count = len(closed)
    log.info("message %s closed unanswered by user %s (%s)", message_id, user.id, reason)
    flash(f"Closed ({CLOSE_REASONS[reason]})" + (f", with the {count - 1} other messages of its group." if count > 1
                                                   else "."))
    return _back(message_id)


@bp.post("/messages/<int:message_id>/return")
@login_required("official")
def give_back(message_id: int) -> Response | tuple[str, int]:
    """Return a message reassigned to this agency where it came from ("not ours"), with the reason."""
    svc, user = services(), _user()
    try:
        with svc.db.session() as db:
            m = _message_or_404(db, user, message_id)
            back = return_message(db, user, m, request.form.get("reason"))
            reference = m.reference
    except ActionRefused as exc:
        return _refused(f"The message was not returned: {exc}.", 409)
    log.info("message %s returned by user %s", message_id, user.id)
    flash(f"Message {reference} is back with {agency_names(svc).get(back, back)}.")
    if user.can_see_agency(back):
        return _back(message_id)
    return redirect(url_for("dashboard.inbox"))  # type: ignore[return-value]


@bp.post("/messages/<int:message_id>/split")
@login_required("official")
def split(message_id: int) -> Response | tuple[str, int]:
    """Take a wrongly grouped message out of its group; it becomes a row of its own."""
    svc, user = services(), _user()
    try:
        with svc.db.session() as db:
            m = _message_or_404(db, user, message_id)
            split_out(db, user, m)
    except ActionRefused as exc:
        return _refused(f"The message was not split out: {exc}.", 409)
    flash("The message is out of its group and will not be grouped again.")
    return _back(message_id)
