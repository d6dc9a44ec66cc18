"""`hotline serve`: everything in one process on the embedded defaults."""

from __future__ import annotations

import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from bot.cli.common import current_hotline, ensure_ready
from bot.jobs import runner as jobs
from bot.jobs.queue import LocalQueue


@click.command('serve')
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
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
