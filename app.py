"""The Flask application factory: configuration, database, job queue, transport, routes."""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.domain import followup
from bot.jobs.queue import LocalQueue, RQQueue
from bot.jobs.transport import ConsoleTransport, TwilioTransport
from bot.runtime import Hotline, is_on
from storage.db import Database
from storage.spool import Spool

ROOT = Path(__file__).resolve().parent
KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_URL",
    "PUBLIC_URL",
    "SECRET_KEY",
    "HOTLINE_SITES",
    "HOTLINE_TRANSPORT",
    "HOTLINE_ALLOW_UNSIGNED",
    "HOTLINE_OFFER_MINUTES",
    "HOTLINE_OFFER_MINUTES_URGENT",
    "HOTLINE_RESUME_MINUTES",
    "HOTLINE_FOLLOW_UP_DAYS",
    "TWILIO_WA_TEMPLATE_SID",
    "HOTLINE_SMS_FALLBACK",
    "HOTLINE_TRUSTED_PROXIES",
    "HOTLINE_METRICS_TOKEN",
)
MAX_PROXIES = 10
MIN_METRICS_TOKEN = 16  # characters: a bearer token a scraper keeps, not a password to type


class ConfigError(RuntimeError):
    pass


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(
        DATABASE_URL=f"sqlite:///{Path(app.instance_path) / 'hotline.db'}",
        HOTLINE_SITES=str(ROOT / "sites.toml"),
        MAX_CONTENT_LENGTH=256 * 1024,  # a Twilio form post is a few KB
    )
    app.config.update({k: os.environ[k] for k in KEYS if os.environ.get(k)})
    app.config.update(config or {})
    for flag in ("HOTLINE_ALLOW_UNSIGNED", "HOTLINE_SMS_FALLBACK"):  # "1", "true", "on" from the env
        app.config[flag] = is_on(app.config.get(flag, ""))
    _check(app.config)
    # The client's address (the login throttle counts by it) is the socket's, unless proxies we
    # run append to X-Forwarded-For: then the entry the nearest of them wrote, never the client's.
    app.config["HOTLINE_TRUSTED_PROXIES"] = proxies = int(app.config.get("HOTLINE_TRUSTED_PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)  # type: ignore[method-assign]
    app.config.setdefault("SECRET_KEY", None)
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or _instance_secret(Path(app.instance_path))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=str(app.config.get("PUBLIC_URL", "")).startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    db = Database(app.config["DATABASE_URL"])
    hotline = Hotline(db=db, queue=_queue(app), transport=_transport(app.config), config=app.config)
    app.extensions["hotline"] = hotline
    # Inbound messages the database could not take wait here (Redis, else the instance folder).
    redis = getattr(getattr(hotline.queue, "queue", None), "connection", None)
    app.extensions["hotline_spool"] = Spool(Path(app.instance_path) / "spool", redis)

    from bot.web import console, metrics
    from bot.web.webhook import bp

    app.register_blueprint(bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(metrics.bp)  # GET /metrics, only with HOTLINE_METRICS_TOKEN
    csrf = CSRFProtect(app)  # every console form; Twilio's posts are signed instead
    csrf.exempt(bp)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        spooled = app.extensions["hotline_spool"].size()  # residents' messages not yet handled
        if not hotline.db.ping():
            return jsonify(status="error", database="unreachable", spool=spooled), 503
        return jsonify(status="replaying" if spooled else "ok", spool=spooled)

    return app


def _check(config: Mapping[str, Any]) -> None:
    if config.get("HOTLINE_ALLOW_UNSIGNED") and config.get("TWILIO_AUTH_TOKEN"):
        raise ConfigError(
            "HOTLINE_ALLOW_UNSIGNED is for local development only and is refused while "
            "TWILIO_AUTH_TOKEN is set: unset one of them."
        )
    transport = config.get("HOTLINE_TRANSPORT")
    if transport not in (None, "", "twilio", "console"):
        raise ConfigError(f"HOTLINE_TRANSPORT must be 'twilio' or 'console', not {transport!r}")
    if transport == "twilio" and not (config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")):
        raise ConfigError("HOTLINE_TRANSPORT=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
    for key in ("HOTLINE_OFFER_MINUTES", "HOTLINE_OFFER_MINUTES_URGENT", "HOTLINE_RESUME_MINUTES"):
        try:
            if config.get(key) is not None and float(config[key]) <= 0:
                raise ValueError
        except ValueError:
            raise ConfigError(f"{key} must be a number of minutes above 0, not {config[key]!r}") from None
    try:
        followup.configured_days(config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    proxies = config.get("HOTLINE_TRUSTED_PROXIES")
    text = "" if proxies is None else str(proxies).strip()  # True is "True": refused too
    if text and not (text.isascii() and text.isdigit() and int(text) <= MAX_PROXIES):
        raise ConfigError(
            f"HOTLINE_TRUSTED_PROXIES must be the number of proxies in front of the web process, "
            f"0 to {MAX_PROXIES} (1 behind one proxy), not {proxies!r}"
        )
    token = config.get("HOTLINE_METRICS_TOKEN")
    if token not in (None, "") and not (
        isinstance(token, str)
        and len(token) >= MIN_METRICS_TOKEN
        and token.isascii()
        and token.isprintable()
        and " " not in token
    ):
        raise ConfigError(
            f"HOTLINE_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} printable ASCII characters "
            "without spaces, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    if config.get("TWILIO_AUTH_TOKEN") and not config.get("PUBLIC_URL"):
        logging.getLogger(__name__).warning(
            "PUBLIC_URL is not set: signatures are checked against the request URL, which "
            "fails behind a TLS proxy"
        )


def _instance_secret(folder: Path) -> str:
    """Without SECRET_KEY, one made once and kept in the instance folder (readable by us only),
    so sessions survive restarts and every gunicorn worker shares it. Created with O_EXCL: two
    workers starting together agree on one key."""
    path = folder / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the other worker may be writing it this instant
            if key := path.read_text(encoding="utf-8").strip():
                return key
            time.sleep(0.02)
        raise ConfigError(f"{path} is empty: delete it or set SECRET_KEY") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


def _transport(config: Mapping[str, Any]):  # type: ignore[no-untyped-def]
    sid, token = config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN")
    kind = config.get("HOTLINE_TRANSPORT") or ("twilio" if sid and token else "console")
    if kind == "twilio":
        return TwilioTransport(sid, token, base_url=config.get("TWILIO_API_URL"))
    return config.get("HOTLINE_CONSOLE") or ConsoleTransport()


def _queue(app: Flask):  # type: ignore[no-untyped-def]
    if app.config.get("HOTLINE_QUEUE") is not None:  # tests hand in their own
        return app.config["HOTLINE_QUEUE"]
    if url := app.config.get("REDIS_URL"):
        from redis import Redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # Short timeouts and no retries: a Redis outage must not hold a webhook (Twilio waits 15
        # seconds); the outbox keeps the job and the sweeper pushes it later.
        no_retry = Retry(NoBackoff(), 0)
        return RQQueue(Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, retry=no_retry))

    def run(outbox_id: int) -> None:
        from bot.jobs.runner import run_outbox

        with app.app_context():
            run_outbox(outbox_id)

    return LocalQueue(run)
