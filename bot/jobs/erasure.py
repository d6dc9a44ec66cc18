"""Deleting a resident's messages and media at Twilio after HAPUS or the purge.

`erase_at_twilio` commits in steps around the network calls, as `send_message` does: the run is
claimed in one transaction, Twilio is asked with none open, and the outcome is recorded in a
third. It lists the messages on each route the outbox row names (the resident's number, both
ways, on every site number, SMS and WhatsApp) created up to the erasure, adds the SIDs the
database knew, and deletes each one with its media. A message Twilio is still sending (20009),
a rate limit or a 5xx leaves it for the next run: the job raises, rq's Retry (or the in-process
queue) runs it again, then the sweeper, with longer waits; every run is idempotent (a message
already deleted answers 404). Done or given up, the row's arguments shrink to counts and an
audit row says what went. Logs carry counts and the row's id, never a number.
"""

from __future__ import annotations

import logging
from typing import cast

from bot.jobs.sending import RetryLater
from bot.jobs.transport import Eraser, SendError
from bot.runtime import Hotline
from storage import erasures
from storage.erasures import Erasure, Tally

log = logging.getLogger(__name__)


def erase_at_twilio(hotline: Hotline, outbox_id: int, **_: object) -> None:
    """The arguments stay in the outbox row: `erasures.claim` reads them there."""
    now = hotline.clock()
    with hotline.work() as session:
        erasure = erasures.claim(session, outbox_id)
    if erasure is None:
        return
    tally = delete_all(cast(Eraser, hotline.transport), erasure)
    with hotline.work() as session:
        outcome = erasures.settle(session, outbox_id, erasure, tally, now)
    log.info(
        "erasure at twilio, outbox row %s, attempt %s: %s messages and %s media deleted, %s gone "
        "before, %s left, %s routes unlisted (%s)",
        outbox_id,
        erasure.attempts,
        tally.messages,
        tally.media,
        tally.gone,
        len(tally.left),
        tally.unlisted,
        outcome,
    )
    if outcome == "gave_up":
        log.warning("erasure at twilio, outbox row %s: gave up, see the audit log", outbox_id)
    if outcome == "retry":
        raise RetryLater(tally.error or "pending")


def delete_all(transport: Eraser, erasure: Erasure) -> Tally:
    """One pass: list every route, then delete what was found and what the database knew."""
    tally = Tally()
    targets: dict[str, int | None] = dict.fromkeys(erasure.sids)  # SID -> media count, None: unknown
    for to, sender in erasure.routes:
        try:
            held = transport.held(to, sender)
        except SendError as exc:
            tally.unlisted += 1
            tally.error = _said(exc)
            continue
        for item in held:
            # Only what existed at the erasure: a new conversation since is someone's new data.
            if item.created is None or item.created <= erasure.before:
                targets[item.sid] = item.num_media
    for sid, num_media in targets.items():
        try:
            removed = transport.delete_message(sid, num_media)
        except SendError as exc:
            tally.left.append(sid)
            tally.error = _said(exc)
            continue
        if removed is None:
            tally.gone += 1
        else:
            tally.messages += 1
            tally.media += removed
    return tally


def _said(exc: SendError) -> str:
    return f"{exc.kind} {exc.code or exc.http_status or ''}".strip()
