"""`GET /metrics` for a monitoring system: Prometheus text format, behind a bearer token.

Every figure is read when the scrape arrives (database, queue, spool), never counted in this
process, so each gunicorn worker answers the same. Labels hold job names and kinds of
unreachability, never a number, a name or a text. Without HOTLINE_METRICS_TOKEN the endpoint
does not exist (404); a missing or wrong token is 401."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from bot.runtime import Hotline
from storage import delivery, monitoring

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)
SPOOL = "hotline_spool"  # app.extensions key of the inbound spool, when there is one
# The text format every Prometheus-compatible scraper reads (what generate_latest writes here).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _by(name: str, doc: str, label: str, values: Mapping[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


class HotlineCollector(Collector):
    """The hotline's state at scrape time. A part that cannot be read (database or Redis down)
    says so in its `_up` gauge and leaves its other gauges out rather than report zeros."""

    def __init__(self, hotline: Hotline, extensions: Mapping[str, Any]) -> None:
        self.hotline = hotline
        self.extensions = extensions

    def collect(self) -> Iterator[Metric]:
        yield from self._database()
        yield from self._queue()
        yield from self._spool()

    def _database(self) -> Iterator[Metric]:
        up = self.hotline.db.ping()
        yield _gauge("hotline_database_up", "1 if the database answers, else 0.", int(up))
        if not up:
            return
        try:
            with self.hotline.work() as session:
                b = monitoring.backlog(session, self.hotline.clock())
        except Exception as exc:
            log.warning("metrics: database counts failed: %s", type(exc).__name__)
            return
        yield _by("hotline_outbox_open", "Outbox jobs not done yet, by job.", "job", b.outbox_open)
        yield _gauge(
            "hotline_outbox_due_for_push",
            "Outbox jobs never pushed or stuck past their time: what the sweeper pushes next.",
            b.outbox_due,
        )
        yield _gauge(
            "hotline_outbox_exhausted",
            f"Outbox jobs not done after {monitoring.MAX_ATTEMPTS} attempts: the sweeper gave up.",
            b.outbox_exhausted,
        )
        yield _gauge(
            "hotline_messages_stuck_handing",
            "Messages claimed by a send job more than "
            f"{int(delivery.HANDING_BOUND.total_seconds())} s ago and never handed to Twilio.",
            b.stuck_handing,
        )
        yield _gauge(
            "hotline_messages_pending",
            "Outbound messages waiting for their send job or the resident's safe time.",
            b.pending,
        )
        yield _gauge(
            "hotline_messages_failed_24h",
            "Outbound messages created in the last 24 hours that failed or were undelivered.",
            b.failed_recent,
        )
        yield _by(
            "hotline_members_unreachable",
            "Members flagged unreachable (opted out or bad number), by kind.",
            "kind",
            b.unreachable,
        )

    def _queue(self) -> Iterator[Metric]:
        queue = self.hotline.queue
        try:
            waiting, scheduled = queue.waiting(), queue.scheduled()  # every lane
        except Exception as exc:
            log.warning("metrics: queue counts failed: %s", type(exc).__name__)
            yield _gauge("hotline_queue_up", "1 if the job queue (Redis) answers, else 0.", 0)
            return
        yield _gauge("hotline_queue_up", "1 if the job queue (Redis) answers, else 0.", 1)
        yield _gauge("hotline_queue_jobs", "Jobs waiting in the queue for a worker.", waiting)
        yield _gauge(
            "hotline_queue_scheduled_jobs",
            "Jobs scheduled for later (deadline checks, retries, messages for a safe time).",
            scheduled,
        )

    def _spool(self) -> Iterator[Metric]:
        spool = self.extensions.get(SPOOL)
        try:
            size = int(spool.size()) if callable(getattr(spool, "size", None)) else 0
        except Exception as exc:
            log.warning("metrics: spool size failed: %s", type(exc).__name__)
            return
        yield _gauge(
            "hotline_spool_messages",
            "Inbound messages kept in the spool while the database could not take them.",
            size,
        )


def _bearer(header: str) -> bytes | None:
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        return None
    return value.encode("utf-8", "surrogateescape")


@bp.get("/metrics")
def metrics() -> Response:
    token = current_app.config.get("HOTLINE_METRICS_TOKEN")
    if not token:
        abort(404)
    given = _bearer(request.headers.get("Authorization", ""))
    if given is None or not hmac.compare_digest(given, str(token).encode("utf-8")):
        return Response(
            "unauthorized\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
            mimetype="text/plain",
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HotlineCollector(current_app.extensions["hotline"], current_app.extensions))
    return Response(
        generate_latest(registry), headers={"Cache-Control": "no-store"}, content_type=CONTENT_TYPE
    )
