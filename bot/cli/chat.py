"""`hotline chat`: a resident or a KK member in this terminal, through the webhook's own path."""

from __future__ import annotations

import threading
import uuid

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from bot.cli.common import current_hotline, ensure_ready
from bot.domain import service
from bot.jobs import runner as jobs
from bot.jobs.queue import LocalQueue
from bot.jobs.transport import ConsoleTransport
from bot.web.webhook import BadPayload, e164
from storage import queries, roster
from storage.queries import bare_number
from storage.sites import all_sites


@click.command('chat')
@click.option("--from", "sender", default="+6281200000001", show_default=True, help="Your number.")
@click.option("--as-member", "member", default=None, help="Play the KK member with this number.")
@click.option("--to", "to", default=None, help="The hotline number (default: the first site's).")
@click.option("--whatsapp", is_flag=True, help="Talk as a WhatsApp user instead of SMS.")
@click.option("--practice", is_flag=True, help="Text from the site's first practice number (role-play).")
@with_appcontext
def chat(sender: str, member: str | None, to: str | None, whatsapp: bool, practice: bool) -> None:
    """Talk to the bot in this terminal, through the same code path as the webhook.

    Messages the hotline sends to your number (offers, relays, notices) show up as they are
    sent, whichever process sends them: run one chat as a resident and another --as-member."""
    ensure_ready()
    hotline = current_hotline()
    try:
        sender = e164(member or sender)
    except BadPayload:
        raise click.BadParameter(
            "not a phone number", param_hint="--as-member" if member else "--from"
        ) from None
    with hotline.work() as session:
        sites = all_sites(session)
        site = next(
            (s for s in sites if to and to.removeprefix("whatsapp:") in map(bare_number, s.numbers)), sites[0]
        )
        to = to or (site.numbers[0] if site.numbers else "+620000000000")
        if practice and not member:
            if not site.practice:
                raise click.UsageError(f"site {site.prefix} has no practice numbers (sites.toml: practice)")
            sender = str(site.practice[0])
        if member and roster.member_for_number(session, site.id, sender) is None:
            raise click.BadParameter(
                f"no active member of {site.prefix} has this number", param_hint="--as-member"
            )
    if isinstance(hotline.transport, ConsoleTransport):
        hotline.transport.stream = None  # each chat shows what reaches its own number instead
    stop = threading.Event()
    threading.Thread(
        target=_show_pushed, args=(current_app._get_current_object(), sender, stop), daemon=True
    ).start()
    threading.Thread(
        target=jobs.sweep_forever, args=(current_app._get_current_object(), stop), daemon=True
    ).start()
    role = "KK member: try KASUS, BANTUAN" if member else "resident" + (" (practice)" if practice else "")
    click.echo(f"Hotline KK chat as {role} ({sender}). Type a message and press Enter; Ctrl-D to leave.\n")
    try:
        while True:
            try:
                text = input("> ")
            except (EOFError, KeyboardInterrupt):
                click.echo()
                return
            msg = service.Incoming(
                sid=f"CH{uuid.uuid4().hex}",
                sender=sender,
                to=to.removeprefix("whatsapp:"),
                channel="whatsapp" if whatsapp else "sms",
                body=text,
            )
            for reply in service.handle(hotline, msg).replies:
                click.echo(f"\n{reply}\n")
            if isinstance(hotline.queue, LocalQueue):
                hotline.queue.drain()
    finally:
        stop.set()


def _show_pushed(app: Flask, number: str, stop: threading.Event, every: float = 0.5) -> None:
    """Print what the hotline pushed to this number (not replies: those are printed already)."""
    hotline = app.extensions["hotline"]
    with hotline.work() as session:
        seen = queries.last_message_id(session)
    while not stop.wait(every):
        with hotline.work() as session:
            pushed = queries.pushed_to(session, number, after_id=seen)
        for message_id, body in pushed:
            seen = message_id
            click.echo(f"\n[hotline -> {number}]\n{body}\n> ", nl=False)
