"""`hotline users create|list|password|disable|enable`: accounts for the coordinators' web
console."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from bot.cli.common import ensure_ready
from storage import users as accounts


@click.group("users")
def users() -> None:
    """Console accounts (coordinators and admins)."""


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(accounts.ROLES), default="coordinator", show_default=True)
@click.option("--site", "sites", multiple=True, help="Site prefix the account sees (repeat for more).")
@click.option("--contacts", is_flag=True, help="May see residents' numbers and names (admins always may).")
@click.password_option(help="Asked for when not given (at least 10 characters).")
@with_appcontext
def create(username: str, role: str, sites: tuple[str, ...], contacts: bool, password: str) -> None:
    """Make an account; the password is stored only as a scrypt hash."""
    hotline = ensure_ready()  # accounts name sites: the default sites on a first run
    try:
        with hotline.work() as session:
            user = accounts.create(
                session, username, password, role, [s.upper() for s in sites], contacts, hotline.clock()
            )
            summary = f"{user.username} ({user.role}; sites: {', '.join(user.sites) or 'all'})"
    except accounts.UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"created {summary}")


@users.command("list")
@with_appcontext
def list_users() -> None:
    """Show every account."""
    hotline = ensure_ready()  # accounts name sites: the default sites on a first run
    with hotline.work() as session:
        for user in accounts.all_users(session):
            sites = ", ".join(user.sites) if user.role != "admin" else "all sites"
            flags = [f for f, on in (("contacts", user.contacts), ("disabled", not user.active)) if on]
            click.echo(
                f"{user.username:24} {user.role:12} {sites}" + (f"  [{', '.join(flags)}]" if flags else "")
            )


@users.command("password")
@click.argument("username")
@click.password_option(
    prompt="New password",
    help=f"Asked for twice when not given (at least {accounts.MIN_PASSWORD} characters).",
)
@with_appcontext
def password(username: str, password: str) -> None:
    """Set a new password; every console session of the account ends."""
    hotline = ensure_ready()
    try:
        with hotline.work() as session:
            name = accounts.set_password(session, username, password).username
    except accounts.UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"password of {name} changed; its console sessions have ended")


def _switch(username: str, active: bool) -> None:
    hotline = ensure_ready()  # accounts name sites: the default sites on a first run
    with hotline.work() as session:
        found = accounts.set_active(session, username, active)
    if not found:
        click.echo(f"error: no user {username!r}", err=True)
        sys.exit(1)
    click.echo(f"{username} {'enabled' if active else 'disabled'}")


@users.command("disable")
@click.argument("username")
@with_appcontext
def disable(username: str) -> None:
    """Stop an account from logging in; its sessions end, even if it is enabled again."""
    _switch(username, False)


@users.command("enable")
@click.argument("username")
@with_appcontext
def enable(username: str) -> None:
    """Let a disabled account log in again."""
    _switch(username, True)
