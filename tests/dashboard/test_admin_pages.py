"""Admin-only pages: the audit log (filtered, paginated) and the operator page opened by an admin account."""

from __future__ import annotations

import re
from collections.abc import Callable

from ivr.core.audit import record_audit
from ivr.core.db import database_for
from tests.dashboard.conftest import Dash

OPERATOR_TOKEN = "operator-token-0123456789"


def test_audit_page_lists_actions_and_filters(dash: Dash) -> None:
    ident = dash.message()
    official = dash.client()
    with official.get(f"/dashboard/messages/{ident}/audio") as resp:
        assert resp.status_code == 200
    with official.get(f"/dashboard/messages/{ident}/download") as resp:
        assert resp.status_code == 200
    admin = dash.client("admin@example.org")
    page = admin.get("/dashboard/audit").get_data(as_text=True)
    rows = re.findall(r"<tr><td><time [^>]+>[^<]+</time></td><td>([^<]+)</td><td>([^<]+)</td>\s*<td>message (\d+)</td>",
                      page)
    assert rows == [("water@example.org", "download", str(ident)), ("water@example.org", "listen", str(ident))]
    only = admin.get("/dashboard/audit?action=listen").get_data(as_text=True)
    assert ">listen<" in only and ">download<" not in only
    assert "No audit rows match" in admin.get("/dashboard/audit?email=roads@example.org").get_data(as_text=True)
    assert admin.get("/dashboard/audit?from=soon").status_code == 400


def test_audit_page_pages_by_id(dash: Dash) -> None:
    with database_for(dash.config.database_url).session() as db:
        for n in range(130):
            record_audit(db, dash.admin, "export", "figures", n)
    admin = dash.client("admin@example.org")
    first = admin.get("/dashboard/audit").get_data(as_text=True)
    assert first.count("<tr><td>") == 100
    older = re.search(r'id="older" rel="next" href="([^"]+)"', first)
    assert older
    second = admin.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count("<tr><td>") == 30 and 'id="older"' not in second
    assert "figures 0<" in second and "figures 129<" in first


def test_audit_page_is_for_admins_only(dash: Dash) -> None:
    assert dash.client().get("/dashboard/audit").status_code == 403


def test_admin_account_opens_the_operator_page_without_the_token(make_dash: Callable[..., Dash]) -> None:
    dash = make_dash(operator_token="")
    assert dash.app.test_client().get("/operator/").status_code == 404
    assert dash.client().get("/operator/").status_code == 404  # an official is not an admin
    assert dash.client("admin@example.org").get("/operator/").status_code == 200


def test_operator_token_login_still_works_beside_accounts(make_dash: Callable[..., Dash]) -> None:
    dash = make_dash(operator_token=OPERATOR_TOKEN)
    client = dash.app.test_client()
    assert client.get("/operator/").status_code == 302
    assert dash.client("admin@example.org").get("/operator/").status_code == 200
    assert dash.client().get("/operator/").status_code == 302  # official: sent to the token login
