"""What every `hotline` command needs: the app's hotline, and a database that is ready for it."""

from __future__ import annotations

from flask import current_app

from bot.runtime import Hotline
from storage.sites import has_sites, load_sites
from storage.sitesfile import read_sites


def current_hotline() -> Hotline:
    return current_app.extensions["hotline"]


def ensure_ready(load_default_sites: bool = True) -> Hotline:
    """Migrations applied and, on a first run, the default sites file loaded."""
    hotline = current_hotline()
    hotline.db.upgrade()
    if load_default_sites:
        with hotline.db.session() as session:
            if not has_sites(session):
                load_sites(session, read_sites(current_app.config["HOTLINE_SITES"]))
    return hotline
