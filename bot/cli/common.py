"""What every `hotline` command needs: the app's hotline, and a database that is ready for it."""

from __future__ import annotations

from typing import NoReturn

import click
from flask import current_app

from bot.runtime import Hotline
from sitefiles.sites import read_sites
from storage.sites import has_sites, load_sites


def current_hotline() -> Hotline:
    return current_app.extensions["hotline"]


def ensure_ready(load_default_sites: bool = True) -> Hotline:
    """Migrations applied and, on a first run, the default sites file loaded."""
    hotline = current_hotline()
    hotline.db.upgrade()
    if load_default_sites:
        with hotline.work() as session:
            if not has_sites(session):
                load_sites(session, read_sites(current_app.config["HOTLINE_SITES"]))
    return hotline


def fail(message: str) -> NoReturn:
    """A clear message on standard error and exit status 1: no traceback for a person's mistake."""
    click.echo(message, err=True)
    raise SystemExit(1)
