"""`hotline users`: create, list and disable dashboard accounts (officials, radio hosts, admins)."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select, update

from ivr.commands.cli import load_config
from ivr.core.agencies import MenuError, routing_for
from ivr.core.auth import AccountRejected, create_user
from ivr.core.db import database_for
from ivr.core.models.accounts import ROLES, User, UserSession
from ivr.core.models.base import utcnow


def register(group: click.Group) -> None:
    group.add_command(users)


@click.group()
def users() -> None:
    """Dashboard accounts."""


@users.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="official, radio or admin.")
@click.option("--agency", default=None, help="Agency code from the agencies file (required for an official).")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from standard input (never from the command line, where `ps` shows it).")
def users_add(email: str, role: str, agency: str | None, password_stdin: bool) -> None:
    """Create an account; the password (at least 12 characters) is read from stdin."""
    config = load_config()
    try:
        _menus, routing = routing_for(config)
    except MenuError as exc:
        raise click.ClickException(str(exc)) from exc
    password = sys.stdin.readline().rstrip("\r\n")
    with database_for(config.database_url).session() as db:
        try:
            user = create_user(db, email, role, password, agency=agency, agencies=routing.agencies.by_code)
        except AccountRejected as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"added {user.role} {user.email}" + (f" ({user.agency})" if user.agency else "") + f", id {user.id}")


@users.command("list")
def users_list() -> None:
    """List accounts: email, role, agency, whether disabled, last login."""
    config = load_config()
    with database_for(config.database_url).session() as db:
        for u in db.scalars(select(User).order_by(User.email)):
            last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never"
            click.echo(f"{u.id:5} {u.email:40} {u.role:9} {u.agency or '-':10} "
                       f"{'disabled' if u.disabled else 'active':9} last login {last}")


@users.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Disable an account and end its open logins at once (the account and its audit trail stay)."""
    config = load_config()
    with database_for(config.database_url).session() as db:
        user = db.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"no account for {email}")
        user.disabled = True
        db.execute(update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                   .values(ended_at=utcnow()))
        click.echo(f"disabled {user.email}")
