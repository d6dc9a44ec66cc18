"""`hotline flows check|graph`: the conversation flows checked and drawn."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.domain import i18n
from bot.render import catalogs
from bot.render.flowdoc import check_flows, mermaid
from flows import FLOWS


@click.group("flows")
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
    click.echo(f"{len(FLOWS)} flows, {len(catalogs.all_keys())} messages in {', '.join(i18n.LOCALES)}: ok")


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
