"""The reference webhook: only what any Twilio webhook must do, in raw SQL on psycopg 3.

Check Twilio's signature, then in one transaction: make sure the sender's conversation row
exists, lock it (SELECT ... FOR UPDATE), insert the inbound message (ignored on a duplicate
MessageSid: a duplicate answers the stored reply), update the conversation, insert the reply;
commit and answer TwiML. One psycopg connection per thread, kept for the life of the thread.
Its tables live in a database of their own (`schema()` creates them).

    gunicorn <the Procfile's web options> 'bench.reference:create_app()'
    env: REFERENCE_DATABASE_URL (or DATABASE_URL), TWILIO_AUTH_TOKEN, PUBLIC_URL
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

import psycopg
from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

SCHEMA = """
CREATE TABLE IF NOT EXISTS ref_conversations (
    id serial PRIMARY KEY,
    sender text NOT NULL,
    site text NOT NULL,
    step integer NOT NULL DEFAULT 0,
    data jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (sender, site)
);
CREATE TABLE IF NOT EXISTS ref_messages (
    id bigserial PRIMARY KEY,
    sid text UNIQUE,
    conversation_id integer NOT NULL REFERENCES ref_conversations (id),
    direction text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ref_messages_conversation ON ref_messages (conversation_id);
"""
ENSURE = "INSERT INTO ref_conversations (sender, site) VALUES (%s, %s) ON CONFLICT DO NOTHING"
LOCK = "SELECT id, step FROM ref_conversations WHERE sender = %s AND site = %s FOR UPDATE"
INBOUND = (
    "INSERT INTO ref_messages (sid, conversation_id, direction, body) VALUES (%s, %s, 'in', %s) "
    "ON CONFLICT (sid) DO NOTHING RETURNING id"
)
STORED = "SELECT body FROM ref_messages WHERE sid = %s"
ADVANCE = (
    "UPDATE ref_conversations SET step = step + 1, data = data || jsonb_build_object(%s::text, %s::text), "
    "updated_at = now() WHERE id = %s"
)
REPLY = "INSERT INTO ref_messages (sid, conversation_id, direction, body) VALUES (%s, %s, 'out', %s)"
# About as long as the hotline's questions: the TwiML answer weighs what the hotline's weighs.
TEXT = (
    "Terima kasih, jawaban Anda sudah kami catat (langkah {step}). Pertanyaan berikutnya: apakah "
    "Anda sekarang di tempat yang aman? Balas 1 untuk ya, 2 untuk tidak. Ketik BATAL untuk berhenti."
)
LOCK_WAIT_MS = 10_000  # the hotline's own lock_timeout


def schema(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        DATABASE_URL=os.environ.get("REFERENCE_DATABASE_URL") or os.environ.get("DATABASE_URL"),
        TWILIO_AUTH_TOKEN=os.environ.get("TWILIO_AUTH_TOKEN"),
        PUBLIC_URL=os.environ.get("PUBLIC_URL", ""),
        CONNECTION_CLASS=psycopg.Connection,  # the statement count hands in a counting one
    )
    app.config.update(config or {})
    validator = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])
    local = threading.local()

    def connection() -> psycopg.Connection:
        conn = getattr(local, "conn", None)
        if conn is None or conn.closed:
            conn = local.conn = app.config["CONNECTION_CLASS"].connect(
                app.config["DATABASE_URL"], options=f"-c lock_timeout={LOCK_WAIT_MS}"
            )
        return conn

    @app.post("/twilio/messages")
    def inbound() -> Response:
        url = app.config["PUBLIC_URL"].rstrip("/") + request.full_path.rstrip("?")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(url, request.form, signature):
            abort(403)
        form = request.form
        sid, sender, to = form.get("MessageSid", ""), form.get("From", ""), form.get("To", "")
        if not (sid and sender and to):
            return Response("Bad request\n", status=400, mimetype="text/plain")
        reply = step(connection(), sid, sender, to, form.get("Body", ""))
        answer = MessagingResponse()
        answer.message(reply)
        return Response(str(answer), mimetype="application/xml")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    return app


def step(conn: psycopg.Connection, sid: str, sender: str, to: str, body: str) -> str:
    """One message in one transaction: five statements, then COMMIT."""
    try:
        with conn.cursor() as cur:
            cur.execute(ENSURE, (sender, to))
            conversation_id, done = cur.execute(LOCK, (sender, to)).fetchone()  # type: ignore[misc]
            if cur.execute(INBOUND, (sid, conversation_id, body)).fetchone() is None:  # seen before
                stored = cur.execute(STORED, ("re:" + sid,)).fetchone()
                conn.commit()
                return stored[0] if stored else ""
            cur.execute(ADVANCE, (f"a{done + 1}", body, conversation_id))
            reply = TEXT.format(step=done + 1)
            cur.execute(REPLY, ("re:" + sid, conversation_id, reply))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return reply
