"""`hotline followup start`: the follow-up reminders of cases already held when they came."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from bot.cli.common import ensure_ready
from bot.domain import followup


@click.group("followup")
def followup_group() -> None:
    """Follow-up reminders (pemantauan) of held cases."""


@followup_group.command("start")
@with_appcontext
def followup_start() -> None:
    """Start the reminders of every held case that has none: cases taken before an upgrade that
    brought them. Safe to run again: a case already followed up is left alone."""
    hotline = ensure_ready()
    with hotline.work() as session:
        started = followup.backfill(session, hotline.clock())
    click.echo(f"follow-up checks started for {len(started)} held cases")
