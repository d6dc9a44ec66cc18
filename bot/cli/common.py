"""What every `hotline` command needs: the app's hotline, and a database that is ready for it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

import click
from flask import current_app

from bot.runtime import Hotline
from sitefiles.sites import read_sites
from storage.sites import has_sites, load_sites

FIRST_YEAR, LAST_YEAR = 2000, 2100  # the dates an operator can mean


class DateInRange(click.DateTime):
    """click.DateTime from FIRST_YEAR to LAST_YEAR: a year such as 0001 or 9999 is a typo, and
    overflows once moved into a site's time zone or a day further."""

    def __init__(self, formats: list[str] | None = None) -> None:
        super().__init__(formats or ["%Y-%m-%d"])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        moment = super().convert(value, param, ctx)
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            self.fail(f"{value!r}: a date from {FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31", param, ctx)
        return moment


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
