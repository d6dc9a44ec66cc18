"""Queued work. Every job is an outbox row run by `run_outbox`, inside an app context (the rq
worker and the in-process queue both push one), and is idempotent: a row already done is
skipped, so a job pushed twice or re-pushed by the sweeper does nothing the second time. A job
that queues a message for now (an assignment's offer) sends it itself once committed; the
message's own outbox row stays its record (see `Hotline.job`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from flask import Flask, current_app

from bot.domain import duty, followup, service
from bot.jobs import erasure, sending
from bot.jobs.queue import RETRY_SECONDS
from bot.runtime import Hotline
from storage import outbox
from storage.db import UNAVAILABLE

log = logging.getLogger(__name__)
SWEEP_SECONDS = 15  # with the 45-second stuck bound: a lost job runs again within a minute

# Jobs that run inside one transaction with their outbox row: (session, hotline, now, **args).
HANDLERS: dict[str, Callable[..., None]] = {
    "assign_case": followup.assign_case,  # duty's, and a held case turned urgent is followed sooner
    "check_offer": duty.check_offer,
    "follow_up_check": followup.check,
    "send_fallback": sending.send_fallback,
}
# Jobs that commit in steps of their own (around a network call): (hotline, outbox_id, **args).
STEPPED: dict[str, Callable[..., None]] = {
    "send_message": sending.send_message,
    "erase_at_twilio": erasure.erase_at_twilio,
}


def run_outbox(outbox_id: int) -> None:
    """One transaction for a job of HANDLERS (its row read, locked and done in it); a STEPPED job
    only reads its row there and commits in steps of its own."""
    hotline: Hotline = current_app.extensions["hotline"]
    now = hotline.clock()
    try:
        # The first message the job queues for now (an offer) goes out in this same run.
        with hotline.work(send=partial(sending.send_message, hotline)) as session:
            row = outbox.locked(session, outbox_id)
            if row is None:
                return
            if row.job in STEPPED:
                stepped = row.job, dict(row.args)
            else:
                row.attempts += 1
                HANDLERS[row.job](session, hotline, now, **row.args)
                row.done_at, row.error = now, None
                return
    except Exception as exc:
        with hotline.work() as session:  # rq retries it; till then the sweeper leaves it be
            retry_at = now + timedelta(seconds=RETRY_SECONDS[0])
            outbox.record_failure(session, outbox_id, type(exc).__name__, retry_at)
        raise
    name, args = stepped
    STEPPED[name](hotline, outbox_id, **args)


def replay_spool(app: Flask) -> int:
    """Residents' messages the webhook spooled while the database was away, in arrival order."""
    hotline: Hotline = app.extensions["hotline"]
    spool = app.extensions["hotline_spool"]
    return spool.replay(lambda item: service.handle(hotline, service.Incoming.from_spool(item)), UNAVAILABLE)


def sweep(hotline: Hotline) -> int:
    """Push again what never reached the queue or never finished; returns how many."""
    return hotline.sweep()


def sweep_forever(app: Flask, stop: threading.Event, every: float = SWEEP_SECONDS) -> None:
    """The sweeper loop of worker.py, `hotline serve` and `hotline chat`: jobs that never reached
    the queue or died with a worker, and messages a dead worker left on their way to Twilio."""
    while not stop.wait(every):
        try:
            with app.app_context():
                hotline = app.extensions["hotline"]
                if n := sweep(hotline):
                    log.info("sweeper pushed %d outbox rows again", n)
                if n := sending.reconcile(hotline):
                    log.info("sweeper reconciled %d messages left handing", n)
                replay_spool(app)
        except Exception as exc:  # Redis or the database away: try again next round
            log.warning("sweep failed: %s", type(exc).__name__)
