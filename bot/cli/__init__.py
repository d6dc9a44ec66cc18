"""The `hotline` command, one module per command group."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from app import create_app
from bot.cli.chat import chat
from bot.cli.db import db
from bot.cli.export import export
from bot.cli.flows import flows
from bot.cli.followup import followup_group
from bot.cli.mechanism import mechanism
from bot.cli.members import members
from bot.cli.purge import purge
from bot.cli.report import report
from bot.cli.serve import serve
from bot.cli.sites import sites
from bot.cli.translate import translate
from bot.cli.users import users


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def main() -> None:
    """Hotline KK: the WhatsApp/SMS complaint hotline for Kelompok Konstituen."""


COMMANDS = (serve, chat, db, sites, members, users, export, report, mechanism, purge, followup_group)
for command in (*COMMANDS, flows, translate):
    main.add_command(command)
