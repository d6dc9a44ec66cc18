"""The `hotline` command: run, migrate, load sites, chat with the bot, check flows, translate."""

from __future__ import annotations

import sys
import threading
import uuid
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from app import create_app
from bot import i18n, jobs, service
from bot.channel import BadPayload, e164
from bot.cli_common import current_hotline, ensure_ready
from bot.cli_export import export
from bot.cli_members import members
from bot.cli_report import purge, report
from bot.cli_users import users
from bot.flowdoc import check_flows, mermaid
from bot.queue import LocalQueue
from bot.transport import ConsoleTransport
from flows import FLOWS
from storage import queries, roster
from storage.queries import bare_number
from storage.sites import all_sites, load_sites
from storage.sitesfile import SitesFileError, read_sites


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def main() -> None:
    """Hotline KK: the WhatsApp/SMS complaint hotline for Kelompok Konstituen."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--allow-unsigned", is_flag=True, help="Accept unsigned webhook posts (local only).")
@with_appcontext
def serve(host: str, port: int, allow_unsigned: bool) -> None:
    """Run everything in one process on the embedded defaults."""
    config = current_app.config
    if allow_unsigned:
        if config.get("TWILIO_AUTH_TOKEN"):
            raise click.UsageError("--allow-unsigned is refused while TWILIO_AUTH_TOKEN is set")
        config["HOTLINE_ALLOW_UNSIGNED"] = True
    ensure_ready()
    db = config["DATABASE_URL"].split("?")[0]
    runner = "Redis " + config["REDIS_URL"] if config.get("REDIS_URL") else "in-process"
    click.echo(
        f"Hotline KK on http://{host}:{port}\n"
        f"  database: {db}\n  jobs: {runner}\n"
        f"  outbound messages: {type(current_hotline().transport).__name__}\n\n"
        "Talk to it as a resident in another terminal:   hotline chat\n"
        "Play a KK member (see hotline members list):   hotline chat --as-member +62...\n"
        f"Coordinators' console:                         http://{host}:{port}/console/"
        " (make an account: hotline users create NAME --role admin)\n"
        f"Twilio webhook (SMS and WhatsApp):             POST http://{host}:{port}/twilio/messages\n"
        "  set PUBLIC_URL, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN for a real number,\n"
        "  or pass --allow-unsigned to post by hand (local only).\n"
    )
    app = current_app._get_current_object()
    if isinstance(current_hotline().queue, LocalQueue):  # no worker.py: this process sweeps too
        threading.Thread(target=jobs.sweep_forever, args=(app, threading.Event()), daemon=True).start()
    run_simple(host, port, app, threaded=True)


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create or upgrade the database schema to the latest migration."""
    current_hotline().db.upgrade()
    click.echo("database is up to date")


@main.group()
def sites() -> None:
    """Sites (hotline numbers) and their kelurahan/desa."""


@sites.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def sites_load(path: str) -> None:
    """Validate a sites file and load it (insert or update)."""
    try:
        specs = read_sites(path)
    except SitesFileError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    ensure_ready(load_default_sites=False)
    with current_hotline().db.session() as session:
        counts = load_sites(session, specs)
    click.echo(
        f"loaded {counts['sites']} sites, {counts['areas']} areas"
        + (f", {counts['deactivated']} areas deactivated" if counts["deactivated"] else "")
    )


@sites.command("list")
@with_appcontext
def sites_list() -> None:
    """Show the loaded sites, their numbers and areas."""
    ensure_ready()
    with current_hotline().db.session() as session:
        for site in all_sites(session):
            numbers = (
                ", ".join(site.numbers) or "(no number: gets unclaimed numbers)"
                if site.position == 0
                else ", ".join(site.numbers) or "(no number)"
            )
            click.echo(f"{site.prefix}  {site.name}  [{site.timezone}]  {numbers}")
            for area in site.areas:
                if area.active:
                    click.echo(f"    {area.code or '-':16} {area.name} (Kec. {area.kecamatan})")


@main.command()
@click.option("--from", "sender", default="+6281200000001", show_default=True, help="Your number.")
@click.option("--as-member", "member", default=None, help="Play the KK member with this number.")
@click.option("--to", "to", default=None, help="The hotline number (default: the first site's).")
@click.option("--whatsapp", is_flag=True, help="Talk as a WhatsApp user instead of SMS.")
@with_appcontext
def chat(sender: str, member: str | None, to: str | None, whatsapp: bool) -> None:
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
    with hotline.db.session() as session:
        sites = all_sites(session)
        site = next(
            (s for s in sites if to and to.removeprefix("whatsapp:") in map(bare_number, s.numbers)), sites[0]
        )
        to = to or (site.numbers[0] if site.numbers else "+620000000000")
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
    role = "KK member: try KASUS, BANTUAN" if member else "resident"
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
    with hotline.db.session() as session:
        seen = queries.last_message_id(session)
    while not stop.wait(every):
        with hotline.db.session() as session:
            pushed = queries.pushed_to(session, number, after_id=seen)
        for message_id, body in pushed:
            seen = message_id
            click.echo(f"\n[hotline -> {number}]\n{body}\n> ", nl=False)


@main.group()
def flows() -> None:
    """Check and draw the conversation flows."""


@flows.command("check")
def flows_check() -> None:
    """Every state reachable, every message translated in every catalog, SMS text in GSM-7."""
    problems = check_flows()
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{len(FLOWS)} flows, {len(i18n.all_keys())} messages in {', '.join(i18n.LOCALES)}: ok")


@flows.command("graph")
@click.option("--out", type=click.Path(file_okay=False), default="docs/flows", show_default=True)
def flows_graph(out: str) -> None:
    """Write a Mermaid state diagram of each flow, generated from its definition."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, flow in FLOWS.items():
        path = folder / f"{name}.mmd"
        path.write_text(mermaid(flow), encoding="utf-8")
        click.echo(str(path))


@main.group()
def translate() -> None:
    """Babel catalogs in locales/."""


@translate.command("extract")
def translate_extract() -> None:
    """Write locales/messages.pot from the flow definitions."""
    click.echo(str(i18n.extract()))


@translate.command("update")
def translate_update() -> None:
    """Merge the template into every locale's messages.po."""
    for path in i18n.update():
        click.echo(str(path))


@translate.command("compile")
def translate_compile() -> None:
    """Compile every messages.po to messages.mo."""
    for path in i18n.compile_catalogs():
        click.echo(str(path))


main.add_command(members)
main.add_command(report)
main.add_command(purge)
main.add_command(export)
main.add_command(users)
