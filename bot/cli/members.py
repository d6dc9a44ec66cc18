"""`hotline members ...`: load the members file, list who is on duty, enable or disable a member."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from bot.cli.common import DateInRange, current_hotline, ensure_ready
from sitefiles.members import DAY_ABBR, MembersFileError, format_shifts, read_members
from storage import sitetime
from storage.models import Member
from storage.roster import is_on_duty, known_sites, list_members, load_members, set_active, site_time


def _session():  # type: ignore[no-untyped-def]
    return current_hotline().work()


@click.group()
def members() -> None:
    """KK members, their areas and weekly duty shifts."""


@members.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def members_load(path: str) -> None:
    """Validate a members file against the loaded sites and load it (insert or update).

    Members no longer in the file are deactivated in the sites the file lists."""
    ensure_ready()
    with _session() as session:
        known = known_sites(session)
    try:
        specs = read_members(path, known)
    except MembersFileError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    with _session() as session:
        counts = load_members(session, specs)
    click.echo(
        f"loaded {counts['members']} members ({counts['added']} new), {counts['shifts']} shifts"
        + (f", {counts['deactivated']} members deactivated" if counts["deactivated"] else "")
    )


@members.command("list")
@click.option("--site", "prefix", default=None, help="Only this site, by prefix (e.g. PRE).")
@click.option("--area", default=None, help="Only this kelurahan/desa (name or alias).")
@click.option("--on-duty", is_flag=True, help="Only the members on duty at that time.")
@click.option(
    "--at",
    type=DateInRange(["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"]),
    default=None,
    help='Local time of the site, e.g. "2026-11-23 21:00" (default: now).',
)
@with_appcontext
def members_list(prefix: str | None, area: str | None, on_duty: bool, at: datetime | None) -> None:
    """Show members with role, area, channel and shifts; * marks those on duty."""
    ensure_ready()
    with _session() as session:
        found = list_members(session, prefix, area)
        if not found:
            click.echo("no members found; load them with: hotline members load members.toml")
            return
        by_site: dict[int, list[Member]] = {}
        for member in found:
            by_site.setdefault(member.site_id, []).append(member)
        for group in by_site.values():
            _print_site(group, at, on_duty)


def _print_site(group: list[Member], at: datetime | None, only_on_duty: bool) -> None:
    site = group[0].site
    # --at is the site's wall clock; without it, now.
    local = at.replace(tzinfo=sitetime.zone(site.timezone)) if at else site_time(site, datetime.now(UTC))
    day = DAY_ABBR[local.weekday()]
    click.echo(f"{site.prefix}  {site.name}  at {day} {local:%Y-%m-%d %H:%M} {local.tzname()}")
    rows = [(is_on_duty(m, local), m) for m in group]
    if only_on_duty:
        rows = [(duty, m) for duty, m in rows if duty]
        if not rows:
            click.echo("    nobody on duty")
    width = max((len(m.name) for _, m in rows), default=0)
    for duty, m in rows:
        role = m.role + (", backup" if m.backup else "")
        shifts = ", ".join(format_shifts((s.weekday, s.start_minute, s.end_minute) for s in m.shifts))
        state = "" if m.active else "  (inactive)"
        click.echo(
            f"  {'*' if duty else ' '} {m.name:{width}}  {m.phone:15}  {role:19}  "
            f"{m.area.name if m.area else '(whole site)':20}  {m.channel:8}  {shifts or '(no shifts)'}{state}"
        )


def _set_active(phone: str, prefix: str | None, active: bool) -> None:
    ensure_ready()
    with _session() as session:
        try:
            count = set_active(session, phone, active, prefix)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="PHONE") from None
    if not count:
        click.echo(f"no member has the number {phone}" + (f" in site {prefix}" if prefix else ""), err=True)
        sys.exit(1)
    click.echo(f"{'enabled' if active else 'disabled'} {count} member{'s' if count > 1 else ''}")


_SET_HELP = "Only in this site, by prefix (default: every site where the number is a member)."


@members.command("disable")
@click.argument("phone")
@click.option("--site", "prefix", default=None, help=_SET_HELP)
@with_appcontext
def members_disable(phone: str, prefix: str | None) -> None:
    """Stop asking this member (they keep their cases). The next load restores the file's state."""
    _set_active(phone, prefix, False)


@members.command("enable")
@click.argument("phone")
@click.option("--site", "prefix", default=None, help=_SET_HELP)
@with_appcontext
def members_enable(phone: str, prefix: str | None) -> None:
    """Ask this member again. The next load restores the file's state."""
    _set_active(phone, prefix, True)
