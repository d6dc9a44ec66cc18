"""`hotline purge`: retention; the personal data of old finished cases erased (storage.cases.purge)."""

from __future__ import annotations

import re
from datetime import timedelta

import click
from flask.cli import with_appcontext

from bot.cli.common import ensure_ready, fail
from storage import cases
from storage import practice as practice_cases

MIN_RETENTION = timedelta(days=30)  # a typo such as "1d" must not wipe last week's cases
MAX_RETENTION = timedelta(days=100 * 365)  # beyond it the cutoff date overflows
_UNITS = {"d": 1, "w": 7, "y": 365}


def parse_period(value: str) -> timedelta:
    """ "365d", "52w", "1y" (365 days); a bare number is days. At most MAX_RETENTION."""
    match = re.fullmatch(r"\s*(\d+)\s*([dwy]?)\s*", value.lower())
    if not match:
        raise ValueError(
            f"--older-than must be a number of days, weeks or years: 365d, 52w, 1y (got {value!r})"
        )
    digits, unit = match.group(1).lstrip("0") or "0", match.group(2) or "d"
    if len(digits) > 6 or int(digits) * _UNITS[unit] > MAX_RETENTION.days:
        most = MAX_RETENTION.days
        raise ValueError(f"--older-than must be at most {most // 365}y ({most}d) (got {value!r})")
    return timedelta(days=int(digits) * _UNITS[unit])


@click.command("purge")
@click.option("--older-than", "older_than", default=None, help="e.g. 365d, 52w or 1y (at least 30d).")
@click.option("--practice", is_flag=True, help="Erase the practice (role-play) cases instead.")
@click.option("--dry-run", is_flag=True, help="Count what would be erased; change nothing.")
@with_appcontext
def purge(older_than: str | None, practice: bool, dry_run: bool) -> None:
    """Erase the personal data of cases closed or cancelled longer ago than the period (numbers,
    names, NIK, texts, notes), keeping the anonymous counts; recorded in the audit log.

    A resident's number goes only when none of their cases is open or recent and they have not
    written since; their old cases are anonymised either way.

    With --practice: the cases reported from practice numbers, their messages, and the numbers
    of contacts that only have practice cases, erased (storage.practice.purge)."""
    if practice:
        if older_than is not None:
            fail("give either --older-than or --practice, not both")
        _purge_practice(dry_run)
        return
    if older_than is None:
        fail("--older-than is required (or --practice)")
    try:
        period = parse_period(older_than)
    except ValueError as exc:
        fail(str(exc))
    if period < MIN_RETENTION:
        fail(f"--older-than must be at least {MIN_RETENTION.days}d")
    hotline = ensure_ready()
    with hotline.work() as session:
        counts = cases.purge(session, older_than=period, now=hotline.clock(), dry_run=dry_run)
    verb = "would erase" if dry_run else "erased"
    click.echo(
        f"{'dry run: ' if dry_run else ''}cases closed before {counts['cutoff'][:10]}: {verb} "
        f"{counts['cases']} cases, {counts['messages']} messages, {counts['notes']} notes, "
        f"{counts['contacts']} contacts' numbers "
        f"({counts['contacts_kept']} kept: an open or recent case, or wrote since)"
        + ("; nothing changed" if dry_run else "")
    )


def _purge_practice(dry_run: bool) -> None:
    hotline = ensure_ready()
    with hotline.work() as session:
        counts = practice_cases.purge(session, now=hotline.clock(), dry_run=dry_run)
    verb = "would erase" if dry_run else "erased"
    click.echo(
        f"{'dry run: ' if dry_run else ''}practice: {verb} {counts['cases']} cases, "
        f"{counts['messages']} messages, {counts['contacts']} contacts' numbers (only practice cases)"
        + ("; nothing changed" if dry_run else "")
    )
